"""The ``duration`` filters, built into every template (``TEMPLATES`` ``builtins``).

``{{ minutes|duration }}``, ``{{ delta|duration:"days" }}``, ``{{ minutes|duration:"clock" }}``
(see ``crewline.formats.durations``); ``{{ now|duration_since:moment }}`` is the time from
``moment`` to ``now`` in the ``"days"`` style.
"""

from __future__ import annotations

import datetime as dt

from django import template

from crewline.formats.durations import format_duration

register = template.Library()


@register.filter
def duration(value: object, style: str = "hours") -> str:
    return format_duration(value, style=style)


@register.filter
def duration_since(now: dt.datetime, moment: dt.datetime | None) -> str:
    if moment is None or now is None:
        return ""
    return format_duration(now - moment, style="days")
