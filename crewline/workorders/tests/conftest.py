from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crewline.factories import CustomerFactory, SiteFactory
from crewline.workorders.models import JobType
from crewline.workorders.services import work_order_create


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, name="Maple Street Dental", phone="312-555-0142")


@pytest.fixture
def site(customer):
    return SiteFactory(customer=customer, address_line1="1200 Maple St",
                       access_notes="Key safe by the back door, code 4471")


@pytest.fixture
def job_type(org):
    return JobType.objects.create(organization=org, name="Boiler service")


@pytest.fixture
def make_wo(org, office, customer, site):
    """Raise a work order through the service, as the office would."""

    def make(**kwargs):
        kwargs.setdefault("title", "No heat in the waiting room")
        kwargs.setdefault("customer", customer)
        kwargs.setdefault("site", site)
        return work_order_create(organization=kwargs.pop("organization", org), by=office,
                                 **kwargs)

    return make


@pytest.fixture
def soon():
    """A visit window on the next weekday at 15:00 UTC (09:00 or 10:00 in Chicago), inside
    business hours so that adding a crewed visit raises no scheduling conflict."""
    start = (timezone.now() + dt.timedelta(days=1)).replace(hour=15, minute=0, second=0,
                                                             microsecond=0)
    while start.weekday() >= 5:
        start += dt.timedelta(days=1)
    return start, start + dt.timedelta(hours=2)
