"""Open streams hold no database connection between their reads of the event log: a server with
hundreds of pages open must not hold hundreds of idle connections (or empty its pool)."""

from __future__ import annotations

import http.client
import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import connection

from crewline.live.models import Change, ChangeKind
from crewline.live.selectors import achanges_after, latest_change_id
from crewline.live.tests.servers import seed, server_env, start_servers, stop_servers

STREAMS = 6
APP_NAME = "crewline-live-connections-test"


def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        # SQLite's in-memory test database ignores closing (it would be lost), and holding a
        # SQLite connection costs no server anything.
        pytest.skip("Counts PostgreSQL backends: run with DATABASE_URL=postgres://...")


@pytest.mark.django_db(transaction=True)
def test_it_gives_the_connection_back_after_each_read(org):
    _postgres_only()
    Change.objects.create(organization=org, kind=ChangeKind.VISIT, topics=["list"])

    async def scenario():
        held = sync_to_async(lambda: connection.connection is not None)
        top = await latest_change_id(organization_id=org.pk)
        after_latest = await held()
        events = await achanges_after(organization_id=org.pk, topics={"list"}, after_id=0)
        return top, after_latest, events, await held()

    top, after_latest, events, after_events = async_to_sync(scenario)()
    assert top == events[0].id
    assert after_latest is False
    assert after_events is False


@pytest.mark.django_db
def test_it_keeps_the_connection_inside_a_transaction(org):
    # The test's own transaction stands for any atomic block the read may run in: closing the
    # connection there would roll it back.
    event = Change.objects.create(organization=org, kind=ChangeKind.VISIT, topics=["list"])

    async def scenario():
        return await latest_change_id(organization_id=org.pk)

    assert async_to_sync(scenario)() == event.id
    assert connection.in_atomic_block
    assert Change.objects.filter(pk=event.pk).exists()


def _count_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND application_name = %s",
                       [APP_NAME])
        return cursor.fetchone()[0]


def _open_stream(port: int, data: dict) -> tuple[http.client.HTTPConnection,
                                                  http.client.HTTPResponse]:
    """A stream on the work order's topic that replays its events (Last-Event-ID 0), read up to
    the first replayed event: by then the stream's catch-up read has finished."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", f"/live/stream/?topics=wo:{data['pk']}",
                 headers={"Cookie": f"sessionid={data['session']}", "Last-Event-ID": "0",
                          "Accept": "text/event-stream"})
    response = conn.getresponse()
    assert response.status == 200
    _read_until(response, b"data: ")
    return conn, response


def _read_until(response: http.client.HTTPResponse, prefix: bytes) -> None:
    while not (line := response.readline()).startswith(prefix):
        assert line, "the stream ended"


@pytest.mark.parametrize("pool", [
    pytest.param(True, id="pool"),
    pytest.param(False, id="no-pool"),
])
@pytest.mark.django_db(transaction=True)  # the server shares pytest's test database
def test_it_holds_no_connection_for_streams_open_idle(tmp_path, pool):
    _postgres_only()
    db = settings.DATABASES["default"]
    env = server_env(
        tmp_path, LIVE_BROKER="postgres", LIVE_STREAM_SECONDS="60", LIVE_HEARTBEAT_SECONDS="1",
        # Only the connections Django opens carry the name; the broker's one listening
        # connection does not, and is not what this counts.
        DATABASE_URL=(f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
                      f"{db['PORT'] or 5432}/{db['NAME']}?application_name={APP_NAME}"))
    env.pop("REDIS_URL", None)
    if pool:
        env.update(DATABASE_POOL="true", DATABASE_POOL_MIN_SIZE="1",
                   DATABASE_POOL_MAX_SIZE=str(STREAMS * 2))
    else:
        # Persistent connections off: whatever is open is held by a request.
        env.update(DATABASE_POOL="false", DATABASE_CONN_MAX_AGE="0")
    data = seed(env)
    [port], servers = start_servers(env, 1)
    streams = []
    try:
        # One after the other: a stream that gave its connection back leaves it in the pool for
        # the next one, so the pool does not grow.
        streams = [_open_stream(port, data) for _ in range(STREAMS)]
        time.sleep(0.5)
        held = _count_backends()
        for _, response in streams:  # still open: each sends its heartbeat
            _read_until(response, b": heartbeat")
        # The pool keeps its minimum (one) and may have opened a second while the first was
        # still connecting, whatever the number of streams.
        assert held <= (2 if pool else 0), f"{held} connections for {STREAMS} idle streams"
    finally:
        for conn, _ in streams:
            conn.close()
        stop_servers(servers)
