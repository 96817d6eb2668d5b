"""Opaque cursors for list endpoints: keyset on ``id``, or on ``(updated_at, id)`` when a list
is read by ``updated_since`` (a sync: rows changed while it pages come again later)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from pydantic import Field

from crewline.api.problems import Problem

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
MAX_ID = 2**63 - 1

# A list's cursor, as its ``next`` link carries it; the feed's, as its ``cursor`` answers it.
# Opaque tokens (an object in base64url, so they start "eyJ"), each with a format of its own in
# the document: what a generator of valid requests must be taught, any other string is a 400.
_ENCODED = r"^eyJ[A-Za-z0-9_-]*$"
Cursor = Annotated[str, Field(max_length=2000, pattern=_ENCODED,
                              json_schema_extra={"format": "cursor"})]
ChangeCursor = Annotated[str, Field(max_length=2000, pattern=_ENCODED,
                                    json_schema_extra={"format": "change-cursor"})]
CURSOR_HELP = "The cursor of the next page, from the previous page's `next` link."


def encode(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> dict:
    """The cursor's content; a 400 problem for anything this server did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError
        return data
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise bad_cursor() from exc


def bad_cursor() -> Problem:
    return Problem(400, "invalid-cursor", "The cursor is not one this API handed out; start "
                   "again without it.", title="Invalid cursor",
                   errors=[{"field": "cursor", "message": "Not a valid cursor.",
                            "code": "invalid"}])


def next_link(request: HttpRequest, **params: Any) -> str:
    query = {k: v for k, v in request.GET.items() if k not in params}
    query.update({k: v for k, v in params.items() if v is not None})
    return request.build_absolute_uri(f"{request.path}?{urlencode(query)}")


def _has_updated_at(qs: QuerySet) -> bool:
    return any(f.name == "updated_at" for f in qs.model._meta.concrete_fields)


def keyset_page(request: HttpRequest, qs: QuerySet, *, cursor: str | None, limit: int,
                by_updated: bool, serialize: Callable[[Any], Any],
                prepare: Callable[[list], None] | None = None) -> dict:
    """One page of ``qs`` after ``cursor`` and the link to the next one (None on the last).
    ``prepare`` loads what the page's rows need, for all of them at once."""
    data = decode(cursor) if cursor else None
    if data is not None:
        # The cursor continues the order it was made in (its next link keeps the query); in a
        # list without that order (no updated_at) it continues after its row's id.
        by_updated = data.get("k") == "u" and _has_updated_at(qs)
    qs = qs.order_by("updated_at", "id") if by_updated else qs.order_by("id")
    if data is not None:
        try:
            last_id = int(data["i"])
            if not 0 < last_id <= MAX_ID or data.get("k") not in ("u", "i"):
                raise ValueError
            if data.get("k") == "u":
                last_t = dt.datetime.fromisoformat(data["t"])
                if last_t.tzinfo is None:
                    raise ValueError
            if by_updated:
                qs = qs.filter(Q(updated_at__gt=last_t) | Q(updated_at=last_t, id__gt=last_id))
            else:
                qs = qs.filter(id__gt=last_id)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise bad_cursor() from exc
    rows = list(qs[:limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if prepare is not None:
        prepare(rows)
    link = None
    if more:
        last = rows[-1]
        token = ({"k": "u", "t": last.updated_at.isoformat(), "i": last.pk} if by_updated
                 else {"k": "i", "i": last.pk})
        link = next_link(request, cursor=encode(token))
    return {"data": [serialize(r) for r in rows], "next": link}
