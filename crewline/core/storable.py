"""What the database can store as it is: text without NUL characters or lone surrogates,
whole numbers within 64 bits, finite numbers, JSON nested a few levels at most.

Input that comes as JSON (a phone's push, the API's bodies) is checked against it before it
reaches a model: PostgreSQL refuses NUL in text and jsonb, UTF-8 cannot encode a lone
surrogate, and an id past 64 bits cannot be looked up. ``storable`` keeps what was sent, made
storable, where it must be kept even though it was refused (a rejected mutation).
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.utils.translation import gettext as _

# Ids are PostgreSQL's bigint (and SQLite's INTEGER): 1 to 2**63 - 1.
MAX_ID = 2**63 - 1
# The arguments are flat (a checklist answer is a value); deeper nesting is no input's.
MAX_DEPTH = 4

# Lone surrogates decode from JSON's \ud800 escapes but cannot be encoded to UTF-8; NUL is
# refused by PostgreSQL in text and in jsonb.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Unstorable(ValueError):
    """A value the database cannot store as it is; the message says which and why."""


def check_text(value: str, name: str | None) -> str:
    """``value`` when the database can store it; raises Unstorable otherwise (``name`` is
    the field's, None for a field's name itself)."""
    if "\x00" in value or (not value.isascii() and _UNSTORABLE.search(value)):
        what = name if name is not None else _("an argument's name")
        if "\x00" in value:
            raise Unstorable(_("“%(name)s” contains a NUL character.") % {"name": what})
        raise Unstorable(_("“%(name)s” is not valid Unicode text.") % {"name": what})
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
            raise Unstorable(_("“%(name)s” is too large a number.") % {"name": name})
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Unstorable(_("“%(name)s” must be a finite number.") % {"name": name})
    elif isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise Unstorable(_("“%(name)s” is nested too deeply.") % {"name": name})
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                check_text(key, name)
            check_value(item, name, depth + 1)


def check_fields(fields: dict) -> None:
    """Every field of ``fields``, as ``check_value`` says, each named in the reason."""
    for key, value in fields.items():
        check_text(key, None)
        check_value(value, key)


def is_id(value: Any) -> bool:
    """A whole number an id can be: 1 to ``MAX_ID`` (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


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
