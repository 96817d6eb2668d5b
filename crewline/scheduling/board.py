"""The dispatch board's layout: the hours a day shows, where each visit, shaded span and hour
mark sits on them (percent of the grid, then classes of whole minutes), the lanes overlapping
visits stack in, and the few values the board's templates show that are not fields of a visit
(``present``).

Places are classes, not style attributes (the Content-Security-Policy allows none): whole
minutes from the grid's start, split into hours and minutes so that a few hundred classes in
``static/scheduling/board-grid.css`` cover every place and length (see its header).

Times are placed in the organization's time zone. A day is local midnight to the next local
midnight, so a daylight-saving day is 23 or 25 hours long and a visit is placed by real elapsed
time from the start of the grid.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.utils.dateformat import format as date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crewline.core import colours
from crewline.core.models import WEEKDAYS, Organization

if TYPE_CHECKING:
    from crewline.scheduling.selectors import Block, Board, BoardVisit, QueueItem, Row

DAY = "day"
WEEK = "week"
MAX_LANES = 12
# A block shorter than this (minutes) may be too narrow for its text: it gets a title with all
# of it (an hour is 64 px wide at the least, see board.css).
SHORT_MINUTES = 180


# --- Local time --------------------------------------------------------------------------------

def local_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The start of ``day`` in ``tz``, as a UTC datetime (see ``local_at``)."""
    return local_at(day, dt.time.min, tz)


