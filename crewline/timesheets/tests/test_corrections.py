"""Office corrections, approval locking and settings, through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crewline.core.models import AuditLog
from crewline.timesheets.models import TimeEntry, TimeKind, TimesheetApproval, TimeSource
from crewline.timesheets.selectors import member_week, settings_for
from crewline.timesheets.services import (
    clock_in,
    time_entry_add,
    time_entry_delete,
    time_entry_update,
    timesheet_approve,
    timesheet_reopen,
    timesheet_settings_update,
)

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2025, 3, 3)


def local(org, day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=org.tzinfo)


def test_it_corrects_an_entry_and_audits_before_and_after(org, technician, office):
    entry = clock_in(member=technician, by=technician, at=local(org, "2025-03-03", "08:10"),
                     source=TimeSource.DEVICE)
    assert entry.end is None
    # The missing clock-out, added by the office.
    time_entry_update(entry=entry, by=office, kind=TimeKind.SHIFT,
                      start=local(org, "2025-03-03", "08:00"),
                      end=local(org, "2025-03-03", "16:30"))
    entry.refresh_from_db()
    assert entry.source == TimeSource.OFFICE
    assert entry.end == local(org, "2025-03-03", "16:30")
    log = AuditLog.objects.get(action="time.correct")
    assert log.actor == office
    assert set(log.changes) == {"start", "end", "source"}
    assert log.changes["source"] == ["device", "office"]
    assert log.changes["end"][0] is None
    assert member_week(technician, MONDAY).week.days[0].paid == 510


def test_it_leaves_an_entry_saved_unchanged_alone(org, technician, office):
    entry = clock_in(member=technician, by=technician, at=local(org, "2025-03-03", "08:00"),
                     source=TimeSource.DEVICE)
    time_entry_update(entry=entry, by=office, kind=entry.kind, start=entry.start, end=None)
    entry.refresh_from_db()
    assert entry.source == TimeSource.DEVICE
    assert not AuditLog.objects.filter(action="time.correct").exists()


def test_it_adds_and_deletes_entries_with_audit(org, technician, office):
    entry = time_entry_add(member=technician, by=office, kind=TimeKind.BREAK,
                           start=local(org, "2025-03-04", "12:00"),
                           end=local(org, "2025-03-04", "12:45"))
    assert entry.source == TimeSource.OFFICE and entry.created_by == office
    time_entry_delete(entry=entry, by=office)
    assert not TimeEntry.objects.exists()
    deleted = AuditLog.objects.get(action="time.delete")
    assert deleted.changes["kind"] == ["break", None]
    assert deleted.object_id == str(entry.pk)


def test_it_refuses_bad_corrections(org, technician, office):
    entry = time_entry_add(member=technician, by=office, kind=TimeKind.SHIFT,
                           start=local(org, "2025-03-04", "08:00"),
                           end=local(org, "2025-03-04", "12:00"))
    with pytest.raises(ValidationError) as exc:
        time_entry_update(entry=entry, by=office, kind=TimeKind.SHIFT,
                          start=local(org, "2025-03-04", "08:00"),
                          end=local(org, "2025-03-04", "07:00"))
    assert "end" in exc.value.message_dict
    with pytest.raises(ValidationError):
        time_entry_update(entry=entry, by=office, kind=TimeKind.SHIFT,
                          start=local(org, "2025-03-04", "08:00"),
                          end=local(org, "2025-03-05", "09:00"))
    with pytest.raises(PermissionDenied):
        time_entry_delete(entry=entry, by=technician)
    assert TimeEntry.objects.get().end == local(org, "2025-03-04", "12:00")


def test_it_locks_an_approved_week_until_it_is_reopened(org, technician, office):
    entry = time_entry_add(member=technician, by=office, kind=TimeKind.SHIFT,
                           start=local(org, "2025-03-04", "08:00"),
                           end=local(org, "2025-03-04", "12:00"))
    timesheet_approve(member=technician, week_start=MONDAY, by=office)
    assert timesheet_approve(member=technician, week_start=MONDAY, by=office).approved_by == office
    for attempt in (
        lambda: time_entry_update(entry=entry, by=office, kind=TimeKind.SHIFT,
                                  start=entry.start, end=local(org, "2025-03-04", "13:00")),
        lambda: time_entry_delete(entry=entry, by=office),
        lambda: time_entry_add(member=technician, by=office, kind=TimeKind.BREAK,
                               start=local(org, "2025-03-05", "10:00"),
                               end=local(org, "2025-03-05", "10:15")),
    ):
        with pytest.raises(ValidationError) as exc:
            attempt()
        assert exc.value.code == "approved"
    # Moving an entry of an open week into the approved one is refused too.
    later = time_entry_add(member=technician, by=office, kind=TimeKind.SHIFT,
                           start=local(org, "2025-03-11", "08:00"),
                           end=local(org, "2025-03-11", "09:00"))
    with pytest.raises(ValidationError):
        time_entry_update(entry=later, by=office, kind=TimeKind.SHIFT,
                          start=local(org, "2025-03-07", "08:00"),
                          end=local(org, "2025-03-07", "09:00"))
    timesheet_reopen(member=technician, week_start=MONDAY, by=office)
    assert not TimesheetApproval.objects.exists()
    time_entry_delete(entry=entry, by=office)
    actions = list(AuditLog.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["time.add", "timesheet.approve", "time.add", "timesheet.reopen",
                       "time.delete"]


def test_it_approves_only_from_the_first_day_of_a_week(technician, office):
    with pytest.raises(ValidationError):
        timesheet_approve(member=technician, week_start=MONDAY + dt.timedelta(days=1),
                          by=office)
    with pytest.raises(PermissionDenied):
        timesheet_approve(member=technician, week_start=MONDAY, by=technician)


def test_it_lets_the_owner_set_thresholds_and_week_start(org, owner, office, technician):
    assert settings_for(org).weekly_overtime_hours == 40 and settings_for(org).pk is None
    with pytest.raises(PermissionDenied):
        timesheet_settings_update(organization=org, by=office, weekly_overtime_hours=Decimal(38),
                                  daily_overtime_hours=None, week_start=0)
    timesheet_settings_update(organization=org, by=owner, weekly_overtime_hours=Decimal(38),
                              daily_overtime_hours=Decimal(8), week_start=6)
    saved = settings_for(org)
    assert (saved.weekly_overtime_hours, saved.daily_overtime_hours, saved.week_start) == (
        38, 8, 6)
    log = AuditLog.objects.get(action="timesheet.settings")
    assert log.changes["week_start"] == [0, 6]
    for day in ("2025-03-02", "2025-03-03"):  # Sunday and Monday, 9 h each
        time_entry_add(member=technician, by=office, kind=TimeKind.SHIFT,
                       start=local(org, day, "08:00"), end=local(org, day, "17:00"))
    week = member_week(technician, dt.date(2025, 3, 2)).week
    assert [d.overtime for d in week.days[:2]] == [60, 60]
    with pytest.raises(ValidationError):
        timesheet_settings_update(organization=org, by=owner, weekly_overtime_hours=Decimal(200),
                                  daily_overtime_hours=None, week_start=0)
