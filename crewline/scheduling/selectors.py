"""Reads for the dispatch board: technicians, the visits of a day or a week, and the queue of work
waiting to be scheduled.

``board(...)`` returns a small value object the templates render without further queries: every
block's position, colour, labels and conflicts are worked out here, once, in Python. Its query
count is fixed (technicians, visits with their crews, working hours, time off, conflicts, queue)
whatever the number of visits. Where things sit on the day's grid is ``board.py``'s.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, QuerySet
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from crewline.core.models import Member, Organization, Role, Skill
from crewline.formats.durations import format_duration
from crewline.scheduling.board import (
    DAY,
    WEEK,
    DayGrid,
    assign_lanes,
    business_hours_of,
    local_midnight,
)
from crewline.scheduling.conflicts import check_conflicts_bulk, site_coordinates
from crewline.workorders.models import (
    OPEN_VISIT_STATUSES,
    Priority,
    Status,
    Visit,
    VisitStatus,
    WorkOrder,
)
from crewline.workorders.selectors import (
    ready_to_close,
    ready_to_close_ids,
    with_last_reason,
)

SNAP_MINUTES = 15
DEFAULT_MINUTES = 60
QUEUE_LIMIT = 100
# Visits that started this long before the shown range are looked for (a multi-day job); a
# lower bound keeps the query on the (organization, start) index instead of the whole history.
LONGEST_VISIT = dt.timedelta(days=7)
# Statuses shown when the dispatcher has not filtered: everything but cancelled visits.
DEFAULT_STATUSES = tuple(s for s in VisitStatus.values if s != VisitStatus.CANCELLED)
# Work in these statuses may still need a visit; on hold waits for something else first.
QUEUE_WORK_ORDER_STATUSES = (Status.NEW, Status.SCHEDULED, Status.IN_PROGRESS)


def technicians(*, organization: Organization, skill: Skill | int | None = None
                ) -> QuerySet[Member]:
    """Active technicians by name, optionally only those having ``skill``."""
    qs = (Member.objects.filter(organization=organization, role=Role.TECHNICIAN, is_active=True)
          .select_related("user").order_by("user__full_name", "id"))
    if skill is not None:
        qs = qs.filter(skills=skill)
    return qs


BOARD_VISIT_FIELDS = (
    "pk", "start", "end", "status", "work_order__number", "work_order__title",
    "work_order__customer__name", "work_order__site__address_line1", "work_order__site__city",
    "work_order__requested_start", "work_order__requested_end", "work_order_id",
    "work_order__site_id", "locked",
)


class BoardVisit(NamedTuple):
    """The columns of a visit the board shows; plain values are far cheaper than models (and
    a named tuple, made from a row as it comes, cheaper than a frozen dataclass)."""

    pk: int
    start: dt.datetime
    end: dt.datetime
    status: str
    number: int
    title: str
    customer: str
    address_line1: str | None
    city: str | None
    requested_start: dt.datetime | None
    requested_end: dt.datetime | None
    work_order_id: int
    site_id: int | None
    locked: bool  # kept in place when the day is planned
    latitude: float | None  # the site's, for the conflict rules' drive times
    longitude: float | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_VISIT_STATUSES

    @property
    def reference(self) -> str:
        return f"WO-{self.number}"

    @property
    def address(self) -> str:
        line, city = self.address_line1, self.city
        return f"{line}, {city}" if line and city else line or city or ""


def _visits_overlapping(*, organization: Organization, start: dt.datetime, end: dt.datetime,
                        statuses: Sequence[str]) -> QuerySet[Visit]:
    """Timed visits overlapping ``[start, end)`` (the board reads them as ``BoardVisit`` rows,
    ``BOARD_VISIT_FIELDS`` and the site's coordinates, with their crews)."""
    return Visit.objects.filter(organization=organization, start__lt=end, end__gt=start,
                                start__gte=start - LONGEST_VISIT, status__in=list(statuses))


def estimated_minutes(work_order: WorkOrder) -> int:
    """The work order's estimate, else its job type's usual duration, else an hour."""
    if work_order.estimated_minutes:
        return work_order.estimated_minutes
    if work_order.job_type_id and work_order.job_type.default_duration_minutes:
        return work_order.job_type.default_duration_minutes
    return DEFAULT_MINUTES


def queue_entries(*, organization: Organization) -> QuerySet[WorkOrder]:
    """Work waiting to be scheduled, in one pass over the open work orders.

    Each open work order (new, scheduled or in progress) joined with its open visits, keeping:
    the work order alone (``open_visit`` null) when it has no open visit and is not ready to
    close (``workorders.selectors.ready_to_close``): nobody has planned it yet, or its last
    visit asked for another (``last_reason`` says why); and each scheduled visit of it that
    lacks a time or a crew. One query rather than one for each kind: both walk the same work
    orders and their visits.
    """
    def entries(work_orders: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
        has_crew = Visit.crew.through.objects.filter(visit=OuterRef("open_visit"))
        return (work_orders
                .annotate(open_visit=FilteredRelation(
                    "visits", condition=Q(visits__status__in=OPEN_VISIT_STATUSES)))
                .filter(Q(open_visit__isnull=True)
                        | Q(open_visit__status=VisitStatus.SCHEDULED)
                        & (Q(open_visit__start__isnull=True) | ~Exists(has_crew))))

    # Picked out in a subquery that reads only the (organization, status) index of the work
    # orders: the outer query reads the rows of the few picked, not of every open one (and
    # the planner would otherwise walk the whole history: completed work outnumbers open work
    # by far).
    waiting = (entries(WorkOrder.objects.filter(organization=organization,
                                                status__in=QUEUE_WORK_ORDER_STATUSES))
               .exclude(pk__in=ready_to_close_ids(organization)))
    return with_last_reason(entries(WorkOrder.objects.filter(organization=organization,
                                                             pk__in=waiting.values("pk"))))


@dataclass
class Block:
    """A visit as it shows on one technician's row (day view) or in one day cell (week view)."""

    visit_id: int
    status: str
    status_label: str
    reference: str
    number: int
    title: str
    customer: str
    address: str
    date: str  # local date of the start, ISO
    time: str  # local time of the start, HH:MM
    minutes: int
    label: str  # "09:00–10:30"
    crew_size: int
    locked: bool = False  # kept in place when the day is planned
    left: float = 0.0  # percent of the grid
    width: float = 0.0
    window_left: float | None = None  # the customer's requested window, percent of the grid
    window_width: float = 0.0
    window_label: str = ""
    starts_before: bool = False
    ends_after: bool = False
    conflicts: list[str] = field(default_factory=list)
    lane: int = 0


@dataclass
class Cell:
    """One day of one technician in the week view."""

    day: dt.date
    blocks: list[Block]
    off: bool
    iso: str = ""  # set by ``board.present``
    label: str = ""
    is_today: bool = False
    classes: str = ""
    html: str = ""  # its chips


@dataclass
class Row:
    member_id: int
    name: str
    initials: str
    colour: str
    blocks: list[Block] = field(default_factory=list)
    # Spans outside the member's working time (percent of the grid): shaded on the row.
    off: list[tuple[float, float]] = field(default_factory=list)
    away: list[tuple[float, float, str]] = field(default_factory=list)
    days: list[list[Block]] = field(default_factory=list)  # week view: one list per day
    cells: list[Cell] = field(default_factory=list)
    booked_minutes: int = 0
    lanes: int = 1
    # Set by ``board.present`` for the templates.
    colour_text: str = ""
    load: str = ""
    lanes_class: str = ""
    off_places: list[str] = field(default_factory=list)
    away_places: list[tuple[str, str]] = field(default_factory=list)
    html: str = ""  # day view: its blocks

    @property
    def booked_label(self) -> str:
        return format_duration(self.booked_minutes)


@dataclass
class QueueItem:
    kind: str  # "work_order" or "visit"
    key: str  # "wo-1042" / "visit-7": the DOM id
    number: int
    visit_id: int | None
    reference: str
    title: str
    customer: str
    address: str
    priority: int
    priority_label: str
    due: dt.date | None
    due_label: str
    overdue: bool
    minutes: int
    reason: str
    window_label: str


@dataclass
class Board:
    view: str
    day: dt.date
    days: list[dt.date]
    tz: dt.tzinfo
    rows: list[Row]
    hours: list[tuple[str, float]] = field(default_factory=list)  # ("09:00", left %)
    closed: list[tuple[float, float]] = field(default_factory=list)
    grid_start: dt.datetime | None = None
    grid_minutes: int = 0
    first_hour: int = 0
    queue: list[QueueItem] = field(default_factory=list)
    queue_more: bool = False
    # Work orders whose visits are all done, for the office to close.
    ready: list[ReadyItem] = field(default_factory=list)
    ready_count: int = 0
    visit_count: int = 0
    conflict_count: int = 0
    now_left: float | None = None


def initials(name: str) -> str:
    parts = [p for p in name.split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def _conflicts_by_visit(organization: Organization, visits: list[BoardVisit],
                        crews: dict[int, list[int]], members: list[Member],
                        overlapping: QuerySet[Visit]
                        ) -> dict[int, list[tuple[int | None, str]]]:
    """``{visit_id: [(member_id or None, message), ...]}`` from the conflict rules.

    ``overlapping``: a query of (at least) ``visits``, for their work orders' required skills.
    """
    if not visits:
        return {}
    places = {v.pk: (v.work_order_id, v.site_id, v.latitude, v.longitude) for v in visits}
    # Through a subquery: a week's thousands of work order ids cost more as parameters.
    required: dict[int, dict[int, str]] = defaultdict(dict)
    for wo_id, skill_id, name in (
            WorkOrder.required_skills.through.objects
            .filter(workorder_id__in=overlapping.order_by().values("work_order_id"),
                    skill__organization=organization)
            .values_list("workorder_id", "skill_id", "skill__name")):
        required[wo_id][skill_id] = name
    found = check_conflicts_bulk(organization=organization, visits=visits, crews=crews,
                                 places=places, required=required, members=members)
    result: dict[int, list[tuple[int | None, str]]] = {}
    for visit_id, conflicts in found.items():
        if conflicts:
            result[visit_id] = [
                (getattr(c.member, "pk", c.member), str(c.message)) for c in conflicts
            ]
    return result


def _working_time(organization: Organization, member_ids: list[int], days: list[dt.date]
                  ) -> tuple[dict[int, dict[int, list[tuple[dt.time, dt.time]]]],
                             dict[int, list[Any]]]:
    """Each member's working hours by weekday (absent: follows business hours) and time off."""
    from crewline.scheduling.models import TimeOff, WorkingHours

    hours: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = {}
    for member_id, weekday, start, end in (
            WorkingHours.objects.filter(organization=organization, member_id__in=member_ids)
            .order_by("member_id", "weekday", "start")
            .values_list("member_id", "weekday", "start", "end")):
        hours.setdefault(member_id, defaultdict(list))[weekday].append((start, end))
    tz = organization.tzinfo
    range_start = local_midnight(days[0], tz)
    range_end = local_midnight(days[-1] + dt.timedelta(days=1), tz)
    away: dict[int, list[Any]] = defaultdict(list)
    for t in TimeOff.objects.filter(organization=organization, member_id__in=member_ids,
                                    start__lt=range_end, end__gt=range_start):
        away[t.member_id].append(t)
    return hours, away


def board(*, organization: Organization, day: dt.date, view: str = DAY,
          skill: Skill | int | None = None, statuses: Sequence[str] = DEFAULT_STATUSES,
          member_ids: Iterable[int] | None = None, with_queue: bool = True,
          queue_sort: str = "priority", now: dt.datetime | None = None) -> Board:
    """The dispatch board for ``day`` (``view="day"``) or its Monday-to-Sunday week.

    ``member_ids`` limits the rows (to re-render only the rows a change touched).
    """
    tz = organization.tzinfo
    if view == WEEK:
        monday = day - dt.timedelta(days=day.weekday())
        days = [monday + dt.timedelta(days=i) for i in range(7)]
    else:
        days = [day]
    range_start = local_midnight(days[0], tz)
    range_end = local_midnight(days[-1] + dt.timedelta(days=1), tz)

    members = technicians(organization=organization, skill=skill)
    if member_ids is not None:
        members = members.filter(pk__in=list(member_ids))
    members = list(members)
    shown = {m.pk for m in members}

    overlapping = _visits_overlapping(organization=organization, start=range_start,
                                      end=range_end, statuses=statuses)
    # One row per visit and crew member (none: no crew), so the crews come with the visits.
    visits: list[BoardVisit] = []
    crews: dict[int, list[int]] = {}
    last = None
    for *row, member_id in (overlapping.order_by("start", "id", "crew__id")
                            .values_list(*BOARD_VISIT_FIELDS,
                                         *site_coordinates("work_order__site__"), "crew__id")):
        if row[0] != last:
            visits.append(BoardVisit(*row))
            last = row[0]
        if member_id is not None:
            crews.setdefault(last, []).append(member_id)
    day_visits = visits
    visits = [v for v in visits if not shown.isdisjoint(crews.get(v.pk, ()))]
    conflicts = _conflicts_by_visit(organization, visits, crews, members, overlapping)
    hours_by_member, away = _working_time(organization, list(shown), days) if members else ({},
                                                                                         {})

    result = Board(view=view, day=day, days=days, tz=tz, rows=[], visit_count=len(visits),
                   conflict_count=len(conflicts))
    rows = {m.pk: Row(member_id=m.pk, name=m.name, initials=initials(m.name), colour=m.colour)
            for m in members}
    statuses_labels = {value: str(label) for value, label in VisitStatus.choices}
    bounds = [(d, local_midnight(d, tz), local_midnight(d + dt.timedelta(days=1), tz))
              for d in days]
    day_starts = [d_start for _d, d_start, _e in bounds]
    # The grid widens for every visit of the day, not only the rows asked for, so that rows
    # re-rendered alone line up with the page around them.
    detail_blocks = DayGrid(result, organization, day_visits) if view == DAY else None

    for visit in visits:
        start_local, end_local = visit.start.astimezone(tz), visit.end.astimezone(tz)
        minutes = round((visit.end - visit.start).total_seconds() / 60)
        crew = crews.get(visit.pk, [])
        time = f"{start_local.hour:02d}:{start_local.minute:02d}"  # strftime("%H:%M"), faster
        base = {
            "visit_id": visit.pk, "status": visit.status,
            "status_label": statuses_labels.get(visit.status, visit.status),
            "reference": visit.reference, "number": visit.number, "title": visit.title,
            "customer": visit.customer, "address": visit.address,
            "date": start_local.date().isoformat(), "time": time, "minutes": minutes,
            "label": f"{time}–{end_local.hour:02d}:{end_local.minute:02d}",
            "crew_size": len(crew), "locked": visit.locked,
        }
        notes = conflicts.get(visit.pk, [])
        for member_id in crew:
            row = rows.get(member_id)
            if row is None:
                continue
            messages = [m for who, m in notes if who in (None, member_id)]
            if view == DAY:
                block = Block(**base, conflicts=messages)
                detail_blocks.place(block, visit)
                row.blocks.append(block)
            else:
                if not row.days:
                    row.days = [[] for _ in days]
                # The days it touches: from the one it starts on (or the first) on.
                for i in range(max(0, bisect_right(day_starts, visit.start) - 1), len(days)):
                    d, d_start, d_end = bounds[i]
                    if d_start >= visit.end:
                        break
                    if visit.start < d_end:
                        row.days[i].append(Block(**base, conflicts=messages,
                                                 starts_before=start_local.date() < d,
                                                 ends_after=end_local.date() > d))
            row.booked_minutes += minutes

    for row in rows.values():
        if view == DAY:
            row.lanes = assign_lanes(row.blocks)
            detail_blocks.shade(row, hours_by_member.get(row.member_id), away.get(row.member_id))
        else:
            if not row.days:
                row.days = [[] for _ in days]
            wh = hours_by_member.get(row.member_id)
            row.cells = [
                Cell(day=d, blocks=row.days[i],
                     off=(not wh.get(d.weekday())) if wh is not None
                     else not business_hours_of(organization, d))
                for i, d in enumerate(days)
            ]
    result.rows = [rows[m.pk] for m in members]

    if now is not None and view == DAY and result.grid_start is not None:
        offset = (now - result.grid_start).total_seconds() / 60
        if 0 <= offset <= result.grid_minutes:
            result.now_left = round(offset * 100 / result.grid_minutes, 3)
    if with_queue:
        result.queue, result.queue_more = queue(organization=organization, sort=queue_sort,
                                                today=(now.astimezone(tz).date() if now
                                                       else day))
        result.ready, result.ready_count = ready_items(organization=organization)
    return result


READY_LIMIT = 20


@dataclass
class ReadyItem:
    number: int
    reference: str
    title: str
    customer: str


def ready_items(*, organization: Organization, limit: int = READY_LIMIT
                ) -> tuple[list[ReadyItem], int]:
    """Work orders ready for the office to close (the first ``limit``) and how many in all."""
    rows = list(ready_to_close(organization).values_list("number", "title", "customer__name")
                [:limit + 1])
    count = len(rows)
    if count > limit:
        count = ready_to_close(organization).count()
    return [ReadyItem(number=n, reference=f"WO-{n}", title=t, customer=c)
            for n, t, c in rows[:limit]], count


# The columns of a work order the queue shows, read as plain values (a hundred model instances
# with their customer, site and job type cost far more than the rows).
QUEUE_WORK_ORDER_FIELDS = (
    "number", "status", "title", "priority", "due_date", "requested_start", "requested_end",
    "estimated_minutes", "job_type__default_duration_minutes", "customer__name",
    "site__address_line1", "site__city",
)


def queue(*, organization: Organization, sort: str = "priority", today: dt.date | None = None,
          limit: int = QUEUE_LIMIT) -> tuple[list[QueueItem], bool]:
    """Work waiting to be scheduled, most urgent first (``sort="priority"``) or by due date.

    Returns at most ``limit`` items and whether there were more.
    """
    due = F("due_date").asc(nulls_last=True)
    order = [due, "-priority", "number"] if sort == "due" else ["-priority", due, "number"]
    rows = list(queue_entries(organization=organization)
                .order_by(*order, F("open_visit__id").asc(nulls_first=True))
                .values_list("open_visit__id", "open_visit__start", "open_visit__end",
                             "last_reason", *QUEUE_WORK_ORDER_FIELDS)[:limit + 1])
    labels = _QueueLabels(today, organization.tzinfo)
    not_scheduled, another = _("Not scheduled"), _("Needs another visit")
    no_time, no_crew = _("No time yet"), _("No crew yet")
    items: list[QueueItem] = []
    for visit_id, start, end, left_to_do, *row in rows:
        if visit_id is None:
            reason = not_scheduled if row[1] == Status.NEW else another
            if left_to_do and row[1] != Status.NEW:
                reason = f"{another}: {left_to_do}"
        else:
            reason = no_time if start is None else no_crew
        items.append(labels.item(row, visit_id, start, end, reason))
    more = len(items) > limit
    return items[:limit], more


class _QueueLabels:
    """Makes queue items from rows of ``QUEUE_WORK_ORDER_FIELDS``, formatting each date once."""

    def __init__(self, today: dt.date | None, tz: dt.tzinfo) -> None:
        self.today, self.tz = today, tz
        self.priorities = {value: str(label) for value, label in Priority.choices}
        self.dates: dict[tuple[dt.date, str], str] = {}

    def date(self, day: dt.date, fmt: str) -> str:
        label = self.dates.get((day, fmt))
        if label is None:
            label = self.dates[(day, fmt)] = date_format(day, fmt)
        return label

    def item(self, row: Sequence[Any], visit_id: int | None, start: dt.datetime | None,
             end: dt.datetime | None, reason: str) -> QueueItem:
        (number, _status, title, priority, due, requested_start, requested_end, estimate,
         type_minutes, customer, address_line1, city) = row
        if start is not None and end is not None:
            minutes = round((end - start).total_seconds() / 60)
        else:
            # As ``estimated_minutes``: the estimate, else the job type's, else an hour.
            minutes = estimate or type_minutes or DEFAULT_MINUTES
        window = ""
        if requested_start and requested_end:
            s, e = requested_start.astimezone(self.tz), requested_end.astimezone(self.tz)
            window = f"{self.date(s.date(), 'D j M')} {s:%H:%M}–{e:%H:%M}"
        today = self.today
        return QueueItem(
            kind="visit" if visit_id else "work_order",
            key=f"visit-{visit_id}" if visit_id else f"wo-{number}",
            number=number, visit_id=visit_id, reference=f"WO-{number}", title=title,
            customer=customer, address=", ".join(p for p in (address_line1, city) if p),
            priority=priority, priority_label=self.priorities.get(priority, ""),
            due=due, due_label=self.date(due, "j M") if due else "",
            overdue=bool(today and due and due < today), minutes=minutes,
            reason=reason, window_label=window,
        )
