"""Reading the change log for streams catching up.

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
from django.db.models import Max

from crewline.live.models import Change

REPLAY_LIMIT = 500

T = TypeVar("T")


def changes_after(*, organization_id: int, topics: Collection[str],
                  after_id: int | None = None,
                  since: dt.datetime | None = None) -> list[Change]:
    """The organization's changes on any of ``topics`` after change ``after_id`` (or made at or
    after ``since``), oldest first, at most ``REPLAY_LIMIT``. Each row names its topics; the
    ones these streams listen to are picked here, from the rows after the cursor."""
    rows = Change.objects.filter(organization_id=organization_id).exclude(topics=[])
    if after_id is not None:
        rows = rows.filter(id__gt=after_id)
    elif since is not None:
        rows = rows.filter(created_at__gte=since)
    else:
        return []
    wanted = set(topics)
    found: list[Change] = []
    for row in rows.order_by("id").only("id", "topics", "payload")[:REPLAY_LIMIT * 4]:
        if wanted.intersection(row.topics):
            found.append(row)
            if len(found) == REPLAY_LIMIT:
                break
    return found


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


async def achanges_after(*, organization_id: int, topics: Collection[str],
                         after_id: int | None = None,
                         since: dt.datetime | None = None) -> list[Change]:
    """``changes_after`` in the stream's thread; gives the connection back after
    (``release_connection``)."""
    return await _read_and_release(lambda: changes_after(
        organization_id=organization_id, topics=topics, after_id=after_id, since=since))


async def latest_change_id(*, organization_id: int) -> int:
    """The organization's newest change id (0 if none): where a fresh stream starts. Gives the
    connection back after (``release_connection``)."""

    def read() -> int:
        found = Change.objects.filter(organization_id=organization_id).aggregate(top=Max("id"))
        return found["top"] or 0

    return await _read_and_release(read)
