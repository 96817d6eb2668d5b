"""Reading the event log for streams catching up.

A stream lives for minutes and reads the log only now and then: when it opens, when its broker
may have lost messages and, with the memory broker, every poll. Its reads go through
``aevents_after`` and ``latest_event_id``, which give the stream's database connection back
after each read, so an idle stream holds none (with the pool, it returns there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import TypeVar

from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models import Max, QuerySet

from crewline.live.models import Event

REPLAY_LIMIT = 500

T = TypeVar("T")


def events_after(*, organization_id: int, topics: Collection[str], after_id: int | None = None,
                 since: dt.datetime | None = None) -> QuerySet[Event]:
    """The organization's events on ``topics`` after event ``after_id`` (or created at or after
    ``since``), oldest first, at most ``REPLAY_LIMIT``."""
    events = Event.objects.filter(organization_id=organization_id, topic__in=list(topics))
    if after_id is not None:
        events = events.filter(id__gt=after_id)
    elif since is not None:
        events = events.filter(created_at__gte=since)
    else:
        return events.none()
    return events.order_by("id")[:REPLAY_LIMIT]


def release_connection() -> None:
    """Give this thread's database connection back: closed, or returned to the pool.

    Not inside a transaction (``atomic``; the tests' own transaction too): closing there would
    end it. The next query in this thread opens or takes a connection again."""
    if not connection.in_atomic_block:
        connection.close()


async def _read_and_release(read: Callable[[], T]) -> T:
    """Run the ORM read ``read`` in the thread the async ORM uses (the request's), then release
    that thread's connection there: a connection belongs to the thread that opened it."""

    def run() -> T:
        try:
            return read()
        finally:
            release_connection()

    return await sync_to_async(run)()


async def aevents_after(*, organization_id: int, topics: Collection[str],
                        after_id: int | None = None,
                        since: dt.datetime | None = None) -> list[Event]:
    """``events_after`` read at once; gives the connection back after (``release_connection``)."""
    return await _read_and_release(lambda: list(events_after(
        organization_id=organization_id, topics=topics, after_id=after_id, since=since)))


async def latest_event_id(*, organization_id: int) -> int:
    """The organization's newest event id (0 if none): where a fresh stream starts. Gives the
    connection back after (``release_connection``)."""

    def read() -> int:
        found = Event.objects.filter(organization_id=organization_id).aggregate(top=Max("id"))
        return found["top"] or 0

    return await _read_and_release(read)
