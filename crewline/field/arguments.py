"""Checking a pushed mutation's arguments before anything is applied.

A mutation comes from a phone's outbox and is sent again until it is settled: an argument the
database cannot store or read back (an id past 64 bits, a NUL character in a note, a time in the
year 10000) must come back as a rejected mutation with its reason, never as an error that fails
the push, or the phone would send it first in every push and nothing after it would be applied.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

# Ids are PostgreSQL's bigint (and SQLite's INTEGER): 1 to 2**63 - 1.
MAX_ID = 2**63 - 1
# The arguments are flat (a checklist answer is a value); deeper nesting is no mutation's.
MAX_DEPTH = 4
# How far a phone's clock may be off: ahead (a wrong time zone is less than a day), behind (an
# outbox kept offline for a long time).
CLIENT_TIME_AHEAD = dt.timedelta(days=1)
CLIENT_TIME_BEHIND = dt.timedelta(days=400)

# Lone surrogates decode from JSON's \ud800 escapes but cannot be encoded to UTF-8; NUL is
# refused by PostgreSQL in text and in jsonb.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BadArguments(Exception):
    """A mutation whose arguments are malformed: rejected with this message as the reason."""


def check_text(value: str, name: str | None) -> str:
    """``value`` when the database can store it; raises BadArguments otherwise (``name`` is
    the argument's, None for an argument's name itself)."""
    if "\x00" in value or (not value.isascii() and _UNSTORABLE.search(value)):
        what = name if name is not None else _("an argument's name")
        if "\x00" in value:
            raise BadArguments(_("“%(name)s” contains a NUL character.") % {"name": what})
        raise BadArguments(_("“%(name)s” is not valid Unicode text.") % {"name": what})
    return value


def check_value(value: Any, name: str, depth: int = 0) -> None:
    """Refuse, anywhere in ``value`` (JSON as parsed), what cannot be stored as it is: text with
    NUL or lone surrogates, whole numbers past 64 bits, NaN and infinities, deep nesting."""
    if isinstance(value, str):
        check_text(value, name)
    elif value is None or isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -MAX_ID - 1 <= value <= MAX_ID:
            raise BadArguments(_("“%(name)s” is too large a number.") % {"name": name})
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadArguments(_("“%(name)s” must be a finite number.") % {"name": name})
    elif isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise BadArguments(_("“%(name)s” is nested too deeply.") % {"name": name})
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                check_text(key, name)
            check_value(item, name, depth + 1)


def check_args(args: dict) -> None:
    """Every argument of a mutation, as ``check_value`` says, each named in the reason."""
    for key, value in args.items():
        check_text(key, None)
        check_value(value, key)


def arg_id(args: dict, name: str) -> int:
    """``args[name]`` as an id: a whole number from 1 to ``MAX_ID``."""
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadArguments(_("“%(name)s” must be a number.") % {"name": name})
    if not 1 <= value <= MAX_ID:
        raise BadArguments(_("“%(name)s” is not a valid id.") % {"name": name})
    return value


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def check_client_time(value: dt.datetime, now: dt.datetime | None = None) -> dt.datetime:
    """``value`` when it is within ``CLIENT_TIME_BEHIND`` and ``CLIENT_TIME_AHEAD`` of the
    server's clock: further off, the phone's clock is wrong (and the extremes cannot even be
    stored and read back)."""
    now = now or timezone.now()
    if value > now + CLIENT_TIME_AHEAD:
        raise BadArguments(_("“client_time” is more than a day ahead of the server's clock: "
                             "check the phone's date and time."))
    if value < now - CLIENT_TIME_BEHIND:
        raise BadArguments(_("“client_time” is more than %(days)d days ago: check the phone's "
                             "date and time.") % {"days": CLIENT_TIME_BEHIND.days})
    return value


def storable(value: Any, depth: int = 0) -> Any:
    """``value`` with whatever cannot be stored replaced, for keeping a rejected mutation as it
    was sent: NUL and lone surrogates become U+FFFD, NaN and infinities and numbers past 64 bits
    become text, nesting past ``MAX_DEPTH`` becomes its text."""
    if isinstance(value, str):
        return clean_text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -MAX_ID - 1 <= value <= MAX_ID else str(value)[:100]
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            return clean_text(repr(value)[:1000])
        if isinstance(value, list):
            return [storable(v, depth + 1) for v in value]
        return {clean_text(str(k)): storable(v, depth + 1) for k, v in value.items()}
    return clean_text(str(value))


def clean_text(value: str) -> str:
    """``value`` with NUL and lone surrogates replaced by U+FFFD."""
    if "\x00" not in value and value.isascii():
        return value
    return _UNSTORABLE.sub("\ufffd", value)
