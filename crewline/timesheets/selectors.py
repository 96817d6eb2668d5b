"""Reads for timesheets: settings, a member's week, every member's week for the overview."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from crewline.core.models import Member, Organization, Role
from crewline.timesheets.hours import Labor, Span, Week, compute_week, local_midnight
from crewline.timesheets.models import TimeEntry, TimesheetApproval, TimesheetSettings
from crewline.workorders.models import EntryKind, TimelineEntry


def settings_for(organization: Organization) -> TimesheetSettings:
    """The organization's settings, or an unsaved row with the defaults."""
    found = TimesheetSettings.objects.filter(organization=organization).first()
    return found or TimesheetSettings(organization=organization)


def _thresholds(settings: TimesheetSettings) -> tuple[int, int | None]:
    weekly = int(settings.weekly_overtime_hours * 60)
    daily = (int(settings.daily_overtime_hours * 60)
             if settings.daily_overtime_hours is not None else None)
    return weekly, daily


def _bounds(organization: Organization, start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = organization.tzinfo
    return local_midnight(start, tz), local_midnight(start + dt.timedelta(days=7), tz)


def time_entries_in(organization: Organization, lo: dt.datetime, hi: dt.datetime,
                    member: Member | None = None) -> QuerySet[TimeEntry]:
    """Entries overlapping [lo, hi), open ones included."""
    qs = (TimeEntry.objects.filter(organization=organization, start__lt=hi)
          .filter(Q(end__gt=lo) | Q(end__isnull=True) | Q(start__gte=lo))
          .select_related("visit__work_order"))
    if member is not None:
        qs = qs.filter(member=member)
    return qs.order_by("start", "id")


def labor_in(organization: Organization, lo: dt.datetime, hi: dt.datetime,
             member: Member | None = None) -> list[tuple[int, Labor]]:
    """``(member id, Labor)`` of the labor entries recorded in [lo, hi).

    The timeline is append-only, so a member's later labor entry on a visit replaces the
    earlier ones: only the latest per member and visit counts.
    """
    qs = (TimelineEntry.objects.filter(organization=organization, kind=EntryKind.LABOR)
          .annotate(at=Coalesce("device_time", "created_at"))
          .filter(at__gte=lo, at__lt=hi)
          .order_by("at", "id").values("id", "at", "visit_id", "data", "author_id"))
    latest: dict[tuple[int, int | None], tuple[int, Labor]] = {}
    for row in qs:
        data = row["data"] or {}
        member_id = data.get("member") or data.get("member_id") or row["author_id"]
        if member_id is None or (member is not None and member_id != member.pk):
            continue
        try:
            minutes = max(0, int(data.get("minutes") or 0))
        except (TypeError, ValueError):
            continue
        key = (member_id, row["visit_id"] if row["visit_id"] is not None else -row["id"])
        latest[key] = (member_id, Labor(at=row["at"], minutes=minutes,
                                        visit_id=row["visit_id"]))
    return list(latest.values())


def _span(entry: TimeEntry) -> Span:
    return Span(kind=entry.kind, start=entry.start, end=entry.end, visit_id=entry.visit_id,
                id=entry.pk)


@dataclass
class MemberWeek:
    member: Member
    week: Week
    entries: list[TimeEntry]
    approval: TimesheetApproval | None


def member_week(member: Member, start: dt.date, *, now: dt.datetime | None = None,
                settings: TimesheetSettings | None = None) -> MemberWeek:
    organization = member.organization
    settings = settings or settings_for(organization)
    weekly, daily = _thresholds(settings)
    lo, hi = _bounds(organization, start)
    entries = list(time_entries_in(organization, lo, hi, member))
    labor = [item for _, item in labor_in(organization, lo, hi, member)]
    week = compute_week(spans=[_span(e) for e in entries], labor=labor,
                        tz=organization.tzinfo, start=start, weekly_minutes=weekly,
                        daily_minutes=daily, now=now or timezone.now())
    approval = (TimesheetApproval.objects.filter(member=member, week_start=start)
                .select_related("approved_by__user").first())
    return MemberWeek(member=member, week=week, entries=entries, approval=approval)


def week_is_approved(member: Member, start: dt.date) -> bool:
    return TimesheetApproval.objects.filter(member=member, week_start=start).exists()


def timesheet_members(organization: Organization) -> QuerySet[Member]:
    return (Member.objects.filter(organization=organization, is_active=True)
            .select_related("user").order_by("user__full_name", "id"))


def weeks_for_org(organization: Organization, start: dt.date, *,
                  now: dt.datetime | None = None) -> list[MemberWeek]:
    """Every technician's week, and any other member's who recorded time in it.

    A fixed number of queries, however many members and entries there are.
    """
    settings = settings_for(organization)
    weekly, daily = _thresholds(settings)
    lo, hi = _bounds(organization, start)
    entries: dict[int, list[TimeEntry]] = defaultdict(list)
    for entry in time_entries_in(organization, lo, hi):
        entries[entry.member_id].append(entry)
    labor: dict[int, list[Labor]] = defaultdict(list)
    for member_id, item in labor_in(organization, lo, hi):
        labor[member_id].append(item)
    approvals = {a.member_id: a for a in TimesheetApproval.objects
                 .filter(organization=organization, week_start=start)
                 .select_related("approved_by__user")}
    now = now or timezone.now()
    result = []
    for member in timesheet_members(organization):
        if member.role != Role.TECHNICIAN and not entries.get(member.pk) \
                and not labor.get(member.pk):
            continue
        week = compute_week(spans=[_span(e) for e in entries.get(member.pk, [])],
                            labor=labor.get(member.pk, []), tz=organization.tzinfo,
                            start=start, weekly_minutes=weekly, daily_minutes=daily, now=now)
        result.append(MemberWeek(member=member, week=week, entries=entries.get(member.pk, []),
                                 approval=approvals.get(member.pk)))
    return result
