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
from crewline.workorders.selectors import labor_that_counts
from crewline.workorders.timeline import entry_data


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
    """``(member id, Labor)`` of the labor that counts (``labor_that_counts``: a member's
    latest labor entry on a visit) and was done in [lo, hi), by the phone's time.

    A correction made on a later day replaces the earlier entry wherever it falls: the
    visits' later entries are read too.
    """
    labor = (TimelineEntry.objects.filter(organization=organization, kind=EntryKind.LABOR)
             .annotate(at=Coalesce("device_time", "created_at"))
             .only("id", "visit_id", "data", "created_at", "device_time", "kind"))
    in_window = list(labor.filter(at__gte=lo, at__lt=hi))
    visit_ids = {e.visit_id for e in in_window} - {None}
    later = labor.filter(visit_id__in=visit_ids, at__gte=hi) if visit_ids else labor.none()
    counted = labor_that_counts([*in_window, *later])
    return [(entry_data(e).member_id, Labor(at=e.at, minutes=entry_data(e).minutes,
                                            visit_id=e.visit_id))
            for e in counted if lo <= e.at < hi
            and (member is None or entry_data(e).member_id == member.pk)]


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
    approval = (TimesheetApproval.objects.filter(organization_id=organization.pk, member=member,
                                                 week_start=start)
                .select_related("approved_by__user").first())
    return MemberWeek(member=member, week=week, entries=entries, approval=approval)


def week_is_approved(member: Member, start: dt.date) -> bool:
    return TimesheetApproval.objects.filter(organization_id=member.organization_id, member=member,
                                            week_start=start).exists()


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
