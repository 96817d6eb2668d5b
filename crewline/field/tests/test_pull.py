"""Pull: a full snapshot first, then only what changed after the cursor; only the visits this
technician may see; small enough for a phone on a poor connection."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone

from crewline.core.models import Role
from crewline.factories import EquipmentFactory, MemberFactory, SiteFactory
from crewline.field.models import FieldSettings
from crewline.field.services import field_settings_update
from crewline.field.tests.conftest import b64, jpeg_bytes, new_id, sha, today_at
from crewline.workorders.models import Visibility
from crewline.workorders.services import (
    note_add,
    visit_cancel,
    visit_schedule,
    work_order_update,
)

pytestmark = pytest.mark.django_db


def _later(minutes=1):
    """Past the cursor's settling time, so that the cursor moves on."""
    return time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes), tick=True)


def test_it_sends_a_full_snapshot_of_the_technicians_next_days(phone, make_visit, technician,
                                                               org, site):
    EquipmentFactory(site=site, name="Boiler", manufacturer="Vaillant")
    mine_today = make_visit(crew=[technician], title="Boiler service")
    mine_day3 = make_visit(crew=[technician], days=3)
    make_visit(crew=[technician], days=4)  # beyond the window
    make_visit(crew=[technician], days=-1)  # yesterday
    someone = MemberFactory(organization=org, role=Role.TECHNICIAN)
    make_visit(crew=[someone])  # not theirs
    wo = mine_today.work_order
    wo.equipment.set(site.equipment.all())
    response = phone.pull()
    assert response.status_code == 200
    payload = response.json()
    assert payload["full"] is True
    assert payload["visit_ids"] == [mine_today.pk, mine_day3.pk]
    first = payload["visits"][0]
    assert first["work_order"]["title"] == "Boiler service"
    assert first["work_order"]["customer"] == {"id": wo.customer_id, "name": "Maple Street Dental",
                                               "phone": "312-555-0142"}
    assert first["work_order"]["equipment"][0]["name"] == "Boiler"
    assert first["crew"] == [{"id": technician.pk, "name": technician.name}]
    site_payload = payload["sites"][str(site.pk)]
    assert site_payload["access_notes"] == "Key safe by the back door, code 4471"
    assert payload["last_seq"] == 0 and payload["rejected"] == []
    assert payload["clock"] == {"shift": None, "break": None}


def test_it_lets_technicians_see_all_when_the_organization_allows(phone, make_visit, org):
    someone = MemberFactory(organization=org, role=Role.TECHNICIAN)
    theirs = make_visit(crew=[someone])
    assert phone.pull().json()["visit_ids"] == []
    FieldSettings.objects.create(organization=org, technicians_see_all=True)
    assert phone.pull().json()["visit_ids"] == [theirs.pk]


def test_it_sends_only_what_changed_after_the_cursor(phone, make_visit, technician, office):
    # Tomorrow, so that the minutes the test moves the clock never carry "today" past midnight.
    one = make_visit(crew=[technician], hour=8, days=1)
    two = make_visit(crew=[technician], hour=13, days=1)
    with _later():
        cursor = phone.pull().json()["cursor"]
    with _later(2):
        nothing = phone.pull(cursor).json()
        assert nothing["full"] is False and nothing["visits"] == []
        assert nothing["visit_ids"] == [one.pk, two.pk]
        assert "notifications" not in nothing
        note_add(work_order=two.work_order, by=office, body="Customer asks to call ahead")
    with _later(3):
        delta = phone.pull(nothing["cursor"]).json()
        assert [v["id"] for v in delta["visits"]] == [two.pk]
        start = two.start + dt.timedelta(days=1)
        visit_schedule(visit=two, start=start, end=start + dt.timedelta(hours=1), by=office,
                       override=True)
        visit_cancel(visit=one, by=office, reason="Closed today")
    with _later(4):
        after = phone.pull(delta["cursor"]).json()
        assert {v["id"]: v["status"] for v in after["visits"]} == {one.pk: "cancelled",
                                                                  two.pk: "scheduled"}
        assert after["notifications"][0]["kind"] in ("visit_cancelled", "visit_moved")


def test_it_drops_a_visit_the_technician_was_taken_off(phone, make_visit, technician, office,
                                                       org):
    visit = make_visit(crew=[technician])
    someone = MemberFactory(organization=org, role=Role.TECHNICIAN)
    with _later():
        cursor = phone.pull().json()["cursor"]
        visit_schedule(visit=visit, start=visit.start, end=visit.end, crew=[someone],
                       by=office, override=True)
    with _later(2):
        payload = phone.pull(cursor).json()
    assert payload["visit_ids"] == [] and payload["visits"] == []
    assert payload["notifications"][0]["kind"] == "visit_unassigned"


def test_it_sends_a_full_snapshot_again_after_settings_change(phone, make_visit, technician,
                                                              org, owner):
    make_visit(crew=[technician])
    with _later():
        cursor = phone.pull().json()["cursor"]
        field_settings_update(organization_id=org.pk, by=owner, require_signature=True)
    with _later(2):
        payload = phone.pull(cursor).json()
    assert payload["full"] is True and payload["settings"]["require_signature"] is True
    assert phone.pull("garbage").json()["full"] is True


