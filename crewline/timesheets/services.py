"""Writes to time entries: clocking in and out of the shift and taking breaks.

One service per action, called alike by the office and by the phone's sync endpoint. A resent
action with a ``client_id`` already used returns what the first one did. Each records an
audit entry in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core.audit import audit_record, organization_write_lock
from crewline.core.models import Member
from crewline.live.models import ChangeKind
from crewline.live.services import change_record
from crewline.timesheets.models import TimeEntry, TimeKind, TimeSource

# A phone's clock may run a little fast; times further ahead than this are refused.
CLOCK_SKEW = dt.timedelta(minutes=10)


def _changed(member_id: int, organization_id: int, event: str = "") -> None:
    """A member's time entries changed: their phones show the clock and today's hours."""
    change_record(organization_id=organization_id, kind=ChangeKind.MEMBER, object_id=member_id,
                  event=event)


def _check_actor(member: Member, by: Member | None) -> None:
    if by is None:
        return
    if by.organization_id != member.organization_id:
        raise PermissionDenied("Another organization's member.")
    if by.pk != member.pk and not by.is_office:
        raise PermissionDenied(_("Only the office may record time for someone else."))


def _check_same_member(existing: TimeEntry, member: Member) -> None:
    """A resent change answers with what it did the first time, never with someone else's."""
    if existing.member_id != member.pk:
        raise ValidationError(_("This change's id is already used by another entry."),
                              code="client_id_taken")


