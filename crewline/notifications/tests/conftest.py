from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from crewline.core.models import Role
from crewline.factories import CustomerFactory, MemberFactory, SiteFactory, WorkOrderFactory
from crewline.workorders.models import Visit, VisitStatus
from crewline.workorders.signals import visit_changed

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHICAGO)


@pytest.fixture
def second_tech(org):
    return MemberFactory(organization=org, role=Role.TECHNICIAN, user__email="sam@example.com",
                         user__full_name="Sam Spanner")


@pytest.fixture
def visit(org, technician):
    """WO-1042 at Maple Dental, Tue 24 Nov 2026 09:00–10:00 in Chicago, crew: the technician.

    Made directly (no service) so that only the changes a test sends are notified."""
    customer = CustomerFactory(organization=org, name="Maple Dental")
    site = SiteFactory(customer=customer)
    wo = WorkOrderFactory(customer=customer, site=site, number=1042, title="Boiler service")
    v = Visit.objects.create(organization=org, work_order=wo, start=local(2026, 11, 24, 9),
                             end=local(2026, 11, 24, 10))
    v.crew.set([technician])
    return v


def state(visit: Visit, **changes) -> dict:
    values = {"start": visit.start, "end": visit.end,
              "crew": sorted(visit.crew.values_list("pk", flat=True)),
              "status": visit.status}
    values.update(changes)
    return values


def change(visit: Visit, *, by, change: str, **after) -> None:
    """Apply ``after`` to the visit as the scheduling services would, and send the signal."""
    before = {} if change == "added" else state(visit)
    crew = after.pop("crew", None)
    for name, value in after.items():
        setattr(visit, name, value)
    if "status" in after and after["status"] not in VisitStatus.values:
        raise ValueError(after["status"])
    visit.sequence += 1
    visit.save()
    if crew is not None:
        visit.crew.set(crew)
    visit_changed.send(sender=Visit, visit=visit, by=by, change=change, before=before,
                       after=state(visit))