def test_it_includes_the_sites_history_and_the_visits_own_entries(
        phone, make_visit, technician, office, site, customer, tech_client):
    from crewline.workorders.services import work_order_complete, work_order_start

    for n in range(7):
        past = make_visit(crew=[], title=f"Past job {n}", days=0)
        work_order_start(work_order=past.work_order, by=office)
        note_add(work_order=past.work_order, by=office, body=f"Replaced filter {n}",
                 visibility=Visibility.CUSTOMER)
        note_add(work_order=past.work_order, by=office, body="internal", visibility="internal")
        if n == 6:  # a job with more notes than the history shows: the newest first
            for k in range(4):
                note_add(work_order=past.work_order, by=office, body=f"Later note {k}",
                         visibility=Visibility.CUSTOMER)
        work_order_complete(work_order=past.work_order, by=office)
    other_site = SiteFactory(customer=customer)
    visit = make_visit(crew=[technician], site=other_site)
    visit2 = make_visit(crew=[technician])
    data = jpeg_bytes()
    phone.send("photo_add", visit_id=visit2.pk, client_id=new_id(), data=b64(data),
               sha256=sha(data))
    payload = phone.pull().json()
    history = payload["sites"][str(site.pk)]["history"]
    assert len(history) == 5
    assert history[0]["title"] == "Past job 6"
    assert history[0]["notes"] == ["Later note 3", "Later note 2", "Later note 1"]
    assert history[1]["title"] == "Past job 5" and history[1]["notes"] == ["Replaced filter 5"]
    assert payload["sites"][str(other_site.pk)]["history"] == []
    own = {v["id"]: v for v in payload["visits"]}[visit2.pk]["entries"]
    photo = [e for e in own if e["kind"] == "photo"][0]
    assert b"".join(tech_client.get(photo["url"]).streaming_content) == data
    assert visit.pk in payload["visit_ids"]


def test_it_answers_in_a_fixed_number_of_queries(phone, make_visit, technician,
                                                 django_assert_max_num_queries):
    make_visit(crew=[technician])
    with django_assert_max_num_queries(20):
        phone.pull()
    for hour in range(8, 16):
        make_visit(crew=[technician], hour=hour, days=1)
    with django_assert_max_num_queries(20):
        assert len(phone.pull().json()["visits"]) == 9


def test_it_stays_small_for_twenty_visits(phone, make_visit, technician):
    for n in range(20):
        make_visit(crew=[technician], days=n % 4, hour=7 + n // 4)
    body = phone.pull().content
    assert len(json.loads(body)["visits"]) == 20
    assert len(body) < 100_000


def test_it_shows_the_clock_and_rejections(phone, visit, office):
    phone.send("clock_in", client_id=new_id())
    visit_cancel(visit=visit, by=office, reason="Off")
    phone.send("note_add", visit_id=visit.pk, client_id=new_id(), body="hello")
    payload = phone.pull().json()
    assert payload["clock"]["shift"] is not None and payload["last_seq"] == 2
    assert payload["rejected"][0]["args"]["body"] == "hello"


def test_it_hides_files_of_other_jobs_from_a_technician(phone, make_visit, org, office,
                                                        tech_client, outsider_client, visit):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crewline.workorders.services import attachment_add

    other_site = SiteFactory(customer__organization=org)
    someone = MemberFactory(organization=org, role=Role.TECHNICIAN)
    theirs = make_visit(crew=[someone], site=other_site, customer=other_site.customer)
    entry = attachment_add(work_order=theirs.work_order, by=office,
                           file=SimpleUploadedFile("plan.pdf", b"%PDF-1.4", "application/pdf"))
    assert tech_client.get(f"/field/api/files/{entry.pk}/").status_code == 404
    assert outsider_client.get(f"/field/api/files/{entry.pk}/").status_code == 404
    mine = attachment_add(work_order=visit.work_order, by=office,
                          file=SimpleUploadedFile("plan.pdf", b"%PDF-1.4", "application/pdf"))
    response = tech_client.get(f"/field/api/files/{mine.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4"


def test_it_lets_an_edit_to_the_work_order_reach_the_phone(phone, visit, office):
    with _later():
        cursor = phone.pull().json()["cursor"]
        work_order_update(work_order=visit.work_order, by=office, instructions="Bring a ladder")
    with _later(2):
        payload = phone.pull(cursor).json()
    assert payload["visits"][0]["work_order"]["instructions"] == "Bring a ladder"


def test_it_does_not_move_the_cursor_past_recent_changes(phone, visit, office):
    cursor = phone.pull().json()["cursor"]
    note_add(work_order=visit.work_order, by=office, body="late")
    first = phone.pull(cursor).json()
    again = phone.pull(first["cursor"]).json()
    # Changes younger than the settling time are sent again rather than risk missing one.
    assert [v["id"] for v in again["visits"]] == [visit.pk]


def test_it_adds_the_day_that_enters_the_window(phone, make_visit, technician):
    later = make_visit(crew=[technician], days=4)
    with _later():
        cursor = phone.pull().json()["cursor"]
    assert later.pk not in phone.pull(cursor).json()["visit_ids"]
    with time_machine.travel(today_at(12, 1), tick=True):
        payload = phone.pull(cursor).json()
    assert later.pk in payload["visit_ids"] and [v["id"] for v in payload["visits"]] == [
        later.pk]
