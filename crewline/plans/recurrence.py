"""Recurrence rules (RFC 5545 RRULE) for maintenance plans: validation, occurrence dates, the
picker's building blocks, and a humaniser that says a rule in words.

A plan stores only the RRULE's value (``FREQ=MONTHLY;INTERVAL=3``); its start date is the rule's
DTSTART and its preferred local time is applied afterwards, so rules work on dates alone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator

from dateutil.rrule import rrule, rrulestr
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = {
    "MO": gettext_lazy("Monday"), "TU": gettext_lazy("Tuesday"),
    "WE": gettext_lazy("Wednesday"), "TH": gettext_lazy("Thursday"),
    "FR": gettext_lazy("Friday"), "SA": gettext_lazy("Saturday"), "SU": gettext_lazy("Sunday"),
}
ORDINALS = {
    1: gettext_lazy("first"), 2: gettext_lazy("second"), 3: gettext_lazy("third"),
    4: gettext_lazy("fourth"), -1: gettext_lazy("last"),
}
MONTH_NAMES = {
    1: gettext_lazy("January"), 2: gettext_lazy("February"), 3: gettext_lazy("March"),
    4: gettext_lazy("April"), 5: gettext_lazy("May"), 6: gettext_lazy("June"),
    7: gettext_lazy("July"), 8: gettext_lazy("August"), 9: gettext_lazy("September"),
    10: gettext_lazy("October"), 11: gettext_lazy("November"), 12: gettext_lazy("December"),
}
# The time of day comes from the plan's preferred start time, never from the rule.
FORBIDDEN_PARTS = {"BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART"}
MAX_RULE_LENGTH = 300


def normalise_rrule(value: str) -> str:
    """The rule in the form plans store: upper case, no ``RRULE:`` prefix, no spaces, and an
    ``UNTIL`` in UTC (``...Z``, as calendars export it) read as a plain date-time."""
    text = "".join((value or "").split()).upper()
    if text.startswith("RRULE:"):
        text = text[len("RRULE:"):]
    parts = []
    for part in filter(None, text.split(";")):
        key, _sep, val = part.partition("=")
        if key == "UNTIL" and val.endswith("Z"):
            val = val[:-1]
        parts.append(f"{key}={val}" if _sep else part)
    return ";".join(parts)


def rule_parts(value: str) -> dict[str, str]:
    """``{"FREQ": "MONTHLY", "INTERVAL": "3", ...}`` for a normalised rule."""
    parts: dict[str, str] = {}
    for part in filter(None, value.split(";")):
        key, _sep, val = part.partition("=")
        parts[key] = val
    return parts


def validate_rrule(value: str) -> None:
    """Raise ``ValidationError`` unless ``value`` is one RRULE a plan can use."""
    text = normalise_rrule(value)
    if not text:
        raise ValidationError(_("Enter a recurrence rule."), code="rrule_empty")
    if len(text) > MAX_RULE_LENGTH:
        raise ValidationError(_("The rule is too long."), code="rrule_long")
    for part in text.split(";"):
        if "=" not in part:
            raise ValidationError(
                _("“%(part)s” is not of the form NAME=VALUE, as in FREQ=MONTHLY;INTERVAL=3.")
                % {"part": part}, code="rrule_syntax")
    parts = rule_parts(text)
    if "FREQ" not in parts:
        raise ValidationError(_("The rule needs a frequency, such as FREQ=MONTHLY."),
                              code="rrule_freq")
    if parts["FREQ"] not in FREQUENCIES:
        raise ValidationError(_("The frequency must be daily, weekly, monthly or yearly."),
                              code="rrule_freq")
    bad = sorted(set(parts) & FORBIDDEN_PARTS)
    if bad:
        raise ValidationError(_("%(part)s is not allowed: the plan's start time sets the time "
                                "of day.") % {"part": bad[0]}, code="rrule_time")
    try:
        rule = rrulestr(text, dtstart=dt.datetime(2000, 1, 1))
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ValidationError(_("This is not a valid recurrence rule: %(error)s")
                              % {"error": exc}, code="rrule_invalid") from exc
    if not isinstance(rule, rrule):
        raise ValidationError(_("Give a single rule."), code="rrule_invalid")


def parse(value: str, start: dt.date) -> rrule:
    """The rule as a dateutil ``rrule`` on naive midnights, starting on ``start``."""
    rule = rrulestr(normalise_rrule(value), dtstart=dt.datetime.combine(start, dt.time()))
    assert isinstance(rule, rrule)
    return rule


def occurrence_dates(value: str, *, start: dt.date, first: dt.date, last: dt.date,
                     end: dt.date | None = None, limit: int = 1000) -> list[dt.date]:
    """The rule's dates from ``first`` to ``last`` (both included), none after ``end``."""
    if end is not None:
        last = min(last, end)
    first = max(first, start)
    if last < first:
        return []
    rule = parse(value, start)
    dates = []
    for when in rule.xafter(dt.datetime.combine(first, dt.time()), count=limit, inc=True):
        if when.date() > last:
            break
        dates.append(when.date())
    return dates


