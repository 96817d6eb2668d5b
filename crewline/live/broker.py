"""Carrying changes from the process that made them to the processes holding live streams.

Three brokers, chosen by ``settings.LIVE_BROKER``:

- ``memory``: one process; events fan out to the streams of this process only.
- ``redis``: Redis pub/sub on ``settings.REDIS_URL``; any number of processes.
- ``postgres``: PostgreSQL ``LISTEN``/``NOTIFY`` on the project's database.

Whatever the broker, delivery to the streams of a process goes through one in-process ``Hub``:
each stream holds a ``Subscription`` (an asyncio queue on its event loop). The Redis and
PostgreSQL brokers keep one listening connection per event loop, not one per stream, and open it
while the first stream subscribes. ``publish`` is synchronous and thread-safe: it is called from
``transaction.on_commit`` in whatever thread made the change.

Brokers lose messages when a listener reconnects; subscriptions are then marked ``lost`` and the
stream catches up from the ``Change`` table, which is the record of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

logger = logging.getLogger(__name__)

BROKERS = ("memory", "redis", "postgres")
CHANNEL = "crewline_live"
QUEUE_SIZE = 1000


class Subscription:
    """One stream's queue of messages for one organization, read on ``loop``."""

    def __init__(self, org_id: int, loop: asyncio.AbstractEventLoop) -> None:
        self.org_id = org_id
        self.loop = loop
        self.queue: asyncio.Queue[dict] = asyncio.Queue(maxsize=QUEUE_SIZE)
        # Set when messages may have been missed (a full queue, a listener reconnecting): the
        # stream then reads the Change table to catch up.
        self.lost = False

    def offer(self, message: dict) -> None:
        """Runs on ``self.loop``."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.lost = True

    def mark_lost(self) -> None:
        self.lost = True
        # Wake the stream so that it catches up now, not at the next message.
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait({"lost": True})

    async def get(self, timeout: float) -> dict | None:
        """The next message, or None after ``timeout`` seconds without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class Hub:
    """The subscriptions of this process, by organization. Safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[int, set[Subscription]] = {}

    def add(self, org_id: int, loop: asyncio.AbstractEventLoop) -> Subscription:
        sub = Subscription(org_id, loop)
        with self._lock:
            self._subs.setdefault(org_id, set()).add(sub)
        return sub

    def remove(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.org_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.org_id]

    def count(self, loop: asyncio.AbstractEventLoop | None = None) -> int:
        with self._lock:
            return sum(1 for subs in self._subs.values() for s in subs
                       if loop is None or s.loop is loop)

    def _each(self, org_id: int | None, loop: asyncio.AbstractEventLoop | None):
        with self._lock:
            groups = list(self._subs.values()) if org_id is None else [
                self._subs.get(org_id, ())]
            return [s for subs in groups for s in subs if loop is None or s.loop is loop]

    def dispatch(self, message: dict, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Hand ``message`` to the subscriptions of its organization (on ``loop`` only, if
        given: a listener serves the streams of its own loop)."""
        for sub in self._each(message["org"], loop):
            self._call(sub, sub.offer, message)

    def mark_lost(self, loop: asyncio.AbstractEventLoop) -> None:
        for sub in self._each(None, loop):
            self._call(sub, sub.mark_lost)

    def _call(self, sub: Subscription, fn: Callable, *args) -> None:
        try:
            sub.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop has closed: its stream is gone
            self.remove(sub)


class Broker:
    name = "base"

    def __init__(self) -> None:
        self.hub = Hub()

    def publish(self, message: dict) -> None:
        raise NotImplementedError

    async def subscribe(self, org_id: int) -> Subscription:
        """A subscription that receives every message published after this returns."""
        return self.hub.add(org_id, asyncio.get_running_loop())

    def unsubscribe(self, sub: Subscription) -> None:
        self.hub.remove(sub)


class MemoryBroker(Broker):
    name = "memory"

    def publish(self, message: dict) -> None:
        self.hub.dispatch(message)


class _Listener:
    def __init__(self, task: asyncio.Task, ready: asyncio.Event) -> None:
        self.task = task
        self.ready = ready