def local_at(day: dt.date, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """``day`` at ``time`` in ``tz``, as a UTC datetime.

    In UTC because Python subtracts and compares aware datetimes that share a tzinfo by their
    wall clocks, which is wrong across a daylight-saving change. A wall time skipped by the
    change (02:30 in spring) lands an hour on, as a clock would show it.
    """
    return dt.datetime.combine(day, time, tzinfo=tz).astimezone(dt.UTC)


def business_span(organization: Organization) -> tuple[int, int]:
    """The earliest opening and latest closing hour of the week, an hour of margin each side."""
    opens, closes = [], []
    for day in WEEKDAYS:
        span = (organization.business_hours or {}).get(day)
        if span:
            opens.append(int(span[0][:2]))
            h, m = int(span[1][:2]), int(span[1][3:5])
            closes.append(h + (1 if m else 0))
    if not opens:
        return 7, 19
    return max(0, min(opens) - 1), min(24, max(closes) + 1)


def business_hours_of(organization: Organization, day: dt.date
                      ) -> list[tuple[dt.time, dt.time]]:
    span = (organization.business_hours or {}).get(WEEKDAYS[day.weekday()])
    if not span:
        return []
    return [(dt.time.fromisoformat(span[0]), dt.time.fromisoformat(span[1]))]


# --- Places as classes -------------------------------------------------------------------------

def minutes_in(percent: float, grid: int) -> int:
    return round(percent * grid / 100)


def at_class(percent: float, grid: int) -> str:
    """``at-h3 at-m35``: 3 h 35 min from the grid's start."""
    at = minutes_in(percent, grid)
    return f"at-h{at // 60} at-m{at % 60}"


def span_class(left: float, width: float, grid: int) -> str:
    """``placed at-h3 at-m35 len-h1 len-m40``: where a span starts and how long it is."""
    length = minutes_in(width, grid)
    return f"placed {at_class(left, grid)} len-h{length // 60} len-m{length % 60}"


def lane_class(lane: int) -> str:
    return f"lane-{min(lane, MAX_LANES - 1)}"


# --- The day's grid ----------------------------------------------------------------------------

class DayGrid:
    """Works out the day view's grid (the hours shown) and places blocks and spans on it."""

    def __init__(self, board: Board, organization: Organization,
                 visits: list[BoardVisit]) -> None:
        tz, day = board.tz, board.day
        self.organization = organization
        first, last = business_span(organization)
        day_start = local_midnight(day, tz)
        day_end = local_midnight(day + dt.timedelta(days=1), tz)
        # Widen the grid to show visits outside the usual hours (clipped to the day).
        for visit in visits:
            s = max(visit.start, day_start).astimezone(tz)
            e = min(visit.end, day_end)
            first = min(first, s.hour)
            if e >= day_end:
                last = 24
            else:
                e = e.astimezone(tz)
                last = max(last, e.hour + (1 if e.minute or e.second else 0))
        self.start = day_start if first == 0 else local_at(day, dt.time(first), tz)
        self.end = day_end if last >= 24 else local_at(day, dt.time(last), tz)
        self.day_start, self.day_end = day_start, day_end
        self.total = (self.end - self.start).total_seconds() / 60
        self.board = board
        self.window_text = _("Customer's window %(start)s–%(end)s")
        board.grid_start = self.start
        board.grid_minutes = round(self.total)
        board.first_hour = first
        board.hours = [(f"{h:02d}:00", self.pct(local_at(day, dt.time(h), tz)))
                       for h in range(first, last)]
        board.closed = self.outside(business_hours_of(organization, day))

    def pct(self, when: dt.datetime) -> float:
        return round((when - self.start).total_seconds() / 60 * 100 / self.total, 3)

    def clip(self, start: dt.datetime, end: dt.datetime) -> tuple[float, float] | None:
        s, e = max(start, self.start), min(end, self.end)
        if e <= s:
            return None
        left = self.pct(s)
        return left, round(self.pct(e) - left, 3)

    def place(self, block: Block, visit: BoardVisit) -> None:
        block.left, block.width = self.clip(visit.start, visit.end) or (0.0, 0.0)
        block.starts_before = visit.start < self.day_start
        block.ends_after = visit.end > self.day_end
        wo = visit
        if wo.requested_start and wo.requested_end:
            span = self.clip(wo.requested_start, wo.requested_end)
            if span:
                block.window_left, block.window_width = span
                tz = self.board.tz
                block.window_label = self.window_text % {
                    "start": wo.requested_start.astimezone(tz).strftime("%H:%M"),
                    "end": wo.requested_end.astimezone(tz).strftime("%H:%M")}

    def outside(self, spans: list[tuple[dt.time, dt.time]]) -> list[tuple[float, float]]:
        """The parts of the grid outside ``spans`` (local times of the day), as (left, width)."""
        tz, day = self.board.tz, self.board.day
        edges = sorted((local_at(day, a, tz), local_at(day, b, tz)) for a, b in spans)
        result, cursor = [], self.start
        for a, b in edges:
            if a > cursor:
                span = self.clip(cursor, a)
                if span:
                    result.append(span)
            cursor = max(cursor, b)
        if cursor < self.end:
            span = self.clip(cursor, self.end)
            if span:
                result.append(span)
        return result

    def shade(self, row: Row, hours: dict[int, list] | None, away: list[Any] | None) -> None:
        if hours is not None:
            row.off = self.outside(sorted(hours.get(self.board.day.weekday(), [])))
        else:
            row.off = self.board.closed
        for t in away or ():
            span = self.clip(t.start, t.end)
            if span:
                row.away.append((*span, t.reason or _("Time off")))


def assign_lanes(blocks: list[Block]) -> int:
    """Overlapping blocks (a double booking) get stacked lanes so both stay visible."""
    ends: list[float] = []
    for block in sorted(blocks, key=lambda b: (b.left, -b.width)):
        for lane, end in enumerate(ends):
            if block.left >= end - 0.001:
                block.lane, ends[lane] = lane, block.left + block.width
                break
        else:
            block.lane = len(ends)
            ends.append(block.left + block.width)
    return max(1, len(ends))


# --- What the templates show ---------------------------------------------------------------------
# The rows and a week's cells are templates (scheduling/_board_row.html, _board_week_row.html).
# A visit's block or chip and a queue item are written here instead: a busy day has hundreds of
# blocks and a hundred queued jobs, a week thousands of chips, and a template's twenty-odd
# variables an item cost about a hundred microseconds each (bench/run board: the day's blocks
# and queue as templates took the page's CPU time from about 80 to 120 ms, past its target).
# The markup is what a template of it would give, every value escaped.

class _Escaped(dict):
    """``escaped[text]``: ``text`` escaped, worked out once (status labels repeat)."""

    def __missing__(self, text: str) -> str:
        self[text] = escape(text)
        return self[text]


class _Writer:
    """Writes blocks and chips for one board, with the words and links they share."""

    def __init__(self, link: str) -> None:
        self.link = escape(link)
        self.conflicts_word = escape(_("conflicts"))
        self.crew_word = _("Crew of %(n)d")
        kept = escape(_("Kept in place: planning the day leaves it where it is"))
        self.kept_word = escape(_("kept in place"))
        # A padlock (16 px, currentColor); its meaning is in the title and, for a screen
        # reader, in the block's hidden text.
        self.lock = (f'<svg class="vb-lock" width="12" height="12" viewBox="0 0 16 16" '
                     f'aria-hidden="true" focusable="false"><title>{kept}</title>'
                     '<path fill="currentColor" d="M8 1a3.5 3.5 0 0 0-3.5 3.5V7H4a1 1 0 0 0-1 '
                     '1v6a1 1 0 0 0 1 1h8a1 1 0 0 0 1-1V8a1 1 0 0 0-1-1h-.5V4.5A3.5 3.5 0 0 0 '
                     '8 1Zm-2 6V4.5a2 2 0 1 1 4 0V7H6Z"/></svg>')
        self.labels = _Escaped()

    def data(self, b: Block, member_id: int, customer: str) -> str:
        """The block's data attributes (``customer`` escaped). References ("WO-1042"), dates
        and times hold nothing to escape."""
        return (f'data-kind="visit" data-visit="{b.visit_id}" data-number="{b.number}" '
                f'data-member="{member_id}" data-date="{b.date}" data-time="{b.time}" '
                f'data-minutes="{b.minutes}" data-label="{b.reference} · {customer}"')

    def unseen(self, b: Block, notes: str) -> str:
        """What the block says only to a screen reader: its status, whether it is kept in
        place, and its conflicts. Its name is its visible text followed by this, so speech
        input can name it by what it shows."""
        extra = f", {self.labels[b.status_label]}"
        if b.locked:
            extra += f", {self.kept_word}"
        if notes:
            extra += f", {self.conflicts_word}: {notes}"
        return f' <span class="visually-hidden">{extra}</span>'

    def block(self, b: Block, member_id: int, grid: int) -> str:
        classes = f"vb vs-{b.status} {span_class(b.left, b.width, grid)} {lane_class(b.lane)}"
        if b.conflicts:
            classes += " has-conflict"
        if b.starts_before:
            classes += " cut-start"
        if b.ends_after:
            classes += " cut-end"
        notes = escape(" ".join(b.conflicts))
        customer = escape(b.customer)
        crew = (f' <span class="vb-crew" title="{escape(self.crew_word % {"n": b.crew_size})}">'
                f'×{b.crew_size}</span>' if b.crew_size > 1 else "")
        window = ""
        if b.window_left is not None:
            place = span_class(b.window_left, b.window_width, grid)
            window = (f'<div class="req-window {place} {lane_class(b.lane)}" '
                      f'title="{escape(b.window_label)}"></div>')
        address = escape(b.address)
        # A short block shows its number and customer cut with an ellipsis (board.css, by the
        # block's width); its title has the rest, and its name is all of its text.
        title = (f' title="{b.reference} · {b.label} · {customer}'
                 f'{" · " + address if address else ""}"' if b.minutes < SHORT_MINUTES else "")
        return (
            f'{window}<a class="{classes}" href="{self.link}{b.visit_id}" '
            f'{self.data(b, member_id, customer)}{title}>'
            f'<span class="vb-top"><span class="vb-ref"><span class="vb-wo">WO-</span>'
            f'{b.number}</span> <span class="vb-time">{b.label}</span>{crew}'
            f'{self.lock if b.locked else ""}</span> '
            f'<span class="vb-cust">{customer}</span> '
            f'<span class="vb-addr">{address}</span>'
            + self.unseen(b, notes)
            + (f'<span class="vb-conflict" title="{notes}" aria-hidden="true">!</span>'
               if notes else "")
            + ("" if b.ends_after else '<span class="vb-resize" data-resize aria-hidden="true">'
                                       '</span>')
            + "</a>"
        )

    def chip(self, b: Block, member_id: int) -> str:
        notes = escape(" ".join(b.conflicts))
        customer = escape(b.customer)
        return (
            f'<a class="chip vs-{b.status}{" has-conflict" if notes else ""}" '
            f'href="{self.link}{b.visit_id}" {self.data(b, member_id, customer)} '
            f'title="{b.reference} · {customer} · {b.label}{" — " + notes if notes else ""}">'
            f'<span class="chip-time">{"…" if b.starts_before else b.time}</span> '
            f'{self.lock if b.locked else ""}'
            f'<span class="chip-ref">{b.reference}</span> '
            f'<span class="chip-cust">{customer}</span>'
            + self.unseen(b, notes)
            + ('<span class="chip-conflict" aria-hidden="true">!</span>' if notes else "")
            + "</a>"
        )


def present(board: Board, *, form_url: str, query: str, today: dt.date) -> dict:
    """Set what the board's templates show on its rows and cells (their labels and places,
    each block's markup) and return the context they share."""
    grid = board.grid_minutes
    week = board.view == WEEK
    free_word = _("Free")
    writer = _Writer(f"{form_url}?state={quote(query)}&visit=")
    if week:
        days = [(d.isoformat(), date_format(d, "D j M"), d == today) for d in board.days]
    for row in board.rows:
        if row.booked_minutes and week:
            row.load = row.booked_label
        elif row.booked_minutes:
            n = len(row.blocks)
            row.load = (ngettext("%(n)s visit", "%(n)s visits", n) % {"n": n}
                        + f" · {row.booked_label}")
        else:
            row.load = free_word
        member_id = row.member_id
        row.colour = colours.clean(row.colour)
        row.colour_text = colours.text_on(row.colour)
        if week:
            for cell, (iso, label, is_today) in zip(row.cells, days, strict=True):
                cell.iso, cell.label, cell.is_today = iso, label, is_today
                cell.classes = ("week-cell" + (" is-off" if cell.off else "")
                                + (" is-today" if is_today else ""))
                cell.html = mark_safe("".join(  # noqa: S308 - every value is escaped
                    writer.chip(b, member_id) for b in cell.blocks))
            continue
        row.lanes_class = f"lanes-{min(row.lanes, MAX_LANES)}"
        row.off_places = [span_class(a, w, grid) for a, w in row.off]
        row.away_places = [(span_class(a, w, grid), reason) for a, w, reason in row.away]
        row.html = mark_safe("".join(  # noqa: S308 - every value is escaped
            writer.block(b, member_id, grid) for b in row.blocks))
    return {
        "queue_html": queue_items(board.queue, form_url, query),
        "day_iso": board.day.isoformat(),
    }


def queue_items(items: list[QueueItem], form_url: str, query: str) -> str:
    """The queue's items (``<li>``s), every value escaped."""
    state = f"&amp;state={escape(quote(query))}"
    url = escape(form_url)
    overdue_word, due_word = escape(_("overdue")), escape(_("due"))
    window_word = escape(_("Customer's window"))
    parts = []
    for item in items:
        if item.visit_id:
            target = f"visit={item.visit_id}"
            data = f'data-visit="{item.visit_id}"'
        else:
            target = f"work_order={item.number}"
            data = f'data-number="{item.number}"'
        reference, customer = escape(item.reference), escape(item.customer)
        due = ""
        if item.due_label:
            due = (f'<span class="qi-due{" overdue" if item.overdue else ""}">'
                   f'{overdue_word if item.overdue else due_word} {escape(item.due_label)}</span>')
        window = (f'<span class="qi-window" title="{window_word}">'
                  f'{escape(item.window_label)}</span>' if item.window_label else "")
        parts.append(
            f'\n    <li><a class="qi priority-{item.priority}" id="q-{escape(item.key)}" '
            f'href="{url}?{target}{state}"\n'
            f'         data-kind="{escape(item.kind)}" {data} data-minutes="{item.minutes}" '
            f'data-label="{reference} · {customer}">\n'
            f'      <span class="qi-top"><span class="qi-ref">{reference}</span>'
            f'<span class="qi-prio">{escape(item.priority_label)}</span>{due}</span>\n'
            f'      <span class="qi-title">{escape(item.title)}</span>\n'
            f'      <span class="qi-cust">{customer}'
            f'{" · " + escape(item.address) if item.address else ""}</span>\n'
            f'      <span class="qi-meta"><span class="qi-dur">{item.minutes} min</span>'
            f'<span class="qi-reason" title="{escape(item.reason)}">{escape(item.reason)}</span>'
            f'{window}</span>\n'
            f'    </a></li>\n    ')
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