def next_date(value: str, *, start: dt.date, after: dt.date,
              end: dt.date | None = None) -> dt.date | None:
    """The first date of the rule on or after ``after`` (and not after ``end``), if any."""
    try:
        rule = parse(value, start)
    except (ValueError, TypeError):
        return None
    when = rule.after(dt.datetime.combine(max(after, start), dt.time()), inc=True)
    if when is None or (end is not None and when.date() > end):
        return None
    return when.date()


def local_start(day: dt.date, time: dt.time, tz: str | zoneinfo.ZoneInfo) -> dt.datetime:
    """``time`` on ``day`` on the wall clock of ``tz``, as an aware datetime.

    Built per date with zoneinfo, so 09:00 is 09:00 local on both sides of a daylight-saving
    change. A time that does not exist on the day the clocks go forward (02:30) lands an hour
    later in real time; one that happens twice when they go back takes the first.
    """
    zone = tz if isinstance(tz, zoneinfo.ZoneInfo) else zoneinfo.ZoneInfo(tz)
    return dt.datetime.combine(day, time, tzinfo=zone)


# --- The picker: simple forms of rules, built and recognised ----------------------------------


def build_rrule(*, freq: str, interval: int = 1, weekdays: list[str] | None = None,
                nth: int | None = None, nth_weekday: str | None = None,
                month_day: int | None = None) -> str:
    """The RRULE for the picker's choices."""
    parts = [f"FREQ={freq}"]
    if interval and interval > 1:
        parts.append(f"INTERVAL={interval}")
    if freq == "WEEKLY" and weekdays:
        ordered = [d for d in WEEKDAY_CODES if d in weekdays]
        parts.append("BYDAY=" + ",".join(ordered))
    if freq == "MONTHLY":
        if nth and nth_weekday:
            parts.append(f"BYDAY={nth}{nth_weekday}")
        elif month_day:
            parts.append(f"BYMONTHDAY={month_day}")
    return ";".join(parts)


def picker_values(value: str) -> dict | None:
    """The picker's choices that build ``value``, or None when only the raw field can say it."""
    parts = rule_parts(normalise_rrule(value))
    freq = parts.pop("FREQ", None)
    if freq not in FREQUENCIES:
        return None
    try:
        interval = int(parts.pop("INTERVAL", "1"))
    except ValueError:
        return None
    result: dict = {"freq": freq, "interval": interval, "weekdays": [], "nth": None,
                    "nth_weekday": None, "month_day": None}
    byday = parts.pop("BYDAY", None)
    if freq == "WEEKLY" and byday:
        days = byday.split(",")
        if not all(d in WEEKDAY_CODES for d in days):
            return None
        result["weekdays"] = days
    elif freq == "MONTHLY" and byday:
        code, number = byday[-2:], byday[:-2]
        try:
            n = int(number)
        except ValueError:
            return None
        if code not in WEEKDAY_CODES or n not in ORDINALS:
            return None
        result["nth"], result["nth_weekday"] = n, code
    elif byday:
        return None
    bymonthday = parts.pop("BYMONTHDAY", None)
    if bymonthday is not None:
        if freq != "MONTHLY" or byday or not bymonthday.isdigit():
            return None
        result["month_day"] = int(bymonthday)
    if parts:
        return None
    return result


