"""Quantities as a customer reads them on quotes and invoices: "1.5 hours", "1 h 20 min",
"2 days", "3" (of something sold each), "12.5 m".

The stored quantity keeps 4 places (80 minutes of labor is 1.3333 hours); printing 1.3333
would be exact but unreadable, so an hour quantity that is not a plain decimal of at most two
places is shown in hours and minutes.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats
from django.utils.translation import ngettext

from crewline.formats.durations import format_duration

# Units with a singular and a plural form; other units (m, kg, l, a unit typed by hand) are
# symbols and stay as they are.
_COUNTED = {
    "hour": lambda n, c: ngettext("%(n)s hour", "%(n)s hours", c) % {"n": n},
    "day": lambda n, c: ngettext("%(n)s day", "%(n)s days", c) % {"n": n},
    "visit": lambda n, c: ngettext("%(n)s visit", "%(n)s visits", c) % {"n": n},
    "box": lambda n, c: ngettext("%(n)s box", "%(n)s boxes", c) % {"n": n},
    "set": lambda n, c: ngettext("%(n)s set", "%(n)s sets", c) % {"n": n},
}


def number(value: Decimal) -> str:
    """``Decimal("2.0000")`` → ``"2"``, ``Decimal("1.5000")`` → ``"1.5"`` (``"1,5"`` in
    Spanish: the active language's decimal separator)."""
    return formats.number_format(Decimal(f"{Decimal(value).normalize():f}"))


def quantity_with_unit(quantity: Decimal, unit: str) -> str:
    value = Decimal(quantity)
    unit = (unit or "").strip()
    key = unit.lower()
    if key in ("hours", "hr", "hrs", "h"):
        key = "hour"
    if key == "hour":
        minutes = value * 60
        whole = minutes.to_integral_value()
        plain = value == value.quantize(Decimal("0.01"))
        if not plain and abs(minutes - whole) < Decimal("0.01") and whole > 0:
            return format_duration(int(whole))
    text = number(value)
    if key in ("", "each", "ea", "pc", "pcs"):
        return text
    count = 1 if value == 1 else 2
    if key in _COUNTED:
        return _COUNTED[key](text, count)
    return f"{text} {unit}"
