"""Availability: the services that set working hours and time off, and the office pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crewline.core.models import AuditLog, Role
from crewline.factories import MemberFactory
from crewline.scheduling.models import TimeOff, WorkingHours
from crewline.scheduling.services import time_off_add, time_off_remove, working_hours_set
from crewline.scheduling.tests.conftest import at

T = dt.time


def week(member):
    return list(WorkingHours.objects.filter(member=member).order_by("weekday", "start")
                .values_list("weekday", "start", "end"))


# --- Services ---------------------------------------------------------------------------------


def test_it_sets_a_week_and_records_the_change_per_day(org, office, tara):
    working_hours_set(member=tara, hours={0: [(T(7), T(11)), (T(13), T(17))], 4: [(T(8), T(12))]},
                      by=office)
    assert week(tara) == [(0, T(7), T(11)), (0, T(13), T(17)), (4, T(8), T(12))]
    audit = AuditLog.objects.get(action="working_hours.set")
    assert audit.actor == office
    assert audit.changes["follows_business_hours"] == [True, False]
    assert audit.changes["hours_mon"] == [None, ["07:00–11:00", "13:00–17:00"]]
    assert audit.changes["hours_fri"] == [None, ["08:00–12:00"]]
    # Back to the business hours: every row goes.
    working_hours_set(member=tara, hours=None, by=office)
    assert week(tara) == []
    latest = AuditLog.objects.filter(action="working_hours.set").order_by("-seq").first()
    assert latest.changes["follows_business_hours"] == [False, True]
    assert latest.changes["hours_mon"] == [["07:00–11:00", "13:00–17:00"], None]


def test_it_refuses_overlapping_or_backwards_spans_and_other_organizations(org, office, tara,
                                                                          outsider):
    with pytest.raises(ValidationError, match="must not overlap"):
        working_hours_set(member=tara, hours={1: [(T(8), T(12)), (T(11), T(15))]}, by=office)
    with pytest.raises(ValidationError, match="end after it starts"):
        working_hours_set(member=tara, hours={1: [(T(12), T(8))]}, by=office)
    with pytest.raises(ValidationError, match="Not found"):
        working_hours_set(member=tara, hours=None, by=outsider)
    assert week(tara) == []


def test_it_adds_and_removes_time_off_with_audit(org, office, tara):
    off = time_off_add(member=tara, start=at(2025, 6, 3, 0), end=at(2025, 6, 5, 0),
                       reason=" Holiday ", by=office)
    assert off.reason == "Holiday" and off.created_by == office
    assert AuditLog.objects.get(action="time_off.add").changes["time_off"][1]["reason"] == (
        "Holiday")
    with pytest.raises(ValidationError, match="end must be after"):
        time_off_add(member=tara, start=at(2025, 6, 3, 9), end=at(2025, 6, 3, 9), by=office)
    time_off_remove(time_off=off, by=office)
    assert not TimeOff.objects.exists()
    removed = AuditLog.objects.get(action="time_off.remove")
    assert removed.changes["time_off"][0]["reason"] == "Holiday"
    assert removed.object_id == str(tara.pk)


# --- Pages ------------------------------------------------------------------------------------


def hours_post(mode="own", **days):
    data = {"mode": mode}
    for d in range(7):
        data.update({f"d{d}_start": "", f"d{d}_end": "", f"d{d}_start2": "", f"d{d}_end2": ""})
    for key, value in days.items():
        data[key] = value
    return data


def test_it_lists_technicians_with_their_hours_and_time_off(office_client, org, office, tara,
                                                            sam, django_assert_max_num_queries):
    working_hours_set(member=tara, hours={d: [(T(7), T(15))] for d in range(4)}, by=office)
    time_off_add(member=sam, start=at(2099, 7, 1, 0), end=at(2099, 7, 3, 0), reason="Holiday",
                 by=office)
    for _ in range(5):
        extra = MemberFactory(organization=org, role=Role.TECHNICIAN)
        time_off_add(member=extra, start=at(2099, 8, 1, 0), end=at(2099, 8, 2, 0), by=office)
    with django_assert_max_num_queries(9):
        response = office_client.get(reverse("scheduling:availability_summary"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mon–Thu 07:00–15:00" in page
    assert "Mon–Fri 08:00–17:00" in page  # Sam follows the business hours
    assert "Wed 1 Jul – Thu 2 Jul" in page and "Holiday" in page  # whole days, ends 3 Jul 00:00
    # Technicians only.
    assert reverse("scheduling:availability", args=[office.pk]) not in page
    assert reverse("scheduling:availability", args=[tara.pk]) in page


def test_it_keeps_the_summary_query_count_flat(office_client, org, office):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert office_client.get(reverse("scheduling:availability_summary")).status_code == 200
        return len(ctx.captured_queries)

    def add_technician():
        member = MemberFactory(organization=org, role=Role.TECHNICIAN)
        working_hours_set(member=member, hours={0: [(T(8), T(9))]}, by=office)
        time_off_add(member=member, start=at(2099, 8, 1, 0), end=at(2099, 8, 2, 0), by=office)

    add_technician()
    one = queries()
    for _ in range(6):
        add_technician()
    assert queries() == one


def test_it_saves_a_week_from_the_form(office_client, tara):
    url = reverse("scheduling:availability", args=[tara.pk])
    page = office_client.get(url)
    assert page.status_code == 200
    assert page.context["hours_form"]["mode"].value() == "business"
    response = office_client.post(url, hours_post(
        d0_on="on", d0_start="07:00", d0_end="11:00", d0_start2="13:00", d0_end2="17:00",
        d5_on="on", d5_start="09:00", d5_end="12:00"))
    assert response.status_code == 302
    assert week(tara) == [(0, T(7), T(11)), (0, T(13), T(17)), (5, T(9), T(12))]
    page = office_client.get(url).content.decode()
    assert 'value="13:00"' in page
    # And back to the business hours.
    office_client.post(url, hours_post(mode="business"))
    assert week(tara) == []


@pytest.mark.parametrize(("days", "field", "message"), [
    ({"d1_on": "on", "d1_start": "17:00", "d1_end": "08:00"}, "d1_end",
     "The end must be after the start."),
    ({"d1_on": "on", "d1_start": "", "d1_end": "17:00"}, "d1_start",
     "Give the start and end of the day."),
    ({"d1_on": "on", "d1_start": "08:00", "d1_end": "12:00", "d1_start2": "11:00",
      "d1_end2": "15:00"}, "d1_start2", "The second span must start after the first one ends."),
    ({"d1_on": "on", "d1_start": "08:00", "d1_end": "12:00", "d1_start2": "13:00"},
     "d1_start2", "Give both times of the second span, or neither."),
    ({"d1_on": "on", "d1_start": "8 o'clock", "d1_end": "12:00"}, "d1_start",
     "Enter a valid time."),
])
def test_it_shows_bad_hours_next_to_the_field(office_client, tara, days, field, message):
    response = office_client.post(reverse("scheduling:availability", args=[tara.pk]),
                                  hours_post(**days))
    assert response.status_code == 400
    assert response.context["hours_form"].errors[field] == [message]
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert week(tara) == []


def test_it_refuses_own_hours_without_a_working_day(office_client, tara):
    response = office_client.post(reverse("scheduling:availability", args=[tara.pk]),
                                  hours_post())
    assert response.status_code == 400
    assert "Choose at least one working day" in response.content.decode()


def test_it_adds_whole_days_and_part_days_off_in_local_time(office_client, org, tara):
    url = reverse("scheduling:time_off_add", args=[tara.pk])
    response = office_client.post(url, {"start_date": "2099-07-01", "end_date": "2099-07-03",
                                        "reason": "Holiday"})
    assert response.status_code == 302
    off = TimeOff.objects.get()
    assert off.start == at(2099, 7, 1, 0) and off.end == at(2099, 7, 4, 0)
    office_client.post(url, {"start_date": "2099-07-10", "start_time": "14:00",
                             "end_date": "2099-07-10", "end_time": "16:30",
                             "reason": "Dentist"})
    dentist = TimeOff.objects.get(reason="Dentist")
    assert dentist.start == at(2099, 7, 10, 14) and dentist.end == at(2099, 7, 10, 16, 30)
    assert dentist.created_by.user.email == "office@example.com"
    page = office_client.get(reverse("scheduling:availability", args=[tara.pk])).content.decode()
    assert "Wed 1 Jul – Fri 3 Jul" in page and "Holiday" in page
    assert "Fri 10 Jul, 14:00 – 16:30" in page and "Dentist" in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"start_date": "2099-07-03", "end_date": "2099-07-01"}, "end_date",
     "The last day is before the first."),
    ({"start_date": "2099-07-03", "start_time": "15:00", "end_date": "2099-07-03",
      "end_time": "09:00"}, "end_time", "The end must be after the start."),
    ({"start_date": "", "end_date": "2099-07-01"}, "start_date", "This field is required."),
    ({"start_date": "someday", "end_date": "2099-07-01"}, "start_date", "Enter a valid date."),
])
def test_it_shows_bad_time_off_next_to_the_field(office_client, tara, data, field, message):
    response = office_client.post(reverse("scheduling:time_off_add", args=[tara.pk]), data)
    assert response.status_code == 400
    assert response.context["time_off_form"].errors[field] == [message]
    assert not TimeOff.objects.exists()


def test_it_removes_time_off(office_client, office, tara):
    off = time_off_add(member=tara, start=at(2099, 7, 1, 0), end=at(2099, 7, 2, 0), by=office)
    response = office_client.post(reverse("scheduling:time_off_delete", args=[off.pk]))
    assert response.status_code == 302
    assert response.url == reverse("scheduling:availability", args=[tara.pk])
    assert not TimeOff.objects.exists()


def test_it_keeps_technicians_out_with_403(tech_client, office, tara):
    off = time_off_add(member=tara, start=at(2099, 7, 1, 0), end=at(2099, 7, 2, 0), by=office)
    assert tech_client.get(reverse("scheduling:availability_summary")).status_code == 403
    url = reverse("scheduling:availability", args=[tara.pk])
    assert tech_client.get(url).status_code == 403
    assert tech_client.post(url, hours_post(mode="business")).status_code == 403
    assert tech_client.post(reverse("scheduling:time_off_add", args=[tara.pk]), {
        "start_date": "2099-07-01", "end_date": "2099-07-01"}).status_code == 403
    assert tech_client.post(reverse("scheduling:time_off_delete", args=[off.pk])
                            ).status_code == 403
    assert TimeOff.objects.count() == 1


def test_it_hides_another_organizations_people_with_404(outsider_client, office, tara):
    off = time_off_add(member=tara, start=at(2099, 7, 1, 0), end=at(2099, 7, 2, 0), by=office)
    url = reverse("scheduling:availability", args=[tara.pk])
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, hours_post(mode="own", d0_on="on", d0_start="08:00",
                                                d0_end="09:00")).status_code == 404
    assert outsider_client.post(reverse("scheduling:time_off_add", args=[tara.pk]), {
        "start_date": "2099-07-01", "end_date": "2099-07-01"}).status_code == 404
    assert outsider_client.post(reverse("scheduling:time_off_delete", args=[off.pk])
                                ).status_code == 404
    assert TimeOff.objects.count() == 1 and week(tara) == []
    # Their own summary lists only their own organization's technicians.
    page = outsider_client.get(reverse("scheduling:availability_summary")).content.decode()
    assert "Tara Nguyen" not in page
