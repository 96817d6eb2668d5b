from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(value: dt.timedelta | None) -> str:
    """``1 h 05 min``, ``25 min``; an empty string for nothing."""
    if value is None:
        return ""
    seconds = value.total_seconds()
    if 0 < seconds < 60:
        return _("under a minute")
    minutes = max(int(seconds // 60), 0)
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


@register.filter
def timeuntil_duration(now: dt.datetime, since: dt.datetime | None) -> str:
    """How long from ``since`` to ``now``, as ``duration`` writes it."""
    if since is None:
        return ""
    return duration(now - since)
