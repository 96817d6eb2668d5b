from __future__ import annotations

from decimal import Decimal

import pytest

from crewline.billing import services
from crewline.billing.models import ItemKind
from crewline.factories import SiteFactory, WorkOrderFactory
from crewline.workorders import timeline
from crewline.workorders.models import Status, Visit, VisitStatus


@pytest.fixture
def site(org):
    return SiteFactory(customer__organization=org, customer__name="Maple Dental",
                       customer__email="billing@maple.example")


@pytest.fixture
def filter_item(org, owner):
    return services.price_item_create(organization=org, by=owner, code="FLT-16", name="Filter",
                                      kind=ItemKind.MATERIAL, unit="each",
                                      unit_price=Decimal("12.50"), tax_rate=Decimal("8.25"))


@pytest.fixture
def call_item(org, owner):
    return services.price_item_create(organization=org, by=owner, code="CALL",
                                      name="Service call", unit="visit",
                                      unit_price=Decimal("95"))


@pytest.fixture
def completed_wo(org, site):
    return WorkOrderFactory(organization=org, customer=site.customer, site=site,
                            status=Status.COMPLETED, title="Boiler service")


def _visit(work_order, member) -> Visit:
    """The work order's visit (done), with ``member`` on its crew: where its labor and parts
    were recorded."""
    visit = work_order.visits.first() or Visit.objects.create(
        organization_id=work_order.organization_id, work_order=work_order,
        status=VisitStatus.DONE)
    visit.crew.add(member)
    return visit


def add_labor(work_order, member, minutes, description=""):
    """Labor as the phone records it (``labor_set`` by the member)."""
    return timeline.labor_set(visit=_visit(work_order, member), by=member, minutes=minutes,
                              description=description)


def add_part(work_order, member, *, quantity, **fields):
    """A part as the phone records it (``part_add`` by the member)."""
    return timeline.part_add(visit=_visit(work_order, member), by=member,
                             quantity=Decimal(str(quantity)), **fields)
