"""What a visit change means to one member, in their words.

``describe_visit_change`` compares the visit as it was before a run of changes with how it is
after them, from one member's point of view, and says what changed with the old and new values
in the organization's time zone. It returns None when nothing changed for that member (a move
and a move back, an assignment undone), so a batch of changes that cancel out says nothing.

``describe_late_visit`` says to the office that a visit is late, by one of the dashboard's
two rules.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import dateformat
from django.utils.translation import gettext as _

from crewline.formats.durations import format_duration
from crewline.notifications.models import LateReason, NotificationKind
from crewline.workorders.models import VisitStatus

CANCELLED = "cancelled"


@dataclass(frozen=True)
class Message:
    kind: str
    title: str
    body: str


@dataclass(frozen=True)
class VisitLabel:
    """How the visit is named in messages: ``WO-1042``, its title and the customer's name."""

    reference: str
    title: str
    customer: str

    @property
    def place(self) -> str:
        return _("%(ref)s at %(customer)s") % {"ref": self.reference, "customer": self.customer}


def _parse(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def format_window(start: Any, end: Any, tz: zoneinfo.ZoneInfo) -> str:
    """``Tue 24 Nov 09:00–10:00``, or with both dates when the visit runs past midnight."""
    start, end = _parse(start), _parse(end)
    if start is None or end is None:
        return _("not yet scheduled")
    start, end = start.astimezone(tz), end.astimezone(tz)
    if start.date() == end.date():
        return f"{dateformat.format(start, 'D j M H:i')}–{dateformat.format(end, 'H:i')}"
    return f"{dateformat.format(start, 'D j M H:i')} – {dateformat.format(end, 'D j M H:i')}"


def _names(ids: list[int], names: Mapping[int, str], me: int) -> str:
    people = [_("you") if pk == me else names.get(pk, "?") for pk in ids]
    return ", ".join(people) if people else _("nobody")


def _crew_sentence(before: list[int], after: list[int], names: Mapping[int, str],
                   me: int) -> str:
    joined = [pk for pk in after if pk not in before and pk != me]
    left = [pk for pk in before if pk not in after and pk != me]
    parts = []
    if joined:
        parts.append(_("%(names)s joined") % {"names": _names(joined, names, me)})
    if left:
        parts.append(_("%(names)s left") % {"names": _names(left, names, me)})
    return _("Crew: %(changes)s; now %(crew)s.") % {
        "changes": "; ".join(parts), "crew": _names(after, names, me)}


def describe_visit_change(*, member_id: int, before: Mapping[str, Any],
                          after: Mapping[str, Any], label: VisitLabel,
                          tz: zoneinfo.ZoneInfo, names: Mapping[int, str]) -> Message | None:
    """The message for ``member_id`` about a visit going from ``before`` to ``after``.

    ``before``/``after`` are the ``visit_changed`` shapes (``before`` may be empty for a new
    visit); ``names`` maps crew member ids to names.
    """
    crew_before = list(before.get("crew") or [])
    crew_after = list(after.get("crew") or [])
    was_on, is_on = member_id in crew_before, member_id in crew_after
    old = format_window(before.get("start"), before.get("end"), tz)
    new = format_window(after.get("start"), after.get("end"), tz)
    was_cancelled = before.get("status") == CANCELLED
    is_cancelled = after.get("status") == CANCELLED
    place = label.place
    what = f"{label.reference} {label.title}".strip()

    if is_on and not was_on:
        if is_cancelled:
            return None
        return Message(
            NotificationKind.VISIT_ASSIGNED,
            _("New visit: %(place)s") % {"place": place},
            _("You are on %(what)s at %(customer)s, %(when)s.")
            % {"what": what, "customer": label.customer, "when": new},
        )
    if was_on and not is_on:
        if was_cancelled:
            return None
        return Message(
            NotificationKind.VISIT_UNASSIGNED,
            _("Taken off %(place)s") % {"place": place},
            _("You are no longer on %(what)s at %(customer)s (%(when)s).")
            % {"what": what, "customer": label.customer, "when": old},
        )
    if not is_on:
        return None
    if is_cancelled:
        if was_cancelled:
            return None
        return Message(
            NotificationKind.VISIT_CANCELLED,
            _("Cancelled: %(place)s") % {"place": place},
            _("%(place)s on %(when)s was cancelled.") % {"place": place, "when": old},
        )
    if was_cancelled:
        return Message(
            NotificationKind.VISIT_REINSTATED,
            _("Back on: %(place)s") % {"place": place},
            _("%(place)s is back on, %(when)s.") % {"place": place, "when": new},
        )

    start_changed = _parse(before.get("start")) != _parse(after.get("start"))
    end_changed = _parse(before.get("end")) != _parse(after.get("end"))
    crew_changed = set(crew_before) != set(crew_after)
    crew_text = (_crew_sentence(crew_before, crew_after, names, member_id)
                 if crew_changed else "")
    if start_changed or end_changed:
        if before.get("start") is None:
            kind, title = NotificationKind.VISIT_MOVED, _("%(place)s scheduled")
            body = _("%(place)s is now scheduled for %(new)s.")
        elif after.get("start") is None:
            kind, title = NotificationKind.VISIT_MOVED, _("%(place)s unscheduled")
            body = _("%(place)s was taken off the schedule (was %(old)s).")
        elif start_changed:
            kind, title = NotificationKind.VISIT_MOVED, _("%(place)s moved")
            body = _("%(place)s moved from %(old)s to %(new)s.")
        else:
            old_length = _parse(before["end"]) - _parse(before["start"])
            new_length = _parse(after["end"]) - _parse(after["start"])
            kind = NotificationKind.VISIT_RESIZED
            if new_length < old_length:
                title = _("%(place)s shortened")
                body = _("%(place)s was shortened from %(old)s to %(new)s.")
            else:
                title = _("%(place)s lengthened")
                body = _("%(place)s was lengthened from %(old)s to %(new)s.")
        params = {"place": place, "old": old, "new": new}
        text = body % params
        if crew_text:
            text = f"{text} {crew_text}"
        return Message(kind, title % params, text)
    if crew_changed:
        return Message(
            NotificationKind.CREW_CHANGED,
            _("Crew changed: %(place)s") % {"place": place},
            _("%(place)s, %(when)s. %(crew)s")
            % {"place": place, "when": new, "crew": crew_text},
        )
    return None


def format_time(value: dt.datetime, tz: zoneinfo.ZoneInfo, *,
                day_of: dt.datetime | None = None) -> str:
    """``09:30`` on the local day of ``day_of`` (or with no ``day_of``), else ``Tue 24 Nov
    09:30``."""
    value = value.astimezone(tz)
    if day_of is None or day_of.astimezone(tz).date() == value.date():
        return dateformat.format(value, "H:i")
    return dateformat.format(value, "D j M H:i")


def describe_late_visit(*, reason: str, status: str, label: VisitLabel, start: dt.datetime,
                        end: dt.datetime, arrived_at: dt.datetime | None,
                        due_at: dt.datetime, crew: list[str],
                        tz: zoneinfo.ZoneInfo) -> Message:
    """The office's message about a visit that is late by ``reason`` (a ``LateReason``).

    ``due_at`` is when it became late: the end of the window for a late arrival, the arrival
    plus the planned length for an overrun. ``crew`` is the crew's names.
    """
    what = f"{label.reference} {label.title}".strip()
    params = {"place": label.place, "what": what, "when": format_window(start, end, tz),
              "crew": ", ".join(crew) if crew else _("nobody")}
    if reason == LateReason.OVERRUN:
        params.update(arrived=format_time(arrived_at or start, tz, day_of=start),
                      length=format_duration(end - start),
                      due=format_time(due_at, tz, day_of=arrived_at or start))
        return Message(
            NotificationKind.JOB_LATE,
            _("Running over: %(place)s") % params,
            _("%(what)s: on site since %(arrived)s, planned for %(length)s, so due to finish "
              "by %(due)s. Crew: %(crew)s.") % params,
        )
    params["due"] = format_time(due_at, tz, day_of=start)
    if status == VisitStatus.EN_ROUTE:
        body = _("%(what)s, %(when)s: the crew was still on the way at %(due)s. "
                 "Crew: %(crew)s.")
    else:
        body = _("%(what)s, %(when)s: nobody was on site by %(due)s. Crew: %(crew)s.")
    return Message(NotificationKind.JOB_LATE, _("Late arrival: %(place)s") % params,
                   body % params)
