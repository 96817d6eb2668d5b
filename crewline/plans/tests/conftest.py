from __future__ import annotations

import datetime as dt

import pytest

from crewline.core.models import Role
from crewline.factories import CustomerFactory, MemberFactory, SiteFactory, SkillFactory
from crewline.plans.services import plan_create


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, name="Lakeview Dental")


@pytest.fixture
def site(customer):
    return SiteFactory(customer=customer, address_line1="12 Lake St")


@pytest.fixture
def tech2(org):
    return MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Ben Boiler")


@pytest.fixture
def skill(org):
    return SkillFactory(organization=org, name="Gas safe")


@pytest.fixture
def make_plan(org, office, customer, site):
    """A plan of ``customer`` at ``site`` created by ``office``; keyword arguments override."""

    def make(**kwargs):
        values = {
            "organization": org, "by": office, "customer": customer, "site": site,
            "name": "Quarterly HVAC service", "rrule": "FREQ=MONTHLY;INTERVAL=3",
            "start_date": dt.date(2025, 1, 6), "start_time": dt.time(9, 0),
            "duration_minutes": 90,
        }
        values.update(kwargs)
        return plan_create(**values)

    return make
