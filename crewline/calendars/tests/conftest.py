from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from icalendar import Calendar

from crewline.calendars.services import calendar_feed_create
from crewline.factories import CustomerFactory, SiteFactory
from crewline.workorders.services import visit_add, work_order_create

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHICAGO)


@pytest.fixture
def site(org):
    customer = CustomerFactory(organization=org, name="Maple Dental", phone="312-555-0142")
    return SiteFactory(customer=customer, address_line1="12 Maple Ave", city="Chicago",
                       region="IL", postal_code="60601", latitude="41.881832",
                       longitude="-87.623177", access_notes="Key safe 4411, park at the back")


@pytest.fixture
def work_order(org, office, site):
    return work_order_create(organization=org, by=office, customer=site.customer, site=site,
                             title="Boiler service", instructions="Check the flue.")


@pytest.fixture
def visit(work_order, office, technician):
    return visit_add(work_order=work_order, by=office, start=dt.datetime.now(CHICAGO).replace(
        microsecond=0) + dt.timedelta(days=2), end=dt.datetime.now(CHICAGO).replace(
        microsecond=0) + dt.timedelta(days=2, hours=1), crew=[technician], override=True)


@pytest.fixture
def tech_feed(org, technician):
    return calendar_feed_create(organization=org, member=technician, by=technician)


@pytest.fixture
def office_feed(org, office):
    return calendar_feed_create(organization=org, member=None, by=office)


def fetch(client, token: str) -> Calendar:
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(cal: Calendar) -> dict[str, object]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}