class ListeningBroker(Broker):
    """A broker with one listening connection per event loop, feeding the hub."""

    RETRY_SECONDS = 1.0
    CONNECT_TIMEOUT = 5.0

    def __init__(self) -> None:
        super().__init__()
        self._listeners: dict[asyncio.AbstractEventLoop, _Listener] = {}

    async def subscribe(self, org_id: int) -> Subscription:
        loop = asyncio.get_running_loop()
        sub = self.hub.add(org_id, loop)
        listener = self._listeners.get(loop)
        if listener is None or listener.task.done():
            ready = asyncio.Event()
            listener = _Listener(loop.create_task(self._run(loop, ready)), ready)
            self._listeners[loop] = listener
        try:
            await asyncio.wait_for(listener.ready.wait(), self.CONNECT_TIMEOUT)
        except TimeoutError:
            self.unsubscribe(sub)
            raise ConnectionError(f"The {self.name} live broker did not connect in time.") from None
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        super().unsubscribe(sub)
        if self.hub.count(sub.loop) == 0:
            listener = self._listeners.pop(sub.loop, None)
            if listener is not None:
                listener.task.cancel()

    async def _run(self, loop: asyncio.AbstractEventLoop, ready: asyncio.Event) -> None:
        while True:
            try:
                await self.listen(ready.set, lambda m: self.hub.dispatch(m, loop=loop))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("The %s live broker lost its connection; reconnecting.",
                                 self.name)
            if ready.is_set():  # it was listening: messages may have been missed meanwhile
                self.hub.mark_lost(loop)
            await asyncio.sleep(self.RETRY_SECONDS)

    async def listen(self, on_ready: Callable[[], None],
                     deliver: Callable[[dict], None]) -> None:
        """Connect, call ``on_ready`` once listening, then ``deliver`` each message."""
        raise NotImplementedError


class RedisBroker(ListeningBroker):
    name = "redis"

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis

        self.url = url
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def publish(self, message: dict) -> None:
        self._client.publish(CHANNEL, json.dumps(message))

    async def listen(self, on_ready, deliver) -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=5)
        try:
            async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(CHANNEL)
                on_ready()
                async for item in pubsub.listen():
                    if item.get("type") == "message":
                        deliver(json.loads(item["data"]))
        finally:
            await client.aclose()


class PostgresBroker(ListeningBroker):
    name = "postgres"

    def publish(self, message: dict) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, json.dumps(message)])

    async def listen(self, on_ready, deliver) -> None:
        import psycopg

        db = settings.DATABASES["default"]
        params = {"dbname": db["NAME"], "user": db.get("USER") or None,
                  "password": db.get("PASSWORD") or None, "host": db.get("HOST") or None,
                  "port": db.get("PORT") or None}
        conn = await psycopg.AsyncConnection.connect(
            autocommit=True, **{k: v for k, v in params.items() if v is not None})
        try:
            await conn.execute(f"LISTEN {CHANNEL}")
            on_ready()
            async for notice in conn.notifies():
                deliver(json.loads(notice.payload))
        finally:
            await conn.close()


_brokers: dict[tuple, Broker] = {}
_brokers_lock = threading.Lock()


def _config() -> tuple[str, str, str]:
    return (getattr(settings, "LIVE_BROKER", "memory"), getattr(settings, "REDIS_URL", ""),
            settings.DATABASES["default"]["ENGINE"])


def get_broker() -> Broker:
    """The broker ``settings.LIVE_BROKER`` names; ImproperlyConfigured for a bad choice."""
    config = _config()
    with _brokers_lock:
        broker = _brokers.get(config)
        if broker is None:
            broker = _brokers[config] = _make(*config)
        return broker


def _make(name: str, redis_url: str, engine: str) -> Broker:
    if name == "memory":
        return MemoryBroker()
    if name == "redis":
        if not redis_url:
            raise ImproperlyConfigured("LIVE_BROKER=redis needs REDIS_URL (redis://host:6379/0).")
        return RedisBroker(redis_url)
    if name == "postgres":
        if engine != "django.db.backends.postgresql":
            raise ImproperlyConfigured("LIVE_BROKER=postgres needs a PostgreSQL DATABASE_URL.")
        return PostgresBroker()
    raise ImproperlyConfigured(
        f"LIVE_BROKER={name!r} is not a live broker; use one of: {', '.join(BROKERS)}.")
