"""Writes to availability: a member's weekly working hours and their time off.

Visits themselves are scheduled by ``crewline.workorders.services`` (``visit_schedule``,
``visit_add``, ``visit_cancel``), which check conflicts through ``conflicts.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core.audit import audit_record, organization_write_lock, to_json_value
from crewline.core.models import WEEKDAYS, Member
from crewline.scheduling.models import TimeOff, WorkingHours

Span = tuple[dt.time, dt.time]


def _same_org(member: Member, by: Member | None) -> None:
    if by is not None and by.organization_id != member.organization_id:
        raise ValidationError(_("Not found in this organization."))


def hours_summary(rows: Iterable[WorkingHours | tuple[int, dt.time, dt.time]]
                  ) -> dict[str, list[str]]:
    """``{"mon": ["08:00–12:00", "13:00–17:00"], ...}`` for the working days only."""
    days: dict[int, list[Span]] = {}
    for row in rows:
        weekday, start, end = ((row.weekday, row.start, row.end)
                               if isinstance(row, WorkingHours) else row)
        days.setdefault(weekday, []).append((start, end))
    return {WEEKDAYS[d]: [f"{a:%H:%M}–{b:%H:%M}" for a, b in sorted(spans)]
            for d, spans in sorted(days.items())}


def working_hours_set(*, member: Member, hours: Mapping[int, Iterable[Span]] | None,
                      by: Member | None) -> list[WorkingHours]:
    """Replace the member's week. ``hours`` maps weekday (0 = Monday) to its spans; a weekday
    left out is a day off. ``None`` removes every row: the member then follows the
    organization's business hours. Spans must be ordered and must not overlap."""
    _same_org(member, by)
    rows: list[WorkingHours] = []
    if hours is not None:
        for weekday, spans in sorted(hours.items()):
            if weekday not in range(7):
                raise ValidationError(_("Weekdays run from 0 (Monday) to 6 (Sunday)."))
            spans = sorted(spans)
            for i, (start, end) in enumerate(spans):
                if end <= start:
                    raise ValidationError(_("Each span must end after it starts."))
                if i and start < spans[i - 1][1]:
                    raise ValidationError(_("Spans on the same day must not overlap."))
                rows.append(WorkingHours(organization_id=member.organization_id, member=member,
                                         weekday=weekday, start=start, end=end))
    with transaction.atomic():
        organization_write_lock(member.organization_id)
        Member.objects.select_for_update(no_key=True).filter(pk=member.pk).values("pk").get()
        existing = WorkingHours.objects.filter(member=member)
        before = hours_summary(existing)
        before_custom = existing.exists()
        existing.delete()
        WorkingHours.objects.bulk_create(rows)
        after = hours_summary(rows)
        changes = {}
        if before_custom != (hours is not None):
            changes["follows_business_hours"] = [not before_custom, hours is None]
        for day in WEEKDAYS:
            if before.get(day) != after.get(day):
                changes[f"hours_{day}"] = [before.get(day), after.get(day)]
        if changes:
            audit_record(organization=member.organization, actor=by,
                         action="working_hours.set", obj=member, changes=changes)
    return rows


def time_off_add(*, member: Member, start: dt.datetime, end: dt.datetime, reason: str = "",
                 by: Member | None) -> TimeOff:
    """Record that ``member`` is away from ``start`` to ``end`` (aware datetimes)."""
    _same_org(member, by)
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("Times must be timezone-aware.")
    if end <= start:
        raise ValidationError({"end": _("The end must be after the start.")})
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise ValidationError({"reason": _("Keep the reason under 200 characters.")})
    with transaction.atomic():
        off = TimeOff.objects.create(organization_id=member.organization_id, member=member,
                                     start=start, end=end, reason=reason, created_by=by)
        audit_record(organization=member.organization, actor=by, action="time_off.add",
                     obj=member, changes={"time_off": [None, {
                         "start": to_json_value(start), "end": to_json_value(end),
                         "reason": reason}]})
    return off


def time_off_remove(*, time_off: TimeOff, by: Member | None) -> None:
    """Delete a time-off entry (a holiday cancelled, an entry made by mistake)."""
    member = time_off.member
    _same_org(member, by)
    with transaction.atomic():
        audit_record(organization=member.organization, actor=by, action="time_off.remove",
                     obj=member, changes={"time_off": [{
                         "start": to_json_value(time_off.start),
                         "end": to_json_value(time_off.end), "reason": time_off.reason}, None]})
        time_off.delete()
