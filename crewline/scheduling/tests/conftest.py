from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from crewline.core.models import Role
from crewline.factories import CustomerFactory, MemberFactory, SiteFactory, WorkOrderFactory
from crewline.workorders.models import Visit

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")

# Chicago Loop and Evanston: about 19 km apart, so about 39 minutes with the buffer.
LOOP = (41.878100, -87.629800)
EVANSTON = (42.045100, -87.687700)


def at(year: int, month: int, day: int, hour: int, minute: int = 0,
       tz: zoneinfo.ZoneInfo = CHICAGO) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=tz)


@pytest.fixture
def tara(org):
    return MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Tara Nguyen")


@pytest.fixture
def sam(org):
    return MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Sam Lee")


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, name="Maple Street Dental")


@pytest.fixture
def loop_site(customer):
    return SiteFactory(customer=customer, address_line1="1 Loop Plaza", latitude=LOOP[0],
                       longitude=LOOP[1])


@pytest.fixture
def evanston_site(customer):
    return SiteFactory(customer=customer, address_line1="2 Church St", latitude=EVANSTON[0],
                       longitude=EVANSTON[1])


@pytest.fixture
def make_visit(org, customer, loop_site):
    """Insert a visit directly (no conflict checks): the situation a test starts from."""

    def make(start=None, end=None, crew=(), site=None, status="scheduled", work_order=None,
             number=None):
        if work_order is None:
            kwargs = {"number": number} if number else {}
            work_order = WorkOrderFactory(organization=org, customer=customer,
                                          site=site or loop_site, **kwargs)
        visit = Visit.objects.create(organization=org, work_order=work_order, start=start,
                                     end=end, status=status)
        visit.crew.set(crew)
        return visit

    return make
