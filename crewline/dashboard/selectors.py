"""What the office dashboard reads: today at a glance, what is late, what waits, and figures
over a period. Each selector runs a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, Organization, Role
from crewline.timesheets.models import TimeEntry, TimeKind
from crewline.workorders.models import (
    OPEN_STATUSES,
    Status,
    Visit,
    VisitStatus,
    WorkOrder,
)
from crewline.workorders.selectors import (
    no_open_visit,
    ready_to_close_ids,
    with_last_reason,
)

# Work in these statuses may still need a visit; on hold waits for something else first.
SCHEDULABLE_STATUSES = (Status.NEW, Status.SCHEDULED, Status.IN_PROGRESS)
# A work order that counts as completed in the figures (invoicing keeps it completed).
DONE_STATUSES = (Status.COMPLETED, Status.INVOICED)
PERIODS = (7, 30, 90)


def day_bounds(day: dt.date, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The aware start of ``day`` and of the next day in ``tz`` (23 or 25 hours across DST)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


# --- Today -------------------------------------------------------------------------------------

def visits_by_status(organization: Organization, day: dt.date) -> dict[str, int]:
    """Visits whose window touches ``day`` (local), counted by status; every status present."""
    start, end = day_bounds(day, organization.tzinfo)
    rows = (Visit.objects.filter(organization=organization, start__lt=end, end__gt=start)
            .order_by().values_list("status").annotate(n=Count("id")))
    counts = dict.fromkeys(VisitStatus.values, 0)
    counts.update(dict(rows))
    return counts


OFF_SHIFT, CLOCKED_IN, ON_BREAK, EN_ROUTE, ON_SITE = (
    "off_shift", "clocked_in", "on_break", "en_route", "on_site")
STATE_LABELS = {
    OFF_SHIFT: _("Off shift"),
    CLOCKED_IN: _("Clocked in"),
    ON_BREAK: _("On a break"),
    EN_ROUTE: _("On the way"),
    ON_SITE: _("On site"),
}
# Busiest first on the dashboard.
STATE_ORDER = {ON_SITE: 0, EN_ROUTE: 1, ON_BREAK: 2, CLOCKED_IN: 3, OFF_SHIFT: 4}


@dataclass
class TechnicianState:
    member: Member
    state: str
    since: dt.datetime | None = None
    visit: Visit | None = None
    clocked_in_at: dt.datetime | None = None

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


def technician_states(organization: Organization) -> list[TechnicianState]:
    """Each active technician's state now, in three queries.

    A break outranks the visit (the technician on site but on a break is on a break); then on
    site, on the way, clocked in; otherwise off shift. On site runs from ``arrived_at``; on the
    way from the open travel entry when the phone recorded one.
    """
    members = list(Member.objects.filter(organization=organization, role=Role.TECHNICIAN,
                                         is_active=True)
                   .select_related("user").order_by("user__full_name", "pk"))
    open_entries: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
    for member_id, kind, start in (
            TimeEntry.objects.filter(organization=organization, end__isnull=True,
                                     kind__in=[TimeKind.SHIFT, TimeKind.BREAK, TimeKind.TRAVEL])
            .order_by("start").values_list("member_id", "kind", "start")):
        open_entries[member_id][kind] = start
    Crew = Visit.crew.through
    active: dict[int, Visit] = {}
    for link in (Crew.objects
                 .filter(visit__organization=organization,
                         visit__status__in=[VisitStatus.EN_ROUTE, VisitStatus.ON_SITE])
                 .select_related("visit__work_order__customer", "visit__work_order__site")):
        visit, current = link.visit, active.get(link.member_id)
        # On site beats on the way; among equals the later arrival.
        rank = (visit.status == VisitStatus.ON_SITE, visit.arrived_at or visit.updated_at)
        if current is None or rank > (current.status == VisitStatus.ON_SITE,
                                      current.arrived_at or current.updated_at):
            active[link.member_id] = visit
    states = []
    for member in members:
        entries = open_entries.get(member.pk, {})
        visit = active.get(member.pk)
        state = TechnicianState(member=member, state=OFF_SHIFT, visit=visit,
                                clocked_in_at=entries.get(TimeKind.SHIFT))
        if TimeKind.BREAK in entries:
            state.state, state.since = ON_BREAK, entries[TimeKind.BREAK]
        elif visit is not None and visit.status == VisitStatus.ON_SITE:
            state.state, state.since = ON_SITE, visit.arrived_at
        elif visit is not None:
            state.state, state.since = EN_ROUTE, entries.get(TimeKind.TRAVEL)
        elif TimeKind.SHIFT in entries:
            state.state, state.since = CLOCKED_IN, entries[TimeKind.SHIFT]
        states.append(state)
    states.sort(key=lambda s: STATE_ORDER[s.state])
    return states


# --- Late --------------------------------------------------------------------------------------

def _visit_rows(qs: QuerySet[Visit]) -> QuerySet[Visit]:
    return (qs.select_related("work_order__customer", "work_order__site")
            .prefetch_related("crew__user"))


def late_arrivals(organization: Organization, now: dt.datetime) -> QuerySet[Visit]:
    """Visits nobody reached by the end of their window: still scheduled or on the way when the
    window has ended. At exactly the end the crew is not yet late."""
    return _visit_rows(Visit.objects.filter(
        organization=organization,
        status__in=[VisitStatus.SCHEDULED, VisitStatus.EN_ROUTE], end__lt=now,
    ).order_by("end", "pk"))


def overruns(organization: Organization, now: dt.datetime) -> list[Visit]:
    """Visits on site for longer than planned: ``arrived_at`` plus the window's length is before
    ``now``. Each carries ``due_at`` (when it should have finished) and ``over`` (by how much).

    Filtered here rather than in SQL: only visits on site now are read, a few per technician.
    """
    late = []
    for visit in _visit_rows(Visit.objects.filter(
            organization=organization, status=VisitStatus.ON_SITE, arrived_at__isnull=False,
            start__isnull=False)):
        visit.due_at = visit.arrived_at + (visit.end - visit.start)
        if visit.due_at < now:
            visit.over = now - visit.due_at
            late.append(visit)
    late.sort(key=lambda v: v.due_at)
    return late


def overdue_work_orders(organization: Organization, today: dt.date) -> QuerySet[WorkOrder]:
    """Open work orders whose due date has passed (due today is not overdue yet)."""
    return (WorkOrder.objects.filter(organization=organization, status__in=OPEN_STATUSES,
                                     due_date__lt=today)
            .select_related("customer", "site").order_by("due_date", "number"))


# --- Waiting -----------------------------------------------------------------------------------

def unscheduled_work_orders(organization: Organization) -> QuerySet[WorkOrder]:
    """Open work orders (not on hold) with no open visit that are not ready to close: someone
    has to book the next trip. Each has ``last_reason``: what the last visit left to do."""
    # Picked by id from the (organization, status) index, as ``ready_to_close`` does.
    candidates = (WorkOrder.objects.filter(organization=organization,
                                           status__in=SCHEDULABLE_STATUSES)
                  .filter(no_open_visit())
                  .exclude(pk__in=ready_to_close_ids(organization)).values("pk"))
    return (with_last_reason(WorkOrder.objects.filter(organization=organization,
                                                      pk__in=candidates))
            .select_related("customer", "site").order_by("-priority", "number"))


def incomplete_visits(organization: Organization) -> QuerySet[Visit]:
    """Scheduled visits of open work orders that still lack a time or a crew."""
    has_crew = Visit.crew.through.objects.filter(visit_id=OuterRef("pk"))
    return _visit_rows(
        Visit.objects.filter(organization=organization, status=VisitStatus.SCHEDULED,
                             work_order__status__in=SCHEDULABLE_STATUSES)
        .filter(Q(start__isnull=True) | ~Exists(has_crew))
        .order_by(F("start").asc(nulls_first=True), "pk"))


def awaiting_invoice(organization: Organization) -> QuerySet[WorkOrder]:
    """Completed work orders not yet invoiced, oldest completion first."""
    return (WorkOrder.objects.filter(organization=organization, status=Status.COMPLETED)
            .select_related("customer", "site").order_by("completed_at", "number"))


def rejected_changes(organization: Organization) -> QuerySet | None:
    """Unresolved changes from phones that were not applied; ``None`` without the field app."""
    if not apps.is_installed("crewline.field"):
        return None
    from crewline.field.models import RejectedMutation

    return (RejectedMutation.objects.filter(organization=organization, resolved_at__isnull=True)
            .select_related("device__member__user", "work_order").order_by("-created_at", "-pk"))


# --- Figures -----------------------------------------------------------------------------------

@dataclass
class Figures:
    days: list[dt.date]
    completed: list[int]
    completed_total: int = 0
    first_time_fixes: int = 0
    # Average time on site per day (None on a day without finished visits) and overall.
    on_site: list[dt.timedelta | None] = field(default_factory=list)
    on_site_average: dt.timedelta | None = None
    on_site_visits: int = 0
    # None when billing is not installed.
    revenue: list[Decimal] | None = None
    revenue_total: Decimal | None = None
    currency: str = ""
    # Invoices in other currencies than the organization's, totalled apart.
    revenue_other: dict[str, Decimal] = field(default_factory=dict)

    @property
    def first_time_fix_rate(self) -> float | None:
        """Completed work orders that needed exactly one visit, over all completed."""
        if not self.completed_total:
            return None
        return self.first_time_fixes / self.completed_total


def figures(organization: Organization, *, days: int, today: dt.date) -> Figures:
    """Figures over the ``days`` local days ending with ``today``, in four queries."""
    tz = organization.tzinfo
    first = today - dt.timedelta(days=days - 1)
    start = day_bounds(first, tz)[0]
    end = day_bounds(today, tz)[1]
    dates = [first + dt.timedelta(days=i) for i in range(days)]
    index = {d: i for i, d in enumerate(dates)}
    result = Figures(days=dates, completed=[0] * days, currency=organization.currency)

    done = WorkOrder.objects.filter(organization=organization, status__in=DONE_STATUSES,
                                    completed_at__gte=start, completed_at__lt=end)
    for day, n in (done.annotate(day=TruncDate("completed_at", tzinfo=tz)).order_by()
                   .values_list("day").annotate(n=Count("id"))):
        result.completed[index[day]] = n
    result.completed_total = sum(result.completed)
    trips = Count("visits", filter=~Q(visits__status=VisitStatus.CANCELLED))
    result.first_time_fixes = done.annotate(trips=trips).filter(trips=1).count()

    totals: dict[dt.date, list] = defaultdict(lambda: [dt.timedelta(0), 0])
    for arrived, finished in Visit.objects.filter(
            organization=organization, status=VisitStatus.DONE, arrived_at__isnull=False,
            finished_at__gte=start, finished_at__lt=end).values_list("arrived_at", "finished_at"):
        bucket = totals[timezone.localtime(finished, tz).date()]
        bucket[0] += max(finished - arrived, dt.timedelta(0))
        bucket[1] += 1
    result.on_site = [totals[d][0] / totals[d][1] if d in totals else None for d in dates]
    result.on_site_visits = sum(n for _total, n in totals.values())
    if result.on_site_visits:
        result.on_site_average = (sum((t for t, _n in totals.values()), dt.timedelta(0))
                                  / result.on_site_visits)

    if apps.is_installed("crewline.billing"):
        from crewline.billing.models import Invoice, InvoiceStatus

        result.revenue = [Decimal(0)] * days
        for day, currency, amount in (
                Invoice.objects.filter(organization=organization,
                                       status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PAID],
                                       issue_date__gte=first, issue_date__lte=today)
                .order_by().values_list("issue_date", "currency")
                .annotate(amount=Sum(F("subtotal") + F("tax_total")))):
            if currency == organization.currency:
                result.revenue[index[day]] += amount
            else:
                result.revenue_other[currency] = result.revenue_other.get(currency, 0) + amount
        result.revenue_total = sum(result.revenue, Decimal(0))
    return result
