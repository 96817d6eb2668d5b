"""The SSE stream read through Django's AsyncClient: live events, catch-up after a dropped
connection, heartbeats, and nothing of another organization."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient

from crewline.factories import SiteFactory
from crewline.live.broker import get_broker
from crewline.live.models import Change
from crewline.workorders.services import note_add, work_order_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def memory_broker(settings):
    settings.LIVE_BROKER = "memory"
    # Events must come through the broker, not the stream's own reading of the log (tested
    # on its own below).
    settings.LIVE_POLL_SECONDS = 600


@pytest.fixture
def wo(org, office):
    site = SiteFactory(customer__organization=org)
    return work_order_create(organization=org, by=office, customer=site.customer, site=site,
                             title="Boiler service")


def _frames(text: str) -> list[dict]:
    """The events in a chunk of the stream, as {"id", "event", "data"}."""
    frames = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines()
                      if line and not line.startswith(":") and ": " in line)
        if "data" in fields:
            frames.append({"id": int(fields["id"]), "event": fields.get("event"),
                           "data": json.loads(fields["data"])})
    return frames


class Stream:
    def __init__(self, response):
        self.response = response
        self.chunks = aiter(response.streaming_content)
        self.text = ""

    async def read(self, timeout: float = 2) -> str:
        chunk = await asyncio.wait_for(anext(self.chunks), timeout)
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        self.text += text
        return text

    async def events(self, count: int, timeout: float = 2) -> list[dict]:
        found: list[dict] = []
        while len(found) < count:
            found += _frames(await self.read(timeout))
        return found

    async def close(self):
        await self.chunks.aclose()


async def _open(member, query: str, **headers) -> Stream:
    client = AsyncClient()
    await client.aforce_login(member.user)
    response = await client.get(f"/live/stream/?{query}", headers=headers)
    assert response.status_code == 200, response
    assert response["Content-Type"] == "text/event-stream"
    stream = Stream(response)
    assert "retry:" in await stream.read()  # subscribed: later changes will arrive
    return stream


def _note(wo, by, body):
    # The test runs in a transaction: run on-commit callbacks as a real commit would.
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return note_add(work_order=wo, by=by, body=body)


def test_it_streams_a_change_to_the_work_orders_page(wo, office):
    async def scenario():
        stream = await _open(office, f"topics=wo:{wo.pk}")
        await sync_to_async(_note)(wo, office, "Parts ordered")
        events = await stream.events(1)
        await stream.close()
        return events

    [event] = async_to_sync(scenario)()
    assert event["event"] == "change"
    assert event["data"]["topic"] == f"wo:{wo.pk}"
    assert event["data"]["topics"] == [f"wo:{wo.pk}"]
    assert event["data"]["kind"] == "note"
    assert event["id"] == Change.objects.get(payload__kind="note").id
    assert get_broker().hub.count() == 0  # closing the stream unsubscribed it


def test_it_replays_what_was_missed_after_last_event_id(wo, office):
    first = _note(wo, office, "One")
    first_id = Change.objects.get(object_id=wo.pk, payload__kind="note").id
    _note(wo, office, "Two")
    _note(wo, office, "Three")
    assert first.pk

    async def scenario():
        stream = await _open(office, f"topics=wo:{wo.pk}+list", **{"Last-Event-ID": str(first_id)})
        replayed = await stream.events(2)
        await sync_to_async(_note)(wo, office, "Four")
        live = await stream.events(1)
        await stream.close()
        return replayed, live

    replayed, live = async_to_sync(scenario)()
    ids = [e["id"] for e in replayed + live]
    assert ids == sorted(ids) and ids[0] > first_id
    assert len(set(ids)) == 3
    notes = Change.objects.filter(payload__kind="note").order_by("id")
    assert ids == list(notes.values_list("id", flat=True))[1:]


def test_it_never_sends_another_organizations_events(wo, office, outsider, other_org):
    _note(wo, office, "Before")

    async def scenario():
        # The outsider asks for this organization's topic and claims to have missed everything.
        stream = await _open(outsider, f"topics=wo:{wo.pk}+list", **{"Last-Event-ID": "0"})
        await sync_to_async(_note)(wo, office, "Secret")
        site = await sync_to_async(SiteFactory)(customer__organization=other_org)
        await sync_to_async(work_order_create)(organization=other_org, by=outsider,
                                               customer=site.customer, title="Their own job")
        events = await stream.events(1)
        await stream.close()
        return events

    [event] = async_to_sync(scenario)()
    assert Change.objects.get(id=event["id"]).organization_id == other_org.pk
    assert event["data"]["wo"] != wo.pk


def test_it_sends_a_heartbeat_while_nothing_happens(office, settings):
    settings.LIVE_HEARTBEAT_SECONDS = 0.1

    async def scenario():
        stream = await _open(office, "topics=list")
        text = await stream.read(1)
        await stream.close()
        return text

    assert async_to_sync(scenario)() == ": heartbeat\n\n"


def test_it_catches_up_from_the_log_when_the_broker_lost_messages(wo, office, monkeypatch):
    from crewline.live import services

    class Dropping:  # the broker's connection is down while the change is made
        def publish(self, message):
            pass

    async def scenario():
        stream = await _open(office, f"topics=wo:{wo.pk}")
        monkeypatch.setattr(services, "get_broker", lambda: Dropping())
        await sync_to_async(_note)(wo, office, "Made while the broker was down")
        for sub in get_broker().hub._each(None, None):  # the listener reconnected
            sub.loop.call_soon_threadsafe(sub.mark_lost)
        events = await stream.events(1)
        await stream.close()
        return events

    [event] = async_to_sync(scenario)()
    assert event["data"]["kind"] == "note"


def test_it_refuses_office_topics_to_a_technician(technician):
    async def scenario():
        client = AsyncClient()
        await client.aforce_login(technician.user)
        refused = await client.get("/live/stream/?topics=list")
        mine = await client.get(f"/live/stream/?topics=member:{technician.pk}")
        if mine.status_code == 200:
            await aiter(mine.streaming_content).aclose()
        return refused.status_code, mine.status_code

    assert async_to_sync(scenario)() == (403, 200)


@pytest.mark.parametrize("query", ["", "topics=", "topics=wo:x", "topics=" + "+".join(
    f"wo:{i}" for i in range(41))])
def test_it_rejects_bad_topics(office, query):
    async def scenario():
        client = AsyncClient()
        await client.aforce_login(office.user)
        return (await client.get(f"/live/stream/?{query}")).status_code

    assert async_to_sync(scenario)() in (400, 403)


def test_it_sends_anonymous_visitors_to_log_in():
    async def scenario():
        return await AsyncClient().get("/live/stream/?topics=list")

    response = async_to_sync(scenario)()
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_reads_the_log_for_changes_made_by_another_process(wo, office, monkeypatch, settings):
    # With the memory broker a change made by the background worker or a second web process
    # never reaches this process's hub; the stream finds it in the log.
    from crewline.live import services

    settings.LIVE_POLL_SECONDS = 0.1

    class OtherProcess:
        def publish(self, message):
            pass

    async def scenario():
        stream = await _open(office, f"topics=wo:{wo.pk}")
        monkeypatch.setattr(services, "get_broker", lambda: OtherProcess())
        await sync_to_async(_note)(wo, office, "Raised by the worker")
        events = await stream.events(1)
        await stream.close()
        return events

    [event] = async_to_sync(scenario)()
    assert event["data"]["kind"] == "note"
