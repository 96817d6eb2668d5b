"""Feed contents, parsed back with icalendar: events, stable UIDs, SEQUENCE, cancellations,
UTC times across daylight saving, and what never appears."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from crewline.calendars.services import calendar_feed_create, calendar_feed_revoke
from crewline.core.models import Role
from crewline.factories import CustomerFactory, MemberFactory, SiteFactory
from crewline.workorders.services import (
    visit_add,
    visit_cancel,
    visit_schedule,
    work_order_create,
)

from .conftest import events, fetch, local


def test_it_publishes_a_technicians_visit(client, visit, tech_feed, settings):
    settings.SITE_URL = "https://crew.example.com"
    _feed, token = tech_feed
    cal = fetch(client, token)
    assert str(cal["X-WR-CALNAME"]) == "Northside Heating & Air — Tara Tech"
    event = events(cal)[f"visit-{visit.pk}@crew.example.com"]
    wo = visit.work_order
    assert str(event["SUMMARY"]) == f"{wo.reference} Boiler service — Maple Dental"
    assert event.decoded("DTSTART") == visit.start.astimezone(dt.UTC)
    assert event.decoded("DTEND") == visit.end.astimezone(dt.UTC)
    assert event["DTSTART"].to_ical().endswith(b"Z")
    assert str(event["LOCATION"]) == "12 Maple Ave, Chicago, IL 60601"
    assert event["GEO"].latitude == pytest.approx(41.881832)
    assert event["GEO"].longitude == pytest.approx(-87.623177)
    description = str(event["DESCRIPTION"])
    assert "Customer phone: 312-555-0142" in description
    assert "Access: Key safe 4411, park at the back" in description
    assert "Check the flue." in description
    # The technician's link opens the visit in their app: the office page is closed to them.
    assert f"https://crew.example.com/field/?visit={visit.pk}" in description
    assert str(event["URL"]) == f"https://crew.example.com/field/?visit={visit.pk}"
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("LAST-MODIFIED") == visit.updated_at.replace(microsecond=0)
    assert "DTSTAMP" in event


def test_it_keeps_the_uid_and_raises_the_sequence_when_a_visit_moves(client, visit, office,
                                                                     tech_feed):
    _feed, token = tech_feed
    before = events(fetch(client, token))
    new_start = visit.start + dt.timedelta(hours=3)
    visit_schedule(visit=visit, start=new_start, end=visit.end + dt.timedelta(hours=3),
                   by=office, override=True)
    after = events(fetch(client, token))
    assert list(after) == list(before)
    event = next(iter(after.values()))
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == new_start


def test_it_keeps_cancelled_visits_marked_cancelled(client, visit, office, tech_feed):
    _feed, token = tech_feed
    visit_cancel(visit=visit, by=office, reason="Customer away")
    event = next(iter(events(fetch(client, token)).values()))
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]).startswith("Cancelled: ")
    assert event["SEQUENCE"] == 1


def test_it_shows_a_technician_only_their_own_visits(client, visit, work_order, office,
                                                     org, tech_feed):
    sam = MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Sam Spanner")
    theirs = visit_add(work_order=work_order, by=office, start=visit.start, end=visit.end,
                       crew=[sam], override=True)
    _feed, token = tech_feed
    uids = set(events(fetch(client, token)))
    assert uids == {f"visit-{visit.pk}@127.0.0.1"}
    assert f"visit-{theirs.pk}@127.0.0.1" not in uids


def test_it_shows_the_office_every_visit_with_its_crew(client, visit, work_order, office, org,
                                                       office_feed):
    sam = MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Sam Spanner")
    unassigned = visit_add(work_order=work_order, by=office, start=visit.start, end=visit.end,
                           crew=[sam], override=True)
    _feed, token = office_feed
    found = events(fetch(client, token))
    assert set(found) == {f"visit-{visit.pk}@127.0.0.1", f"visit-{unassigned.pk}@127.0.0.1"}
    assert str(found[f"visit-{visit.pk}@127.0.0.1"]["SUMMARY"]).endswith("(Tara Tech)")
    assert "Crew: Sam Spanner" in str(found[f"visit-{unassigned.pk}@127.0.0.1"]["DESCRIPTION"])


def test_it_never_shows_another_organizations_visits(client, visit, office_feed, other_org,
                                                     outsider):
    customer = CustomerFactory(organization=other_org, name="Rival's customer")
    wo = work_order_create(organization=other_org, by=outsider, customer=customer,
                           site=SiteFactory(customer=customer), title="Secret job")
    visit_add(work_order=wo, by=outsider, start=visit.start, end=visit.end, crew=[outsider],
              override=True)
    _feed, token = office_feed
    body = fetch(client, token).to_ical().decode()
    assert "Secret job" not in body
    assert len(events(fetch(client, token))) == 1
    _theirs, their_token = calendar_feed_create(organization=other_org, member=None,
                                                by=outsider)
    assert "Boiler service" not in fetch(client, their_token).to_ical().decode()


def test_it_covers_a_month_back_and_six_months_ahead(client, work_order, office, technician,
                                                     tech_feed):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    made = {}
    for label, days in {"old": -40, "recent": -20, "soon": 170, "far": 190}.items():
        start = now + dt.timedelta(days=days)
        made[label] = visit_add(work_order=work_order, by=office, start=start,
                                end=start + dt.timedelta(hours=1), crew=[technician],
                                override=True)
    _feed, token = tech_feed
    uids = set(events(fetch(client, token)))
    assert uids == {f"visit-{made[k].pk}@127.0.0.1" for k in ("recent", "soon")}


def test_it_gives_utc_times_across_daylight_saving_in_chicago(client, work_order, office,
                                                              technician, tech_feed):
    # 9:00 in Chicago is 14:00 UTC in summer (CDT) and 15:00 UTC after the clocks go back.
    with time_machine.travel(local(2026, 10, 20, 8), tick=False):
        summer = visit_add(work_order=work_order, by=office, start=local(2026, 10, 30, 9),
                           end=local(2026, 10, 30, 10), crew=[technician], override=True)
        winter = visit_add(work_order=work_order, by=office, start=local(2026, 11, 3, 9),
                           end=local(2026, 11, 3, 10), crew=[technician], override=True)
        across = visit_add(work_order=work_order, by=office, start=local(2026, 10, 31, 23),
                           end=local(2026, 11, 1, 3), crew=[technician], override=True)
        _feed, token = tech_feed
        found = events(fetch(client, token))
    assert found[f"visit-{summer.pk}@127.0.0.1"]["DTSTART"].to_ical() == b"20261030T140000Z"
    assert found[f"visit-{winter.pk}@127.0.0.1"]["DTSTART"].to_ical() == b"20261103T150000Z"
    # The night the clocks go back has an extra hour: 23:00 CDT to 03:00 CST is five hours.
    night = found[f"visit-{across.pk}@127.0.0.1"]
    assert night["DTSTART"].to_ical() == b"20261101T040000Z"
    assert night["DTEND"].to_ical() == b"20261101T090000Z"


def test_it_refuses_a_revoked_token(client, visit, org, technician, tech_feed):
    _feed, token = tech_feed
    calendar_feed_revoke(organization=org, member=technician, by=technician)
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_it_serves_a_regenerated_token_and_refuses_the_old(client, visit, org, technician,
                                                           tech_feed):
    _feed, old = tech_feed
    _new_feed, new = calendar_feed_create(organization=org, member=technician, by=technician)
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert len(events(fetch(client, new))) == 1


def test_it_refuses_unknown_tokens(client, visit, tech_feed):
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    assert client.get("/calendar/.ics").status_code == 404


def test_it_refuses_the_feed_of_a_member_who_left(client, visit, technician, tech_feed):
    technician.is_active = False
    technician.save()
    assert client.get(f"/calendar/{tech_feed[1]}.ics").status_code == 404


def test_it_stores_only_the_tokens_hash(tech_feed):
    feed, token = tech_feed
    assert token not in feed.token_hash
    import hashlib

    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_it_serves_a_feed_in_constant_queries(client, work_order, office, technician,
                                              tech_feed, django_assert_max_num_queries):
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    visit_add(work_order=work_order, by=office, start=start, end=start + dt.timedelta(hours=1),
              crew=[technician], override=True)
    _feed, token = tech_feed
    with django_assert_max_num_queries(5) as few:
        client.get(f"/calendar/{token}.ics")
    for i in range(20):
        s = start + dt.timedelta(days=i + 1)
        visit_add(work_order=work_order, by=office, start=s, end=s + dt.timedelta(hours=1),
                  crew=[technician], override=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        cal = fetch(client, token)
    assert len(events(cal)) == 21


def test_it_asks_calendars_to_refresh_every_15_minutes_as_durations(client, visit, tech_feed):
    _feed, token = tech_feed
    body = client.get(f"/calendar/{token}.ics").content
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n" in body
    assert b"\r\nX-PUBLISHED-TTL:PT15M\r\n" in body
    assert b"0:15:00" not in body


def test_its_office_feed_links_to_the_work_order_page(client, visit, office_feed, settings):
    settings.SITE_URL = "https://crew.example.com"
    _feed, token = office_feed
    event = next(iter(events(fetch(client, token)).values()))
    assert str(event["URL"]) == (
        f"https://crew.example.com/work-orders/{visit.work_order.number}/")


def test_a_technicians_event_link_opens_for_them(client, tech_client, visit, tech_feed):
    _feed, token = tech_feed
    event = next(iter(events(fetch(client, token)).values()))
    path = str(event["URL"]).removeprefix("http://127.0.0.1:8000")
    assert path == f"/field/?visit={visit.pk}" and "#" not in path
    assert tech_client.get(path).status_code == 200
    # Not logged in on that phone yet: the login keeps the visit to open afterwards.
    login = client.get(path)
    assert login.status_code == 302
    assert login["Location"] == f"/login/?next=/field/%3Fvisit%3D{visit.pk}"