def _when(at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        raise ValueError("Times must be timezone-aware.")
    if at > now + CLOCK_SKEW:
        raise ValidationError({"at": _("That time is in the future.")}, code="future")
    return at


def _location(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    if latitude is None and longitude is None:
        return None, None
    try:
        lat = Decimal(str(latitude)).quantize(Decimal("0.000001"))
        lng = Decimal(str(longitude)).quantize(Decimal("0.000001"))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError({"location": _("The location is not valid.")}) from exc
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationError({"location": _("The location is not valid.")})
    return lat, lng


def _open(member: Member, kind: str) -> TimeEntry | None:
    return (TimeEntry.objects.filter(member=member, kind=kind, end__isnull=True)
            .order_by("-start", "-id").first())


def _lock_member(member: Member) -> None:
    # Two phones of one member clocking at once: the second waits, then sees the first's entry.
    organization_write_lock(member.organization_id)
    Member.objects.select_for_update(no_key=True).filter(pk=member.pk).values("pk").get()


def _start(*, member: Member, by: Member | None, kind: str, action: str, at, client_id,
           latitude, longitude, source, visit=None) -> TimeEntry:
    _check_actor(member, by)
    when = _when(at)
    lat, lng = _location(latitude, longitude)
    with transaction.atomic():
        _lock_member(member)
        if client_id is not None:
            existing = TimeEntry.objects.filter(organization_id=member.organization_id,
                                                client_id=client_id).first()
            if existing is not None:
                _check_same_member(existing, member)
                return existing
        if kind == TimeKind.SHIFT:
            if _open(member, TimeKind.SHIFT) is not None:
                raise ValidationError(_("You are already clocked in."), code="clocked_in")
        elif kind == TimeKind.BREAK:
            if _open(member, TimeKind.SHIFT) is None:
                raise ValidationError(_("Clock in before taking a break."), code="not_clocked_in")
            if _open(member, TimeKind.BREAK) is not None:
                raise ValidationError(_("You are already on a break."), code="on_break")
        entry = TimeEntry.objects.create(
            organization_id=member.organization_id, member=member, kind=kind, start=when,
            visit=visit, latitude=lat, longitude=lng, source=source, client_id=client_id,
            created_by=by,
        )
        _changed(member.pk, member.organization_id, "time_entry.created")
        audit_record(organization=member.organization, actor=by, action=f"time.{action}",
                     obj=entry, changes={"kind": [None, kind], "start": [None, when],
                                         "source": [None, source]})
    return entry


def _end(*, member: Member, by: Member | None, kind: str, action: str, at, client_id,
         latitude, longitude, missing: str) -> TimeEntry:
    _check_actor(member, by)
    when = _when(at)
    lat, lng = _location(latitude, longitude)
    with transaction.atomic():
        _lock_member(member)
        if client_id is not None:
            existing = TimeEntry.objects.filter(organization_id=member.organization_id,
                                                end_client_id=client_id).first()
            if existing is not None:
                _check_same_member(existing, member)
                return existing
        entry = _open(member, kind)
        if entry is None:
            raise ValidationError(missing, code="not_open")
        if when < entry.start:
            raise ValidationError({"at": _("The end cannot be before the start.")},
                                  code="end_before_start")
        closed = [entry]
        if kind == TimeKind.SHIFT:
            # Clocking out ends a break that was left running.
            open_break = _open(member, TimeKind.BREAK)
            if open_break is not None:
                closed.append(open_break)
        for item in closed:
            item.end = max(when, item.start)
            item.end_latitude, item.end_longitude = lat, lng
            item.end_client_id = client_id if item is entry else None
            item.save(update_fields=["end", "end_latitude", "end_longitude", "end_client_id",
                                     "updated_at"])
        _changed(member.pk, member.organization_id)
        audit_record(organization=member.organization, actor=by, action=f"time.{action}",
                     obj=entry, changes={"end": [None, when]})
    return entry


def clock_in(*, member: Member, by: Member | None, at: dt.datetime | None = None,
             client_id: uuid.UUID | None = None, latitude=None, longitude=None,
             source: str = TimeSource.OFFICE) -> TimeEntry:
    """Start ``member``'s shift at ``at`` (now by default). Refused while a shift is open."""
    return _start(member=member, by=by, kind=TimeKind.SHIFT, action="clock_in", at=at,
                  client_id=client_id, latitude=latitude, longitude=longitude, source=source)


def clock_out(*, member: Member, by: Member | None, at: dt.datetime | None = None,
              client_id: uuid.UUID | None = None, latitude=None, longitude=None) -> TimeEntry:
    """End ``member``'s open shift (and a break left open). Refused when not clocked in."""
    return _end(member=member, by=by, kind=TimeKind.SHIFT, action="clock_out", at=at,
                client_id=client_id, latitude=latitude, longitude=longitude,
                missing=_("You are not clocked in."))


def break_start(*, member: Member, by: Member | None, at: dt.datetime | None = None,
                client_id: uuid.UUID | None = None, latitude=None, longitude=None,
                source: str = TimeSource.OFFICE) -> TimeEntry:
    """Start a break within the open shift. Refused when not clocked in or already on one."""
    return _start(member=member, by=by, kind=TimeKind.BREAK, action="break_start", at=at,
                  client_id=client_id, latitude=latitude, longitude=longitude, source=source)


def break_end(*, member: Member, by: Member | None, at: dt.datetime | None = None,
              client_id: uuid.UUID | None = None, latitude=None, longitude=None) -> TimeEntry:
    """End the open break. Refused when not on a break."""
    return _end(member=member, by=by, kind=TimeKind.BREAK, action="break_end", at=at,
                client_id=client_id, latitude=latitude, longitude=longitude,
                missing=_("You are not on a break."))


# --- Office corrections, approval and settings ---------------------------------------------

ENTRY_FIELDS = ("kind", "start", "end", "source")


def _require_office(by: Member, organization_id: int) -> None:
    if by.organization_id != organization_id:
        raise PermissionDenied("Another organization's member.")
    if not by.is_office:
        raise PermissionDenied(_("Only the office may correct timesheets."))


def weeks_touched(*, organization, start: dt.datetime, end: dt.datetime | None) -> set[dt.date]:
    """The first days of the organization's weeks that a span from ``start`` to ``end`` falls in."""
    from crewline.timesheets.hours import week_start_for
    from crewline.timesheets.selectors import settings_for

    first = settings_for(organization).week_start
    tz = organization.tzinfo
    day, last = start.astimezone(tz).date(), (end or start).astimezone(tz).date()
    weeks = set()
    while day <= last:
        weeks.add(week_start_for(day, first))
        day += dt.timedelta(days=7)
    weeks.add(week_start_for(last, first))
    return weeks


def _check_unlocked(*, member: Member, spans: list[tuple[dt.datetime, dt.datetime | None]]
                    ) -> None:
    from crewline.timesheets.models import TimesheetApproval

    weeks: set[dt.date] = set()
    for start, end in spans:
        weeks |= weeks_touched(organization=member.organization, start=start, end=end)
    if TimesheetApproval.objects.filter(member=member, week_start__in=weeks).exists():
        raise ValidationError(_("This week is approved. Reopen it before correcting it."),
                              code="approved")


def _check_span(kind: str, start: dt.datetime, end: dt.datetime | None) -> None:
    if kind not in TimeKind.values:
        raise ValidationError({"kind": _("Choose a kind of time.")})
    if timezone.is_naive(start) or (end is not None and timezone.is_naive(end)):
        raise ValueError("Times must be timezone-aware.")
    if end is not None and end < start:
        raise ValidationError({"end": _("The end cannot be before the start.")},
                              code="end_before_start")
    if end is not None and end - start > dt.timedelta(hours=24):
        raise ValidationError({"end": _("An entry cannot be longer than 24 hours.")},
                              code="too_long")
    # Each error names its field, so that the form shows it at the time that is wrong.
    now = timezone.now()
    if start > now + CLOCK_SKEW:
        raise ValidationError({"start": _("That time is in the future.")}, code="future")
    if end is not None and end > now + CLOCK_SKEW:
        raise ValidationError({"end": _("That time is in the future.")}, code="future")


def time_entry_update(*, entry: TimeEntry, by: Member, kind: str, start: dt.datetime,
                      end: dt.datetime | None) -> TimeEntry:
    """Correct an entry's kind and times (adding a missing clock-out is setting its end).

    Refused while the week it was in, or the week it moves to, is approved. The entry's source
    becomes the office; the audit entry keeps the values before and after.
    """
    from crewline.core.audit import diff, snapshot

    _require_office(by, entry.organization_id)
    _check_span(kind, start, end)
    with transaction.atomic():
        organization_write_lock(entry.organization_id)
        entry = TimeEntry.objects.select_for_update(no_key=True) \
            .select_related("member__organization") \
            .get(pk=entry.pk)
        _check_unlocked(member=entry.member, spans=[(entry.start, entry.end), (start, end)])
        before = snapshot(entry, ENTRY_FIELDS)
        # In UTC, as read back from the database, so an unchanged time compares equal.
        entry.kind = kind
        entry.start = start.astimezone(dt.UTC)
        entry.end = end.astimezone(dt.UTC) if end is not None else None
        entry.source = TimeSource.OFFICE
        changes = diff(before, snapshot(entry, ENTRY_FIELDS))
        if set(changes) <= {"source"}:
            # Saved unchanged: the entry stays as the phone recorded it.
            entry.source = before["source"]
            return entry
        entry.save(update_fields=["kind", "start", "end", "source", "updated_at"])
        _changed(entry.member_id, entry.organization_id)
        audit_record(organization=entry.member.organization, actor=by, action="time.correct",
                     obj=entry, changes=changes)
    return entry


def time_entry_add(*, member: Member, by: Member, kind: str, start: dt.datetime,
                   end: dt.datetime | None) -> TimeEntry:
    """An entry the phone never recorded, entered by the office."""
    _require_office(by, member.organization_id)
    _check_span(kind, start, end)
    with transaction.atomic():
        _lock_member(member)
        _check_unlocked(member=member, spans=[(start, end)])
        entry = TimeEntry.objects.create(
            organization_id=member.organization_id, member=member, kind=kind, start=start,
            end=end, source=TimeSource.OFFICE, created_by=by)
        _changed(member.pk, member.organization_id, "time_entry.created")
        audit_record(organization=member.organization, actor=by, action="time.add", obj=entry,
                     changes={"kind": [None, kind], "start": [None, start], "end": [None, end],
                              "source": [None, TimeSource.OFFICE]})
    return entry


def time_entry_delete(*, entry: TimeEntry, by: Member) -> None:
    """Delete a wrong entry; the audit entry keeps what it was."""
    from crewline.core.audit import snapshot

    _require_office(by, entry.organization_id)
    with transaction.atomic():
        organization_write_lock(entry.organization_id)
        entry = TimeEntry.objects.select_for_update(no_key=True) \
            .select_related("member__organization") \
            .get(pk=entry.pk)
        _check_unlocked(member=entry.member, spans=[(entry.start, entry.end)])
        before = snapshot(entry, ENTRY_FIELDS)
        audit_record(organization=entry.member.organization, actor=by, action="time.delete",
                     obj=entry, changes={k: [v, None] for k, v in before.items()})
        entry.delete()
        _changed(entry.member_id, entry.organization_id)


def timesheet_approve(*, member: Member, week_start: dt.date, by: Member):
    """Approve ``member``'s week from ``week_start``; its entries are locked until reopened."""
    from crewline.timesheets.models import TimesheetApproval
    from crewline.timesheets.selectors import settings_for

    _require_office(by, member.organization_id)
    if week_start.weekday() != settings_for(member.organization).week_start:
        raise ValidationError(_("That is not the first day of a week."), code="not_week_start")
    with transaction.atomic():
        _lock_member(member)
        found = TimesheetApproval.objects.filter(member=member, week_start=week_start).first()
        if found is not None:
            return found
        approval = TimesheetApproval.objects.create(
            organization_id=member.organization_id, member=member, week_start=week_start,
            approved_by=by, approved_at=timezone.now())
        audit_record(organization=member.organization, actor=by, action="timesheet.approve",
                     obj=approval, changes={"member": [None, member.pk],
                                            "week_start": [None, week_start]})
    return approval


def timesheet_reopen(*, member: Member, week_start: dt.date, by: Member) -> None:
    """Withdraw the approval of ``member``'s week so it can be corrected again."""
    from crewline.core.audit import snapshot
    from crewline.timesheets.models import TimesheetApproval

    _require_office(by, member.organization_id)
    with transaction.atomic():
        _lock_member(member)
        approval = TimesheetApproval.objects.filter(member=member, week_start=week_start).first()
        if approval is None:
            return
        before = snapshot(approval, ["member", "week_start", "approved_by", "approved_at"])
        audit_record(organization=member.organization, actor=by, action="timesheet.reopen",
                     obj=approval, changes={k: [v, None] for k, v in before.items()})
        approval.delete()


def timesheet_settings_update(*, organization, by: Member, weekly_overtime_hours: Decimal,
                              daily_overtime_hours: Decimal | None, week_start: int):
    """Set the organization's overtime thresholds and first day of the week (owners only)."""
    from crewline.core.audit import diff, snapshot
    from crewline.timesheets.models import TimesheetSettings

    if by.organization_id != organization.pk:
        raise PermissionDenied("Another organization's member.")
    if not by.is_owner:
        raise PermissionDenied(_("Only the owner may change timesheet settings."))
    fields = ["weekly_overtime_hours", "daily_overtime_hours", "week_start"]
    with transaction.atomic():
        settings, _created = TimesheetSettings.objects.select_for_update(no_key=True).get_or_create(
            organization=organization)
        before = snapshot(settings, fields)
        settings.weekly_overtime_hours = weekly_overtime_hours
        settings.daily_overtime_hours = daily_overtime_hours
        settings.week_start = week_start
        settings.full_clean(exclude=["organization"])
        changes = diff(before, snapshot(settings, fields))
        if changes:
            settings.save()
            audit_record(organization=organization, actor=by, action="timesheet.settings",
                         obj=settings, changes=changes)
    return settings
