from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_datetime
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from crewline.workorders.models import Status, VisitStatus, WorkOrder

register = template.Library()

FIELD_LABELS = {f.name: f.verbose_name for f in WorkOrder._meta.get_fields()
                if hasattr(f, "verbose_name")}


@register.filter
def status_label(value: str) -> str:
    try:
        return Status(value).label
    except ValueError:
        return value


@register.filter
def visit_status_label(value: str) -> str:
    try:
        return VisitStatus(value).label
    except ValueError:
        return value


@register.filter
def iso_local(value: str | None) -> dt.datetime | None:
    """An ISO timestamp stored in a timeline entry's data, as a local aware datetime."""
    parsed = parse_datetime(value) if value else None
    return timezone.localtime(parsed) if parsed else None


@register.filter
def field_label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return str(label).capitalize() if label else name.replace("_", " ").capitalize()


@register.filter
def change_rows(changes: dict) -> list[tuple[str, object, object]]:
    """An audit entry's ``{field: [before, after]}`` as rows for a table."""
    rows = []
    for name, pair in (changes or {}).items():
        before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        rows.append((name, before, after))
    return rows


@register.filter
def quantity_label(value: object) -> str:
    """A part's quantity as stored ("2", "2.5", "2.50"), without trailing zeros, written as the
    language writes numbers."""
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value or "")
    if not number.is_finite():
        return str(value)
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    # With the active language's decimal separator: "2,5" in Spanish.
    return number_format(Decimal(format(number.normalize(), "f")))


@register.simple_tag
def window(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """``Tue 14 Jan, 09:00–11:00`` in the current time zone; spans of days show both dates."""
    if start is None:
        return _("No time yet")
    start, end = timezone.localtime(start), timezone.localtime(end) if end else None
    text = date_format(start, "D j M, H:i")
    if end is None:
        return text
    if end.date() == start.date():
        return f"{text}–{date_format(end, 'H:i')}"
    return f"{text} – {date_format(end, 'D j M, H:i')}"
