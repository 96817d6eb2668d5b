"""Timesheet pages: permissions, corrections through the forms, approval, CSV, query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from crewline.core.models import AuditLog, Role
from crewline.factories import MemberFactory, SiteFactory
from crewline.timesheets.models import TimeEntry, TimeKind, TimesheetApproval
from crewline.timesheets.services import time_entry_add
from crewline.timesheets.views import CSV_COLUMNS
from crewline.workorders.services import labor_set, visit_add, work_order_create

pytestmark = pytest.mark.django_db

MONDAY = "2025-03-03"


def local(org, day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=org.tzinfo)


def shift(org, member, by, day="2025-03-04", start="08:00", end="17:00", kind=TimeKind.SHIFT):
    return time_entry_add(member=member, by=by, kind=kind, start=local(org, day, start),
                          end=local(org, day, end) if end else None)


def week_url(member, week=MONDAY, name="timesheets:week"):
    return reverse(name, kwargs={"pk": member.pk, "week": week})


def test_it_shows_a_week_with_totals_and_flags(org, technician, office, office_client):
    shift(org, technician, office)
    shift(org, technician, office, start="12:00", end="12:30", kind=TimeKind.BREAK)
    shift(org, technician, office, day="2025-03-05", start="07:00", end=None)
    response = office_client.get(week_url(technician))
    assert response.status_code == 200
    html = response.content.decode()
    assert "8:30" in html  # Tuesday's paid time
    assert "A shift has no clock-out" in html
    assert "Approve week" in html


def test_it_redirects_a_mid_week_date_to_the_week_start(technician, office_client):
    response = office_client.get(week_url(technician, "2025-03-06"))
    assert response.status_code == 302 and response["Location"] == week_url(technician)
    assert office_client.get(week_url(technician, "2025-13-01")).status_code == 404


def test_it_corrects_through_the_form_and_reports_bad_input(org, technician, office,
                                                           office_client):
    entry = shift(org, technician, office, end=None)
    url = reverse("timesheets:entry_edit", kwargs={"pk": entry.pk})
    assert "Correct time entry" in office_client.get(url).content.decode()
    bad = office_client.post(url, {"kind": "shift", "start": "2025-03-04T08:00",
                                   "end": "2025-03-04T07:00"})
    assert bad.status_code == 400
    assert "The end cannot be before the start." in bad.content.decode()
    ok = office_client.post(url, {"kind": "shift", "start": "2025-03-04T08:00",
                                  "end": "2025-03-04T16:00"})
    assert ok.status_code == 302 and ok["Location"] == week_url(technician)
    entry.refresh_from_db()
    assert entry.end == local(org, "2025-03-04", "16:00")  # read in the organization's zone
    assert AuditLog.objects.filter(action="time.correct", actor=office).exists()


def test_it_puts_each_service_error_on_its_field(org, technician, office, office_client):
    entry = shift(org, technician, office, end=None)
    url = reverse("timesheets:entry_edit", kwargs={"pk": entry.pk})
    now = timezone.localtime(timezone=org.tzinfo)
    an_hour_ago = (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    in_two_hours = (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    tomorrow = (now + dt.timedelta(days=2)).date().isoformat()
    for data, field, message in (
            ({"start": an_hour_ago, "end": in_two_hours}, "end",
             "That time is in the future."),
            ({"start": f"{tomorrow}T08:00", "end": ""}, "start", "That time is in the future."),
            ({"start": "2025-03-03T08:00", "end": "2025-03-04T09:00"}, "end",
             "An entry cannot be longer than 24 hours.")):
        response = office_client.post(url, {"kind": "shift", **data})
        assert response.status_code == 400
        assert response.context["form"].errors == {field: [message]}, data
    add = office_client.post(reverse("timesheets:entry_add",
                                     kwargs={"pk": technician.pk, "week": MONDAY}),
                             {"kind": "travel", "start": f"{tomorrow}T07:30", "end": ""})
    assert add.status_code == 400
    assert add.context["form"].errors == {"start": ["That time is in the future."]}


def test_it_adds_and_deletes_through_the_pages(org, technician, office, office_client):
    add = office_client.post(reverse("timesheets:entry_add",
                                     kwargs={"pk": technician.pk, "week": MONDAY}),
                             {"kind": "travel", "start": "2025-03-04T07:30",
                              "end": "2025-03-04T08:00"})
    assert add.status_code == 302
    entry = TimeEntry.objects.get(kind="travel")
    office_client.post(reverse("timesheets:entry_delete", kwargs={"pk": entry.pk}))
    assert not TimeEntry.objects.exists()


def test_it_approves_and_then_asks_to_reopen_before_editing(org, technician, office,
                                                          office_client):
    entry = shift(org, technician, office)
    office_client.post(reverse("timesheets:approve",
                               kwargs={"pk": technician.pk, "week": MONDAY}))
    approval = TimesheetApproval.objects.get()
    assert approval.approved_by == office and approval.week_start == dt.date(2025, 3, 3)
    page = office_client.get(week_url(technician)).content.decode()
    assert "Reopen for corrections" in page and "Add clock-out" not in page
    edit_url = reverse("timesheets:entry_edit", kwargs={"pk": entry.pk})
    assert "Reopen the week" in office_client.get(edit_url).content.decode()
    refused = office_client.post(edit_url, {"kind": "shift", "start": "2025-03-04T09:00",
                                            "end": "2025-03-04T17:00"})
    assert refused.status_code == 400
    assert "This week is approved" in refused.content.decode()
    office_client.post(reverse("timesheets:entry_delete", kwargs={"pk": entry.pk}))
    assert TimeEntry.objects.filter(pk=entry.pk).exists()
    office_client.post(reverse("timesheets:reopen", kwargs={"pk": technician.pk, "week": MONDAY}))
    assert not TimesheetApproval.objects.exists()
    assert office_client.post(edit_url, {"kind": "shift", "start": "2025-03-04T09:00",
                                         "end": "2025-03-04T17:00"}).status_code == 302


def test_it_exports_the_documented_payroll_columns(org, owner, technician, office,
                                                   office_client):
    for day in ("2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07"):
        shift(org, technician, office, day=day, start="07:00", end="17:30")  # 10.5 h
    shift(org, technician, office, day="2025-03-07", start="12:00", end="12:20",
          kind=TimeKind.BREAK)
    office_client.post(reverse("timesheets:approve",
                               kwargs={"pk": technician.pk, "week": MONDAY}))
    response = office_client.get(reverse("timesheets:export") + f"?week={MONDAY}")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == CSV_COLUMNS == ["member", "member_email", "date", "paid_hours",
                                      "regular_hours", "overtime_hours", "break_hours",
                                      "approved"]
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["date"] for r in body] == ["2025-03-03", "2025-03-04", "2025-03-05",
                                         "2025-03-06", "2025-03-07"]
    friday = body[-1]
    assert friday == {"member": "Tara Tech", "member_email": "tech@example.com",
                      "date": "2025-03-07", "paid_hours": "10.17", "regular_hours": "0.00",
                      "overtime_hours": "10.17", "break_hours": "0.33", "approved": "yes"}
    # 31.5 h by Wednesday leaves 8.5 regular hours for Thursday.
    assert body[3]["regular_hours"] == "8.50" and body[3]["overtime_hours"] == "2.00"
    for r in body:
        assert float(r["regular_hours"]) + float(r["overtime_hours"]) == pytest.approx(
            float(r["paid_hours"]))


def test_it_shows_every_technicians_week_in_constant_queries(org, owner, office, technician,
                                                            office_client,
                                                            django_assert_max_num_queries):
    site = SiteFactory(customer__organization=org)
    wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                           title="Boiler service")

    def add_technician(n):
        tech = MemberFactory(organization=org, role=Role.TECHNICIAN,
                             user__full_name=f"Tech {n}")
        shift(org, tech, office)
        work = shift(org, tech, office, start="09:00", end="10:00", kind=TimeKind.WORK)
        visit = visit_add(work_order=wo, by=owner, start=local(org, "2025-03-04", "09:00"),
                          end=local(org, "2025-03-04", "10:00"), crew=[tech], override=True)
        TimeEntry.objects.filter(pk=work.pk).update(visit=visit)
        labor_set(visit=visit, by=tech, minutes=75,
                  device_time=local(org, "2025-03-04", "10:00"))
        return tech

    add_technician(0)
    url = reverse("timesheets:list") + f"?week={MONDAY}"
    with django_assert_max_num_queries(12) as few:
        office_client.get(url)
    for n in range(1, 5):
        add_technician(n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = office_client.get(url)
    html = response.content.decode()
    assert html.count("Tech ") >= 5
    assert "1:15" in html  # the labor entry replaces the visit's work entry
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert office_client.get(reverse("timesheets:export") + f"?week={MONDAY}") \
            .status_code == 200


def test_it_shows_a_technician_only_their_own_week_read_only(org, technician, office,
                                                             tech_client):
    other = MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Other Tech")
    shift(org, technician, office)
    shift(org, other, office, day="2025-03-05", start="06:00", end="18:00")
    response = tech_client.get(reverse("timesheets:my_week", kwargs={"week": MONDAY}))
    html = response.content.decode()
    assert response.status_code == 200 and "My timesheet" in html
    assert "9:00" in html and "12:00" not in html
    assert "Approve week" not in html and "Edit" not in html
    assert tech_client.get(reverse("timesheets:my_week_now")).status_code == 200
    # Nobody else's week, nor any office page.
    assert tech_client.get(week_url(other)).status_code == 403
    assert tech_client.get(reverse("timesheets:my_week", kwargs={"week": "nope"})) \
        .status_code == 404
    for url in (reverse("timesheets:list"), reverse("timesheets:export"),
                reverse("timesheets:settings"),
                reverse("timesheets:entry_add", kwargs={"pk": technician.pk, "week": MONDAY})):
        assert tech_client.get(url).status_code == 403
    entry = TimeEntry.objects.filter(member=technician).first()
    for url in (reverse("timesheets:entry_delete", kwargs={"pk": entry.pk}),
                reverse("timesheets:approve", kwargs={"pk": technician.pk, "week": MONDAY})):
        assert tech_client.post(url).status_code == 403
    assert TimeEntry.objects.filter(pk=entry.pk).exists()
    assert not TimesheetApproval.objects.exists()


def test_it_hides_everything_from_an_outsider(org, technician, office, outsider_client,
                                              outsider):
    entry = shift(org, technician, office)
    for url in (week_url(technician),
                reverse("timesheets:entry_edit", kwargs={"pk": entry.pk}),
                reverse("timesheets:entry_add", kwargs={"pk": technician.pk, "week": MONDAY})):
        assert outsider_client.get(url).status_code == 404
    for url in (reverse("timesheets:entry_delete", kwargs={"pk": entry.pk}),
                reverse("timesheets:approve", kwargs={"pk": technician.pk, "week": MONDAY}),
                reverse("timesheets:reopen", kwargs={"pk": technician.pk, "week": MONDAY})):
        assert outsider_client.post(url).status_code == 404
    assert TimeEntry.objects.filter(pk=entry.pk).exists()
    assert not TimesheetApproval.objects.exists()
    # Their own overview and export show nothing of this organization.
    overview = outsider_client.get(reverse("timesheets:list")).content.decode()
    assert "Tara Tech" not in overview
    export = outsider_client.get(reverse("timesheets:export") + f"?week={MONDAY}")
    assert "tech@example.com" not in export.content.decode()


def test_it_lets_only_the_owner_edit_settings(owner_client, office_client, org):
    url = reverse("timesheets:settings")
    assert office_client.get(url).status_code == 403
    bad = owner_client.post(url, {"weekly_overtime_hours": "-1", "week_start": "0"})
    assert bad.status_code == 400 and "weekly_overtime_hours" in bad.content.decode()
    ok = owner_client.post(url, {"weekly_overtime_hours": "44", "daily_overtime_hours": "10",
                                 "week_start": "6"})
    assert ok.status_code == 302
    assert org.timesheet_settings.weekly_overtime_hours == 44


def test_it_counts_a_night_shift_across_the_spring_forward_change(org, technician, office,
                                                                  office_client):
    # Saturday 8 March 2025 22:00 to Sunday 06:00 in Chicago: the clocks skip 02:00–03:00.
    time_entry_add(member=technician, by=office, kind=TimeKind.SHIFT,
                   start=local(org, "2025-03-08", "22:00"), end=local(org, "2025-03-09", "06:00"))
    rows = list(csv.reader(io.StringIO(office_client.get(
        reverse("timesheets:export") + f"?week={MONDAY}").content.decode())))
    assert [(r[2], r[3]) for r in rows[1:]] == [("2025-03-08", "2.00"), ("2025-03-09", "5.00")]


def test_it_pages_the_overview(org, office, office_client, monkeypatch):
    from crewline.timesheets import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    for n in range(3):
        MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name=f"Page Tech {n}")
    first = office_client.get(reverse("timesheets:list") + f"?week={MONDAY}").content.decode()
    assert "Page Tech 0" in first and "Page Tech 2" not in first
    assert f"?week={MONDAY}&amp;page=2" in first
    second = office_client.get(reverse("timesheets:list") + f"?week={MONDAY}&page=2")
    assert "Page Tech 2" in second.content.decode()


def test_it_flags_a_day_with_more_job_labor_than_paid_time(org, owner, office, technician,
                                                          office_client, tech_client):
    site = SiteFactory(customer__organization=org)
    wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                           title="Boiler service")
    visit = visit_add(work_order=wo, by=owner, start=local(org, "2025-03-04", "09:00"),
                      end=local(org, "2025-03-04", "12:00"), crew=[technician], override=True)
    shift(org, technician, office, start="08:00", end="12:00")  # 4 h paid
    labor_set(visit=visit, by=technician, minutes=5 * 60 + 15,
              device_time=local(org, "2025-03-04", "12:00"))
    html = office_client.get(week_url(technician)).content.decode()
    assert 'data-testid="labor-over-paid"' in html
    assert "Tue 4 Mar: job labor 5:15, paid 4:00 (1:15 more)" in html
    assert html.count('data-testid="labor-over-paid-day"') == 1
    overview = office_client.get(reverse("timesheets:list") + f"?week={MONDAY}")
    assert "Labor over paid time" in overview.content.decode()
    # Within the paid time, nothing is flagged.
    labor_set(visit=visit, by=technician, minutes=3 * 60,
              device_time=local(org, "2025-03-04", "12:00"))
    html = office_client.get(week_url(technician)).content.decode()
    assert 'data-testid="labor-over-paid"' not in html
    assert "Labor over paid time" not in office_client.get(
        reverse("timesheets:list") + f"?week={MONDAY}").content.decode()