# --- In words ------------------------------------------------------------------------------


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return _("%(first)s and %(last)s") % {"first": ", ".join(items[:-1]), "last": items[-1]}


def _day_name(code: str) -> str | None:
    name = WEEKDAY_NAMES.get(code)
    return str(name) if name else None


def _nth_day(text: str) -> str | None:
    code, number = text[-2:], text[:-2]
    try:
        n = int(number) if number not in ("", "+") else None
    except ValueError:
        return None
    if code not in WEEKDAY_NAMES or n not in ORDINALS:
        return None
    return _("the %(nth)s %(day)s") % {"nth": ORDINALS[n], "day": WEEKDAY_NAMES[code]}


def humanise(value: str) -> str:
    """The rule in words ("Every 3 months", "Monthly on the first Monday"); the raw rule when
    it uses parts the humaniser does not know."""
    text = normalise_rrule(value)
    parts = rule_parts(text)
    freq = parts.pop("FREQ", "")
    try:
        n = int(parts.pop("INTERVAL", "1"))
    except ValueError:
        return text
    if freq == "DAILY":
        phrase = _("Daily") if n == 1 else ngettext("Every %(n)d day", "Every %(n)d days", n)
    elif freq == "WEEKLY":
        phrase = _("Weekly") if n == 1 else ngettext("Every %(n)d week", "Every %(n)d weeks", n)
    elif freq == "MONTHLY":
        phrase = _("Monthly") if n == 1 else ngettext("Every %(n)d month", "Every %(n)d months",
                                                      n)
    elif freq == "YEARLY":
        phrase = _("Yearly") if n == 1 else ngettext("Every %(n)d year", "Every %(n)d years", n)
    else:
        return text
    phrase = phrase % {"n": n}
    details = []
    if "BYDAY" in parts:
        days = parts.pop("BYDAY").split(",")
        if freq in ("DAILY", "WEEKLY"):
            names = [_day_name(d) for d in days]
            if None in names:
                return text
            if freq == "WEEKLY" and days == list(WEEKDAY_CODES[:5]):
                details.append(_("on weekdays"))
            else:
                details.append(_("on %(days)s") % {"days": _join(names)})
        else:
            if "BYMONTHDAY" in parts or len(days) != 1:
                return text
            nth = _nth_day(days[0])
            if nth is None:
                return text
            details.append(_("on %(day)s") % {"day": nth})
    if "BYMONTHDAY" in parts:
        raw = parts.pop("BYMONTHDAY")
        try:
            day = int(raw)
        except ValueError:
            return text
        if day == -1:
            details.append(_("on the last day"))
        elif 1 <= day <= 31:
            details.append(_("on day %(day)d") % {"day": day})
        else:
            return text
    if "BYMONTH" in parts:
        try:
            months = [MONTH_NAMES[int(m)] for m in parts.pop("BYMONTH").split(",")]
        except (KeyError, ValueError):
            return text
        details.append(_("in %(months)s") % {"months": _join([str(m) for m in months])})
    if "COUNT" in parts:
        try:
            count = int(parts.pop("COUNT"))
        except ValueError:
            return text
        details.append(ngettext("%(n)d time", "%(n)d times", count) % {"n": count})
    if "UNTIL" in parts:
        raw = parts.pop("UNTIL")
        try:
            until = dt.datetime.strptime(raw[:8], "%Y%m%d").date()
        except ValueError:
            return text
        details.append(_("until %(date)s") % {"date": date_format(until, "DATE_FORMAT")})
    if parts:
        return text
    return " ".join([phrase, *details]) if details else phrase


def iter_preview(value: str, start: dt.date, after: dt.date, count: int = 5,
                 end: dt.date | None = None) -> Iterator[dt.date]:
    """The next ``count`` dates of a rule, for the form's preview."""
    rule = parse(value, start)
    when = dt.datetime.combine(max(after, start), dt.time())
    for found in rule.xafter(when, count=count, inc=True):
        if end is not None and found.date() > end:
            return
        yield found.date()

