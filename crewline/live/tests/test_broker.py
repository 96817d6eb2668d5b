"""The brokers: in-process fan-out, Redis pub/sub and PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from crewline.live import broker as live_broker
from crewline.live.broker import MemoryBroker, PostgresBroker, RedisBroker


def _message(org: int, event_id: int = 1, topic: str = "list") -> dict:
    return {"id": event_id, "org": org, "topic": topic, "data": {}}


async def _exchange(broker, *, from_thread: bool) -> tuple[dict | None, dict | None]:
    """Subscribe org 1 and org 2, publish for org 1; what each receives within a second."""
    mine = await broker.subscribe(1)
    theirs = await broker.subscribe(2)
    try:
        if from_thread:
            thread = threading.Thread(target=broker.publish, args=(_message(1, 7),))
            thread.start()
            await asyncio.to_thread(thread.join)
        else:
            await asyncio.to_thread(broker.publish, _message(1, 7))
        return await mine.get(2), await theirs.get(0.3)
    finally:
        broker.unsubscribe(mine)
        broker.unsubscribe(theirs)


def test_it_fans_out_in_memory_to_the_organizations_streams_only():
    broker = MemoryBroker()
    got, other = asyncio.run(_exchange(broker, from_thread=True))
    assert got == _message(1, 7)
    assert other is None
    assert broker.hub.count() == 0


def test_it_delivers_in_memory_to_every_stream_of_the_organization():
    broker = MemoryBroker()

    async def scenario():
        subs = [await broker.subscribe(1) for _ in range(3)]
        broker.publish(_message(1, 3))
        return [await s.get(1) for s in subs]

    assert [m["id"] for m in asyncio.run(scenario())] == [3, 3, 3]


def test_it_marks_a_stream_lost_when_its_queue_overflows(monkeypatch):
    monkeypatch.setattr(live_broker, "QUEUE_SIZE", 2)
    broker = MemoryBroker()

    async def scenario():
        sub = await broker.subscribe(1)
        for i in range(3):
            broker.publish(_message(1, i))
        await asyncio.sleep(0.05)
        return sub

    sub = asyncio.run(scenario())
    assert sub.lost
    assert sub.queue.qsize() == 2


def test_it_carries_messages_over_redis_between_brokers(redis_url):
    # Two brokers stand for two processes: one publishes, the other's stream receives.
    sender, receiver = RedisBroker(redis_url), RedisBroker(redis_url)

    async def scenario():
        mine = await receiver.subscribe(1)
        theirs = await receiver.subscribe(2)
        await asyncio.to_thread(sender.publish, _message(1, 9))
        got, other = await mine.get(2), await theirs.get(0.3)
        receiver.unsubscribe(mine)
        receiver.unsubscribe(theirs)
        await asyncio.sleep(0)
        return got, other

    got, other = asyncio.run(scenario())
    assert got == _message(1, 9)
    assert other is None
    assert receiver._listeners == {}


@pytest.mark.django_db(transaction=True)
def test_it_carries_messages_over_postgres_notify():
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL: run with DATABASE_URL=postgres://...")
    sender, receiver = PostgresBroker(), PostgresBroker()

    async def scenario():
        mine = await receiver.subscribe(1)
        await asyncio.to_thread(_publish_and_close, sender, _message(1, 11))
        got = await mine.get(2)
        receiver.unsubscribe(mine)
        await asyncio.sleep(0)
        return got

    assert asyncio.run(scenario()) == _message(1, 11)


def _publish_and_close(broker, message):
    try:
        broker.publish(message)
    finally:
        connection.close()


@pytest.mark.parametrize(("name", "redis_url", "error"), [
    ("kafka", "", "is not a live broker"),
    ("redis", "", "needs REDIS_URL"),
    ("postgres", "", "needs a PostgreSQL"),
])
def test_it_refuses_a_bad_broker_setting(name, redis_url, error):
    with pytest.raises(ImproperlyConfigured, match=error):
        live_broker._make(name, redis_url, "django.db.backends.sqlite3")


def test_it_uses_the_broker_the_setting_names(settings, redis_url):
    settings.LIVE_BROKER = "redis"
    settings.REDIS_URL = redis_url
    assert isinstance(live_broker.get_broker(), RedisBroker)
    settings.LIVE_BROKER = "memory"
    assert isinstance(live_broker.get_broker(), MemoryBroker)
