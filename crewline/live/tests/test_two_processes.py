"""Two server processes against one database: a note posted through one reaches a stream held
open on the other within a second (Redis pub/sub on SQLite or on PostgreSQL, as a deployment
runs it, or PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import http.client
import json
import time

import pytest
from django.conf import settings
from django.db import connection

from crewline.live.tests.servers import (
    post_note,
    seed,
    server_env,
    sqlite_database,
    start_servers,
    stop_servers,
)


def _postgres(env: dict) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: run with DATABASE_URL=postgres://...")
    db = settings.DATABASES["default"]  # pytest's migrated test database
    env["DATABASE_URL"] = (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
                           f"{db['PORT'] or 5432}/{db['NAME']}")


@pytest.fixture
def two_servers(request, tmp_path):
    broker, database = request.param.split("-")
    env = server_env(tmp_path, LIVE_BROKER=broker)
    if broker == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
    else:
        env.pop("REDIS_URL", None)
    if database == "sqlite":
        sqlite_database(env, tmp_path)
    else:
        _postgres(env)
    data = seed(env)
    ports, servers = start_servers(env, 2)
    try:
        yield ports, data
    finally:
        stop_servers(servers)


@pytest.mark.parametrize("two_servers", [
    "redis-sqlite",
    # The servers share pytest's migrated test database, so its rows must be committed.
    pytest.param("redis-postgres", marks=pytest.mark.django_db(transaction=True)),
    pytest.param("postgres-postgres", marks=pytest.mark.django_db(transaction=True)),
], indirect=True)
def test_it_carries_a_change_from_one_server_process_to_a_stream_on_another(two_servers):
    (reader_port, writer_port), data = two_servers
    stream = http.client.HTTPConnection("127.0.0.1", reader_port, timeout=10)
    stream.request("GET", f"/live/stream/?topics=wo:{data['pk']}",
                   headers={"Cookie": f"sessionid={data['session']}",
                            "Accept": "text/event-stream"})
    response = stream.getresponse()
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    assert response.readline().startswith(b"retry:")  # subscribed on the reader
    started = time.monotonic()
    assert post_note(writer_port, data["number"], data["session"], "Through the other") == 302
    posted = time.monotonic()
    frame = ""
    while '"kind":"note"' not in frame:
        # A stream that ends (after LIVE_STREAM_SECONDS) or stalls fails the test, never hangs.
        line = response.readline()  # the connection's 10 s timeout bounds each read
        assert line, "the stream ended before the note arrived"
        assert time.monotonic() - started < 10, "no note on the stream within 10 s"
        frame = line.decode()
    arrived = time.monotonic()
    stream.close()
    assert frame.startswith("data: ")
    assert json.loads(frame[6:])["topic"] == f"wo:{data['pk']}"
    assert arrived - posted < 1, f"took {arrived - posted:.2f} s after the post"
    assert arrived - started < 5
