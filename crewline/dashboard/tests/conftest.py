from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from crewline.factories import CustomerFactory, SiteFactory
from crewline.workorders.services import visit_add, work_order_create

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    """A wall-clock time in Chicago, the test organization's zone, in November 2026."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHICAGO)


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, name="Maple Street Dental")


@pytest.fixture
def site(customer):
    return SiteFactory(customer=customer, address_line1="1200 Maple St")


@pytest.fixture
def make_work_order(org, office, customer, site):
    def make(title: str = "No heat", **kwargs):
        return work_order_create(organization=org, by=office, customer=customer, site=site,
                                 title=title, **kwargs)

    return make


@pytest.fixture
def make_visit(make_work_order, office):
    """A visit from ``start`` to ``end`` for ``crew`` (conflicts overridden)."""

    def make(*, start: dt.datetime | None, end: dt.datetime | None, crew=(), wo=None):
        wo = wo or make_work_order()
        return visit_add(work_order=wo, by=office, start=start, end=end, crew=crew,
                         override=True)

    return make
