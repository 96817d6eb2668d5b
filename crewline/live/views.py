"""The Server-Sent Events stream open pages listen to."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import deque
from collections.abc import AsyncIterator

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone

from crewline.live.broker import get_broker
from crewline.live.selectors import achanges_after, latest_change_id
from crewline.live.services import topic_allowed

MAX_TOPICS = 40
# Tells the browser to reconnect soon after a dropped connection: part of the 2-second target.
RETRY_MS = 1000


def _heartbeat_seconds() -> float:
    return float(getattr(settings, "LIVE_HEARTBEAT_SECONDS", 15))


def _lifetime_seconds() -> float:
    """How long one stream lasts before the server ends it; the browser reconnects at once with
    Last-Event-ID and misses nothing. Recycling streams keeps a server that is not ASGI (the
    test server) from holding a thread on one forever."""
    return float(getattr(settings, "LIVE_STREAM_SECONDS", 300))


def _poll_seconds(broker_name: str) -> float:
    """How often a stream also reads the event log; 0 for never.

    With the memory broker, changes made by another process (the background worker, a second
    web worker) reach no stream of this one; reading the log every second still shows them
    within the 2-second target. Redis and PostgreSQL carry them, so they don't poll."""
    default = 1 if broker_name == "memory" else 0
    return float(getattr(settings, "LIVE_POLL_SECONDS", None) or default)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _heard(change_topics, listened: frozenset[str]) -> list[str]:
    """The change's topics that this stream listens to, in the change's order."""
    return [t for t in change_topics if t in listened]


def _frame(change_id: int, topics: list[str], data: dict) -> str:
    """One Server-Sent Event: the change's id (the browser's Last-Event-ID), the topics it was
    heard on (``topic``: the first) and its payload."""
    body = json.dumps({"topic": topics[0], "topics": topics, **data}, separators=(",", ":"))
    return f"id: {change_id}\nevent: change\ndata: {body}\n\n"


async def stream(request: HttpRequest) -> HttpResponse:
    """/live/stream/?topics=wo:12+list: the member's organization's events on those topics.

    ``Last-Event-ID`` (sent by the browser when it reconnects) or ``?since=<unix time>`` (when
    the page was rendered) first replays what was missed from the event log. A comment line
    every ``LIVE_HEARTBEAT_SECONDS`` keeps proxies from closing an idle connection.
    """
    user = await request.auser()
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    member = getattr(request, "member", None)
    if member is None:
        raise PermissionDenied("You are not a member of any organization.")
    topics = set(request.GET.get("topics", "").replace(",", " ").split())
    if not topics or len(topics) > MAX_TOPICS:
        return HttpResponseBadRequest("Name between 1 and 40 topics.")
    refused = sorted(t for t in topics if not topic_allowed(member, t))
    if refused:
        raise PermissionDenied(f"You may not listen to: {', '.join(refused)}")
    last_id = _int_or_none(request.headers.get("Last-Event-ID"))
    since = None
    if last_id is None and (stamp := _int_or_none(request.GET.get("since"))) is not None:
        # A second back: the page's own render happened within the second it names.
        since = dt.datetime.fromtimestamp(stamp - 1, tz=dt.UTC)
        since = max(since, timezone.now() - dt.timedelta(hours=1))
    response = StreamingHttpResponse(
        _events(member.organization_id, frozenset(topics), last_id, since),
        content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


stream.access = "member"  # for the URL walk in crewline/core/tests


async def _events(org_id: int, topics: frozenset[str], last_id: int | None,
                  since: dt.datetime | None) -> AsyncIterator[str]:
    broker = get_broker()
    # Subscribe before reading the log, so nothing committed in between is missed; what both
    # deliver is sent once.
    sub = await broker.subscribe(org_id)
    sent: deque[int] = deque(maxlen=1000)
    high = last_id
    if high is None and since is None:
        high = await latest_change_id(organization_id=org_id)

    async def backlog() -> AsyncIterator[str]:
        nonlocal high
        # A list read at once, after which the connection is given back: between reads the
        # stream holds none, though it stays open for minutes.
        for change in await achanges_after(organization_id=org_id, topics=topics,
                                           after_id=high, since=since if high is None else None):
            if change.id not in sent:
                sent.append(change.id)
                high = max(high or 0, change.id)
                yield _frame(change.id, _heard(change.topics, topics), change.payload)

    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        async for frame in backlog():
            yield frame
        heartbeat, poll = _heartbeat_seconds(), _poll_seconds(broker.name)
        loop = asyncio.get_running_loop()
        last_sent = loop.time()
        ends = last_sent + _lifetime_seconds()
        while (left := ends - loop.time()) > 0:
            message = await sub.get(min(heartbeat, poll, left) if poll else min(heartbeat, left))
            if message is None:
                if poll:
                    async for frame in backlog():
                        last_sent = loop.time()
                        yield frame
                if loop.time() - last_sent >= heartbeat * 0.99:
                    last_sent = loop.time()
                    yield ": heartbeat\n\n"
                continue
            if sub.lost:
                sub.lost = False
                async for frame in backlog():
                    yield frame
            heard = _heard(message.get("topics") or (), topics) if "id" in message else []
            if not heard or message["id"] in sent:
                continue
            sent.append(message["id"])
            high = max(high or 0, message["id"])
            last_sent = loop.time()
            yield _frame(message["id"], heard, message.get("data") or {})
    finally:
        broker.unsubscribe(sub)
