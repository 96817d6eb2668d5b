"""Durations as people read them, written one way on every page, document and the phone app.

``format_duration`` takes minutes (or a ``timedelta``) and writes, by ``style``:

- ``"hours"`` (the default), for time worked, billed or planned: ``0 min``, ``59 min``, ``1 h``,
  ``1 h 30 min``, ``26 h 05 min``; never days, since a working day is not 24 hours;
- ``"days"``, for time waited or elapsed (late by, on site for): as ``"hours"`` under a day,
  then ``1 d 2 h``;
- ``"clock"``, for the columns of timesheet tables: ``1:30``, ``26:05``, and ``–`` for none.

The unit words follow the language: ``DURATION_UNITS`` in ``crewline/formats/<lang>/formats.py``
(English's when a language has none). Templates use the ``duration`` filter
(``crewline.formats.templatetags``, built into every template); the technician app is sent
the same units (``duration_units``) and writes labor with them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _

ENGLISH_UNITS = {"d": "d", "h": "h", "min": "min"}
STYLES = ("hours", "days", "clock")


def duration_units(lang: str | None = None) -> dict[str, str]:
    """The unit words of ``lang`` (the active language by default): ``{"d", "h", "min"}``."""
    for module in formats.get_format_modules(lang or get_language()):
        units = getattr(module, "DURATION_UNITS", None)
        if units:
            return {**ENGLISH_UNITS, **units}
    return dict(ENGLISH_UNITS)


def _minutes(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.timedelta):
        return max(int(value.total_seconds() // 60), 0)
    try:
        return max(int(Decimal(str(value))), 0)
    except (InvalidOperation, ValueError, TypeError):
        return None


def format_duration(value: object, *, style: str = "hours") -> str:
    """``value`` (minutes as a number or numeric string, or a ``timedelta``) for people; ``""``
    for None, an empty string or something that is not a number. Negative durations count as
    zero; a ``timedelta`` under a minute but above zero is "under a minute"."""
    if style not in STYLES:
        raise ValueError(f"Unknown duration style: {style!r}")
    minutes = _minutes(value)
    if minutes is None:
        return ""
    hours, mins = divmod(minutes, 60)
    if style == "clock":
        return f"{hours}:{mins:02d}" if minutes else "–"
    if isinstance(value, dt.timedelta) and 0 < value.total_seconds() < 60:
        return _("under a minute")
    units = duration_units()
    if style == "days" and hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{days} {units['d']} {hours} {units['h']}" if hours else f"{days} {units['d']}"
    if hours and mins:
        return f"{hours} {units['h']} {mins:02d} {units['min']}"
    if hours:
        return f"{hours} {units['h']}"
    return f"{mins} {units['min']}"
