"""Scheduling conflicts: what is wrong with putting a crew on a visit at a given time.

Rules, each a ``Conflict.kind``:

- ``double_booking``: a crew member is on another open visit that overlaps;
- ``outside_hours``: part of the visit falls outside a crew member's working hours (their
  ``WorkingHours`` rows, or the organization's business hours when they have none), in the
  organization's time zone; a visit crossing midnight is checked on both days;
- ``time_off``: a crew member has time off that overlaps;
- ``missing_skill``: a skill the work order requires that nobody in the crew has;
- ``travel_time``: the gap to a crew member's previous or next visit is shorter than the drive
  between the two sites (``crewline.scheduling.travel.drive_time``: the straight line times
  the organization's road factor at its average speed, plus a buffer: the same drive route
  planning plans with); skipped when either site has no coordinates.

Conflicts are warnings: the office may schedule anyway (``override``), and the audit log
records it. ``check_conflicts_bulk`` serves the dispatch board with a constant number of
queries however many visits it shows.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from django.db.models import FloatField
from django.db.models.functions import Cast
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crewline.core.models import WEEKDAYS, Member, Organization, Skill
from crewline.formats.durations import format_duration
from crewline.scheduling.models import TimeOff, WorkingHours
from crewline.scheduling.travel import (
    EARTH_RADIUS_KM,
    drive_time,
    drive_time_km,
    organization_travel,
)

if TYPE_CHECKING:
    from crewline.customers.models import Site
    from crewline.workorders.models import Visit

DOUBLE_BOOKING = "double_booking"
OUTSIDE_HOURS = "outside_hours"
TIME_OFF = "time_off"
MISSING_SKILL = "missing_skill"
TRAVEL_TIME = "travel_time"
KINDS = (DOUBLE_BOOKING, OUTSIDE_HOURS, TIME_OFF, MISSING_SKILL, TRAVEL_TIME)

# How far before and after a visit to look for the neighbouring visits a crew member drives
# from and to; a longer gap is never short of travel time in practice (480 km at 40 km/h).
TRAVEL_LOOKAROUND = dt.timedelta(hours=12)
# Visits longer than this are not looked for before the period checked (see the board's
# selectors, which use the same bound).
LONGEST_VISIT = dt.timedelta(days=7)
END_OF_DAY = dt.time(23, 59)


@dataclass(frozen=True)
class Conflict:
    """One reason a schedule is doubtful, with a message ready to show (already translated)."""

    kind: str
    member: Member | None
    message: str
    other_visit_id: int | None = None


def travel_time(a: tuple[float, float], b: tuple[float, float],
                organization: Organization | None = None) -> dt.timedelta:
    """The estimated drive between two points, buffer included, at the organization's road
    factor and speed (the defaults without one)."""
    return drive_time(a, b, **(organization_travel(organization) if organization else {}))


# --- The data a check needs, loaded once for any number of visits -----------------------------

Point = tuple[float, float]


class _Other(NamedTuple):
    """An open visit a crew member is on, as far as the rules need it."""

    id: int
    start: dt.datetime
    end: dt.datetime
    reference: str
    site_id: int | None
    point: Point | None


@dataclass
class _Spec:
    """What is checked: a window, a crew, a place and the skills it needs."""

    key: int
    visit_id: int | None
    start: dt.datetime | None
    end: dt.datetime | None
    crew_ids: list[int]
    site_id: int | None
    point: Point | None
    required: dict[int, str] = field(default_factory=dict)


def _point(lat, lng) -> Point | None:
    if lat is None or lng is None:
        return None
    return (float(lat), float(lng))


def site_coordinates(prefix: str) -> tuple[Cast, Cast]:
    """A site's latitude and longitude read as floats (``prefix``: the path to the site).

    What ``_point`` would make of the decimals, without building a ``Decimal`` for each row.
    """
    return (Cast(f"{prefix}latitude", FloatField()), Cast(f"{prefix}longitude", FloatField()))


class _Timeline:
    """A crew member's open visits sorted by (start, id), to find neighbours by bisection.

    ``longest`` bounds how far before a moment a visit that still runs at it can have started.
    """

    __slots__ = ("longest", "starts", "visits")

    def __init__(self, visits: list[_Other]) -> None:
        self.visits = sorted(visits, key=lambda v: (v.start, v.id))
        self.starts = [v.start for v in self.visits]
        self.longest = max((v.end - v.start for v in self.visits), default=dt.timedelta(0))


class _Context:
    """Members, hours, time off and neighbouring visits for a set of crew members and a period.

    Five queries, whatever the number of members and visits. What the rules derive from them
    (sorted crews, each member's visits in order, working spans, drive times) is worked out
    once and kept, so checking many visits costs little more than checking one.
    """

    def __init__(self, organization: Organization, member_ids: set[int],
                 lo: dt.datetime | None, hi: dt.datetime | None,
                 members: dict[int, Member] | None = None) -> None:
        from crewline.workorders.models import OPEN_VISIT_STATUSES, Visit

        self.organization = organization
        self.tz = organization.tzinfo
        if members is None:
            members = {m.pk: m for m in Member.objects.for_org(organization)
                       .filter(pk__in=member_ids).select_related("user")}
        self.members = members
        self.skills: dict[int, set[int]] = defaultdict(set)
        self.hours: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = {}
        self.time_off: dict[int, list[tuple[dt.datetime, dt.datetime, str]]] = defaultdict(list)
        self.visits: dict[int, list[_Other]] = defaultdict(list)
        self._crews: dict[tuple[int, ...], list[tuple[Member, str]]] = {}
        self._timelines: dict[int, _Timeline | None] = {}
        self._time_off_sorted: dict[int, list[tuple[dt.datetime, dt.datetime, str]]] = {}
        self._day_hours: dict[tuple[int | None, dt.date], list[tuple[dt.time, dt.time]]] = {}
        self._intervals: dict[tuple[int | None, dt.date, dt.date],
                              list[tuple[dt.datetime, dt.datetime]]] = {}
        self._travel: dict[tuple[Point, Point], dt.timedelta] = {}
        self._drive = organization_travel(organization)
        self._points: dict[Point, tuple[float, float, float]] = {}
        self._date_labels: dict[tuple[dt.date, str], str] = {}
        if not member_ids:
            return
        for member_id, skill_id in (Member.skills.through.objects
                                    .filter(member_id__in=member_ids)
                                    .values_list("member_id", "skill_id")):
            self.skills[member_id].add(skill_id)
        for row in (WorkingHours.objects.for_org(organization).filter(member_id__in=member_ids)
                    .values_list("member_id", "weekday", "start", "end")):
            member_id, weekday, start, end = row
            self.hours.setdefault(member_id, defaultdict(list))[weekday].append((start, end))
        if lo is None or hi is None:
            return
        for member_id, start, end, reason in (
                TimeOff.objects.for_org(organization)
                .filter(member_id__in=member_ids, start__lt=hi, end__gt=lo)
                .values_list("member_id", "start", "end", "reason")):
            self.time_off[member_id].append((start, end, reason))
        rows = (Visit.crew.through.objects
                .filter(member_id__in=member_ids, visit__organization=organization,
                        visit__status__in=OPEN_VISIT_STATUSES,
                        visit__start__lt=hi + TRAVEL_LOOKAROUND,
                        visit__end__gt=lo - TRAVEL_LOOKAROUND,
                        # A lower bound on the start keeps this on the (organization, start)
                        # index; without it SQLite walks every visit of the crew's history.
                        visit__start__gte=lo - TRAVEL_LOOKAROUND - LONGEST_VISIT)
                .values_list("member_id", "visit_id", "visit__start", "visit__end",
                             "visit__work_order__number", "visit__work_order__site_id",
                             *site_coordinates("visit__work_order__site__")))
        for member_id, visit_id, start, end, number, site_id, lat, lng in rows:
            self.visits[member_id].append(_Other(visit_id, start, end, f"WO-{number}", site_id,
                                                 _point(lat, lng)))

    # What the rules derive from the rows, worked out once per context.

    def crew(self, crew_ids: list[int]) -> list[tuple[Member, str]]:
        """The crew's members with their names, by name (another organization's left out)."""
        key = tuple(crew_ids)
        crew = self._crews.get(key)
        if crew is None:
            crew = [(m, m.name) for m in (self.members.get(pk) for pk in crew_ids)
                    if m is not None]
            crew.sort(key=lambda pair: (pair[1].lower(), pair[0].pk))
            self._crews[key] = crew
        return crew

    def timeline(self, member_id: int) -> _Timeline | None:
        try:
            return self._timelines[member_id]
        except KeyError:
            visits = self.visits.get(member_id)
            line = self._timelines[member_id] = _Timeline(visits) if visits else None
            return line

    def time_off_of(self, member_id: int) -> list[tuple[dt.datetime, dt.datetime, str]]:
        found = self._time_off_sorted.get(member_id)
        if found is None:
            found = self._time_off_sorted[member_id] = sorted(self.time_off.get(member_id, ()))
        return found

    def travel(self, a: Point, b: Point) -> dt.timedelta:
        """``travel_time(a, b, organization)``, each point's radians and cosine worked out
        once."""
        needed = self._travel.get((a, b))
        if needed is None:
            lat1, lon1, cos1 = self._radians(a)
            lat2, lon2, cos2 = self._radians(b)
            # haversine_km's arithmetic, step for step: the same float, the same minutes.
            h = (math.sin((lat2 - lat1) / 2) ** 2
                 + cos1 * cos2 * math.sin((lon2 - lon1) / 2) ** 2)
            km = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
            needed = drive_time_km(km, **self._drive)
            self._travel[(a, b)] = needed
        return needed

    def _radians(self, point: Point) -> tuple[float, float, float]:
        found = self._points.get(point)
        if found is None:
            lat, lon = math.radians(point[0]), math.radians(point[1])
            found = self._points[point] = (lat, lon, math.cos(lat))
        return found

    # Formatting, in the organization's time zone.

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)

    def hm(self, moment: dt.datetime) -> str:
        return self.local(moment).strftime("%H:%M")

    def when(self, moment: dt.datetime) -> str:
        return f"{self.date_label(self.local(moment).date(), 'D j M')} {self.hm(moment)}"

    def date_label(self, day: dt.date, fmt: str) -> str:
        """``date_format(day, fmt)``, worked out once per date (it is slow, and a busy board
        names the same few days in many messages)."""
        label = self._date_labels.get((day, fmt))
        if label is None:
            label = self._date_labels[(day, fmt)] = date_format(day, fmt)
        return label

    def span(self, start: dt.datetime, end: dt.datetime, near: dt.datetime) -> tuple[str, str]:
        """Times alone when on the same local day as ``near``, with the date otherwise."""
        day = self.local(near).date()
        fmt_start = self.hm(start) if self.local(start).date() == day else self.when(start)
        fmt_end = self.hm(end) if self.local(end).date() == day else self.when(end)
        return fmt_start, fmt_end

    # Working hours.

    def day_hours(self, member_id: int, day: dt.date) -> list[tuple[dt.time, dt.time]]:
        """The member's working spans on a local date: their own rows, else business hours.

        The list is shared by later calls: do not change it.
        """
        # Keyed by whose hours apply: everyone without their own shares the business hours.
        key = (member_id if member_id in self.hours else None, day)
        found = self._day_hours.get(key)
        if found is not None:
            return found
        own = self.hours.get(member_id)
        if own is not None:
            found = sorted(own.get(day.weekday(), []))
        else:
            span = (self.organization.business_hours or {}).get(WEEKDAYS[day.weekday()])
            found = ([(dt.time.fromisoformat(span[0]), dt.time.fromisoformat(span[1]))]
                     if span else [])
        self._day_hours[key] = found
        return found

    def working_intervals(self, member_id: int, first: dt.date,
                          last: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """Working spans from ``first`` to ``last`` (local dates) as UTC instants.

        Each span is placed on its own date in the organization's zone, so a daylight-saving
        change moves it with the wall clock. Compared in UTC: aware datetimes sharing a tzinfo
        compare by wall time, which is wrong across a change. The list is shared by later
        calls: do not change it.
        """
        key = (member_id if member_id in self.hours else None, first, last)
        found = self._intervals.get(key)
        if found is not None:
            return found
        spans = []
        day = first
        while day <= last:
            for start, end in self.day_hours(member_id, day):
                # A day that ends at 23:59 runs to midnight, so a night shift carries on into
                # the next day's hours without a one-minute hole.
                end_at = (dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), self.tz)
                          if end >= END_OF_DAY else dt.datetime.combine(day, end, self.tz))
                spans.append((dt.datetime.combine(day, start, self.tz).astimezone(dt.UTC),
                              end_at.astimezone(dt.UTC)))
            day += dt.timedelta(days=1)
        found = self._intervals[key] = sorted(spans)
        return found


def _first_uncovered(start: dt.datetime, end: dt.datetime,
                     spans: list[tuple[dt.datetime, dt.datetime]]) -> dt.datetime | None:
    """The first instant of [start, end) that no span covers, or None when all is covered."""
    cursor = start.astimezone(dt.UTC)
    end = end.astimezone(dt.UTC)
    for span_start, span_end in spans:
        if span_start > cursor:
            break
        if span_end > cursor:
            cursor = span_end
        if cursor >= end:
            return None
    return cursor if cursor < end else None


def _check(ctx: _Context, spec: _Spec) -> list[Conflict]:
    """The conflicts of one window, crew and place, in the order the rules give them.

    Messages are formatted only for the rules that fire; everything else is comparisons of
    instants, on each member's visits found by bisection rather than by a walk through all of
    them (a week's board checks thousands of visits).
    """
    conflicts: list[Conflict] = []
    crew = ctx.crew(spec.crew_ids)

    if spec.required and crew:
        covered = set().union(*(ctx.skills.get(m.pk, set()) for m, _name in crew))
        missing = sorted(name for pk, name in spec.required.items() if pk not in covered)
        if missing:
            if len(crew) == 1:
                message = _("%(name)s does not have the skills this job needs: %(skills)s.") % {
                    "name": crew[0][1], "skills": ", ".join(missing)}
            else:
                message = _("Nobody in the crew has the skills this job needs: %(skills)s.") % {
                    "skills": ", ".join(missing)}
            conflicts.append(Conflict(MISSING_SKILL, None, message))

    if spec.start is None or spec.end is None or not crew:
        return conflicts
    start, end = spec.start, spec.end
    visit_id = spec.visit_id
    first = ctx.local(start).date()
    last = ctx.local(end - dt.timedelta(microseconds=1)).date()

    for member, name in crew:
        line = ctx.timeline(member.pk)

        if line is not None:
            # Overlapping: started before the end, and (no visit being longer than the
            # longest) after the start less the longest.
            lo = bisect_right(line.starts, start - line.longest)
            hi = bisect_left(line.starts, end, lo)
            for other in line.visits[lo:hi]:
                if other.end > start and other.id != visit_id:
                    s, e = ctx.span(other.start, other.end, start)
                    conflicts.append(Conflict(DOUBLE_BOOKING, member, _(
                        "%(name)s is already on %(ref)s from %(start)s to %(end)s.") % {
                        "name": name, "ref": other.reference, "start": s, "end": e}, other.id))

        spans = ctx.working_intervals(member.pk, first, last)
        gap = _first_uncovered(start, end, spans)
        if gap is not None:
            day = ctx.local(gap).date()
            hours = ctx.day_hours(member.pk, day)
            day_label = ctx.date_label(day, "l j F")
            if not hours:
                message = _("%(name)s does not work on %(day)s.") % {"name": name,
                                                                     "day": day_label}
            else:
                s, e = ctx.span(start, end, start)
                message = _("%(name)s works %(hours)s on %(day)s; this visit runs from "
                            "%(start)s to %(end)s.") % {
                    "name": name, "day": day_label, "start": s, "end": e,
                    "hours": ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in hours)}
            conflicts.append(Conflict(OUTSIDE_HOURS, member, message))

        for off_start, off_end, reason in ctx.time_off_of(member.pk):
            if off_start < end and off_end > start:
                params = {"name": name, "start": ctx.when(off_start), "end": ctx.when(off_end),
                          "reason": reason}
                message = (_("%(name)s is off from %(start)s to %(end)s (%(reason)s).") % params
                           if reason else
                           _("%(name)s is off from %(start)s to %(end)s.") % params)
                conflicts.append(Conflict(TIME_OFF, member, message))

        if spec.point is None or line is None:
            continue
        # The latest visit ending in the lookaround before the start (ties: the higher id),
        # and the first starting in the lookaround after the end.
        previous = None
        since = start - TRAVEL_LOOKAROUND
        lo = bisect_right(line.starts, since - line.longest)
        hi = bisect_right(line.starts, start, lo)
        for v in line.visits[lo:hi]:
            if (since < v.end <= start and v.id != visit_id
                    and (previous is None or (v.end, v.id) > (previous.end, previous.id))):
                previous = v
        following = None
        until = end + TRAVEL_LOOKAROUND
        for i in range(bisect_left(line.starts, end), len(line.visits)):
            v = line.visits[i]
            if v.start >= until:
                break
            if v.id != visit_id:
                following = v
                break
        if (previous is not None and previous.point is not None
                and previous.site_id != spec.site_id):
            needed = ctx.travel(previous.point, spec.point)
            if start - previous.end < needed:
                conflicts.append(Conflict(TRAVEL_TIME, member, _(
                    "%(name)s needs about %(needed)s to get here from %(ref)s, which "
                    "ends at %(end)s, but has only %(gap)s.") % {
                    "name": name, "needed": format_duration(round(needed.total_seconds() / 60)),
                    "ref": previous.reference, "end": ctx.span(previous.end, previous.end,
                                                               start)[0],
                    "gap": format_duration(int((start - previous.end).total_seconds() // 60))},
                    previous.id))
        if (following is not None and following.point is not None
                and following.site_id != spec.site_id):
            needed = ctx.travel(spec.point, following.point)
            if following.start - end < needed:
                conflicts.append(Conflict(TRAVEL_TIME, member, _(
                    "%(name)s needs about %(needed)s to get from here to %(ref)s, which "
                    "starts at %(start)s, but has only %(gap)s.") % {
                    "name": name, "needed": format_duration(round(needed.total_seconds() / 60)),
                    "ref": following.reference,
                    "start": ctx.span(following.start, following.start, start)[0],
                    "gap": format_duration(int((following.start - end).total_seconds() // 60))},
                    following.id))
    return conflicts


# --- Public API ----------------------------------------------------------------------------


def check_conflicts(*, organization: Organization, start: dt.datetime | None,
                    end: dt.datetime | None, crew: list[Member], visit: Visit | None = None,
                    site: Site | None = None,
                    required_skills: Iterable[Skill] = ()) -> list[Conflict]:
    """What would be wrong with ``crew`` working from ``start`` to ``end``.

    ``visit`` (when rescheduling one) is not counted against itself. ``site`` and
    ``required_skills`` default to those of ``visit.work_order``. Without a start and end only
    the skills are checked.
    """
    if (start is None) != (end is None):
        raise ValueError("Give both start and end, or neither.")
    crew = list(crew)
    required = {s.pk: s.name for s in required_skills}
    if visit is not None:
        work_order = visit.work_order
        if site is None and work_order.site_id is not None:
            site = work_order.site
        if not required:
            required = dict(work_order.required_skills.values_list("pk", "name"))
    members = {m.pk: m for m in crew}
    ctx = _Context(organization, set(members), start, end, members=members)
    spec = _Spec(key=0, visit_id=visit.pk if visit is not None else None, start=start, end=end,
                 crew_ids=list(members), site_id=site.pk if site is not None else None,
                 point=_point(site.latitude, site.longitude) if site is not None else None,
                 required=required)
    return _check(ctx, spec)


def check_conflicts_bulk(*, organization: Organization, visits: list[Visit],
                         crews: dict[int, list[int]] | None = None,
                         places: dict[int, tuple[int, int | None, float | None, float | None]]
                         | None = None,
                         required: dict[int, dict[int, str]] | None = None,
                         members: Iterable[Member] | None = None) -> dict[int, list[Conflict]]:
    """Conflicts of each of ``visits`` (by visit id), for the dispatch board.

    ``visits`` need ``pk``, ``start``, ``end`` and ``is_open``. A constant number of queries
    (eight) whatever the number of visits: the visits' crews, sites and required skills are
    read afresh, so callers need not prefetch anything. A caller that has already read them
    may pass ``crews`` (``{visit_id: [member_id, ...]}``, every open visit's crew) and
    ``places`` (``{visit_id: (work_order_id, site_id, latitude, longitude)}``, every open
    visit), ``required`` (``{work_order_id: {skill_id: name}}``, the required skills of every
    open visit's work order, those without any may be left out) to save a query each, and
    ``members`` of the organization it has read (with their users): only crew members not
    among them are read. Closed visits have no conflicts; visits
    without a time are checked for skills only.
    """
    from crewline.workorders.models import Visit, WorkOrder

    result: dict[int, list[Conflict]] = {v.pk: [] for v in visits}
    open_visits = [v for v in visits if v.is_open]
    if not open_visits:
        return result
    ids = [v.pk for v in open_visits]
    if crews is None:
        crews = defaultdict(list)
        for visit_id, member_id in (Visit.crew.through.objects.filter(visit_id__in=ids)
                                    .values_list("visit_id", "member_id")):
            crews[visit_id].append(member_id)
    if places is None:
        places = {row[0]: row[1:] for row in Visit.objects.filter(pk__in=ids).values_list(
            "pk", "work_order_id", "work_order__site_id", *site_coordinates("work_order__site__"))}
    if required is None:
        required = defaultdict(dict)
        work_order_ids = {places[pk][0] for pk in ids if pk in places}
        for wo_id, skill_id, name in (WorkOrder.required_skills.through.objects
                                      .filter(workorder_id__in=work_order_ids)
                                      .values_list("workorder_id", "skill_id", "skill__name")):
            required[wo_id][skill_id] = name
    timed = [v for v in open_visits if v.start is not None and v.end is not None]
    lo = min((v.start for v in timed), default=None)
    hi = max((v.end for v in timed), default=None)
    member_ids = {m for visit_id in ids for m in crews.get(visit_id, ())}
    known = None
    if members is not None:
        known = {m.pk: m for m in members if m.pk in member_ids}
        if missing := member_ids - known.keys():
            known.update((m.pk, m) for m in Member.objects.for_org(organization)
                         .filter(pk__in=missing).select_related("user"))
    ctx = _Context(organization, member_ids, lo, hi, members=known)
    no_skills: dict[int, str] = {}
    for visit in open_visits:
        place = places.get(visit.pk)
        if place is None:
            continue
        wo_id, site_id, lat, lng = place
        spec = _Spec(key=visit.pk, visit_id=visit.pk, start=visit.start, end=visit.end,
                     crew_ids=crews.get(visit.pk, []), site_id=site_id, point=_point(lat, lng),
                     required=required.get(wo_id, no_skills))
        result[visit.pk] = _check(ctx, spec)
    return result
