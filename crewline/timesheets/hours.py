"""Hour arithmetic of a timesheet week, free of the database so it can be tested on its own.

All sums are whole minutes. Times are cut to the minute, converted to UTC for arithmetic (a
local day is 23 or 25 hours long when the clocks change) and split at local midnights, so a
shift from 22:00 to 06:00 counts two hours on its first day and six on the next.

Per day:

- shift: the union of the shift entries within the day;
- breaks: the union of the breaks, counted only where they fall within a shift;
- paid: shift minus breaks;
- job: minutes of work entries plus labor minutes recorded on visits (a visit with a labor
  entry counts its labor minutes, not its work entries, so the same job is never counted twice);
- travel: the union of the travel entries;
- gaps: paid time not accounted for by job or travel (never below zero);
- labor over paid: job labor past the paid time, which cannot be (a missing or early
  clock-out, labor typed too long, or labor on the wrong day): flagged for the office;
- overtime: first past the daily threshold (if any), then regular minutes past the weekly
  threshold, day by day in order; regular + overtime = paid.

An open entry (no end) counts up to now, but no further than the end of the local day it
started on: a forgotten clock-out does not grow into days of hours. It is flagged.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

UTC = dt.UTC

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Span:
    kind: str  # shift, break, work, travel
    start: dt.datetime
    end: dt.datetime | None
    visit_id: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class Labor:
    at: dt.datetime
    minutes: int
    visit_id: int | None = None


@dataclass
class Day:
    date: dt.date
    shift: int = 0
    breaks: int = 0
    paid: int = 0
    job: int = 0
    travel: int = 0
    gaps: int = 0
    regular: int = 0
    overtime: int = 0
    open_shift: bool = False
    spans: list[Span] = field(default_factory=list)

    @property
    def labor_over_paid(self) -> int:
        """Minutes of job labor past the paid time (0 when the labor fits in it)."""
        return max(0, self.job - self.paid)


@dataclass
class Week:
    start: dt.date
    days: list[Day]
    open_shift: bool = False

    @property
    def labor_over_paid_days(self) -> list[Day]:
        return [day for day in self.days if day.labor_over_paid]

    def total(self, name: str) -> int:
        return sum(getattr(day, name) for day in self.days)

    @property
    def totals(self) -> dict[str, int]:
        return {name: self.total(name) for name in
                ("shift", "breaks", "paid", "job", "travel", "gaps", "regular", "overtime")}


def week_start_for(day: dt.date, week_start: int) -> dt.date:
    """The first day of the week holding ``day``; ``week_start`` is 0 for Monday … 6 Sunday."""
    return day - dt.timedelta(days=(day.weekday() - week_start) % 7)


def local_midnight(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(UTC)


def _minute(at: dt.datetime) -> dt.datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def _union(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[list[dt.datetime]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            start, end = max(s1, s2), min(e1, e2)
            if end > start:
                out.append((start, end))
    return _union(out)


def _minutes(intervals: Iterable[Interval]) -> int:
    return sum(int((end - start).total_seconds()) // 60 for start, end in intervals)


def effective_end(span: Span, tz: zoneinfo.ZoneInfo, now: dt.datetime) -> dt.datetime:
    """Where a span stops counting: its end, or for an open span now, capped at the end of the
    local day it started on."""
    if span.end is not None:
        return _minute(span.end)
    start_day = span.start.astimezone(tz).date()
    cap = local_midnight(start_day + dt.timedelta(days=1), tz)
    return max(_minute(span.start), min(_minute(now), cap))


def compute_week(*, spans: Iterable[Span], labor: Iterable[Labor], tz: zoneinfo.ZoneInfo,
                 start: dt.date, weekly_minutes: int, daily_minutes: int | None,
                 now: dt.datetime) -> Week:
    """The week from ``start`` (a local date) of one member's spans and labor."""
    spans = list(spans)
    labor = list(labor)
    labor_visits = {item.visit_id for item in labor if item.visit_id is not None}
    cut = [(s, _minute(s.start), effective_end(s, tz, now)) for s in spans]
    days: list[Day] = []
    cumulative_regular = 0
    for offset in range(7):
        date = start + dt.timedelta(days=offset)
        lo, hi = local_midnight(date, tz), local_midnight(date + dt.timedelta(days=1), tz)

        def clipped(kind: str, *, skip_visits: set | frozenset = frozenset(),
                    lo=lo, hi=hi) -> list[Interval]:
            return _union((max(a, lo), min(b, hi)) for s, a, b in cut
                          if s.kind == kind
                          and (s.visit_id is None or s.visit_id not in skip_visits))

        shifts = clipped("shift")
        breaks = _intersect(clipped("break"), shifts)
        work = clipped("work", skip_visits=labor_visits)
        travel = clipped("travel")
        day = Day(date=date)
        day.shift = _minutes(shifts)
        day.breaks = _minutes(breaks)
        day.paid = day.shift - day.breaks
        day.job = _minutes(work) + sum(
            item.minutes for item in labor if item.at.astimezone(tz).date() == date)
        day.travel = _minutes(travel)
        day.gaps = max(0, day.paid - day.job - day.travel)
        daily_over = max(0, day.paid - daily_minutes) if daily_minutes is not None else 0
        regular = day.paid - daily_over
        room = max(0, weekly_minutes - cumulative_regular)
        day.regular = min(regular, room)
        day.overtime = daily_over + (regular - day.regular)
        cumulative_regular += day.regular
        day.spans = sorted((s for s, a, b in cut
                            if a < hi and (b > lo or (a >= lo and b == a))),
                           key=lambda s: (s.start, s.id or 0))
        day.open_shift = any(s.kind == "shift" and s.end is None and lo <= _minute(s.start) < hi
                             for s in spans)
        days.append(day)
    return Week(start=start, days=days, open_shift=any(d.open_shift for d in days))
