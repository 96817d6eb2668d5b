"""Live updates under load: the delay from a technician's change to its arrival in the office's
open pages, through real server processes (uvicorn; one, or several with --processes) on
PostgreSQL.

    bench/run live                                 LISTEN/NOTIFY, 90 seconds
    bench/run live --broker redis                  Redis pub/sub (REDIS_URL, default below)
    bench/run live --seconds 300                   a longer run
    bench/run live --postgres URL                  another PostgreSQL database (emptied first)
    bench/run live --no-pool                       persistent connections, no pool (DATABASE_POOL)
    bench/run live --conn-max-age 0                the same with DATABASE_CONN_MAX_AGE
    bench/run live --processes 4 --broker redis    four server processes, no balancer

The database (default postgres://postgres@127.0.0.1:5432/crewline_bench_live) is created if
missing, emptied, migrated and seeded each run: one organization, 200 technicians with one
visit each today and 20 office members. One server process serves it on a free 127.0.0.1 port
(``--processes N``: N processes, each on its own port, and the clients take them in turn: office
stream n and technician n go to process n mod N, so that a change made through one process is
heard on the streams of all the others).
20 office members each hold a stream on the topics the dispatch board and the work order list
listen to (``list`` and ``board:<today>``). 200 technicians, staggered evenly, each push a visit
status change (on the way, on site, then pause and resume in turn) every 30 seconds to
``/field/api/push`` from a registered device. For each change the delay runs from the moment
its push was sent to the arrival of its ``list`` event on each of the 20 streams. Errors:
non-2xx pushes, rejected mutations, streams that end or fail, and deliveries still missing 5
seconds after the last push. Target: 95th percentile under 1 s and no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as common  # noqa: E402  (bench/run.py: environment and paths)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crewline_bench_live"
REDIS_URL = "redis://127.0.0.1:6379/0"
TECHNICIANS, OFFICE, INTERVAL = 200, 20, 30.0
TARGET_P95_S = 1.0
DRAIN_SECONDS = 5.0
# Each technician's visit goes on the way, arrives, then pauses and resumes in turn.
STEPS = ("visit_en_route", "visit_arrive")
CYCLE = ("visit_pause", "visit_resume")


def ensure_database(url: str) -> None:
    """Create the database ``url`` names if it does not exist (connecting to ``postgres``)."""
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"Created the database {name}.")


def seed() -> dict:
    """One organization: office members, technicians with a visit each today, devices and
    logged-in sessions. Work orders and visits go through the services (their audit, timeline
    and live events included)."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from crewline.core.models import Member, Organization, Role, User
    from crewline.customers.models import Customer, Site
    from crewline.field.models import Device
    from crewline.workorders.services import visit_add, work_order_create

    org = Organization.objects.create(name="Bench Live Heating", slug="bench-live",
                                      time_zone="America/Chicago")
    tz = org.tzinfo

    def members(role: str, count: int, prefix: str) -> list[Member]:
        users = User.objects.bulk_create(
            [User(email=f"{prefix}{n}@bench-live.example", full_name=f"{prefix.title()} {n}")
             for n in range(count)])
        return Member.objects.bulk_create(
            [Member(organization=org, role=role, user=u) for u in users])

    office = members(Role.OFFICE, OFFICE, "office")
    techs = members(Role.TECHNICIAN, TECHNICIANS, "tech")
    users = {u.pk: u for u in User.objects.filter(memberships__organization=org)}

    def session(member: Member) -> str:
        store = SessionStore()
        user = users[member.user_id]
        store["_auth_user_id"] = str(user.pk)
        store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        store["_auth_user_hash"] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    now = timezone.now().astimezone(tz)
    start = max(now - dt.timedelta(minutes=30),
                dt.datetime.combine(now.date(), dt.time(0, 5), tzinfo=tz))
    dispatcher = office[0]
    technicians = []
    for n, tech in enumerate(techs):
        customer = Customer.objects.create(organization=org, name=f"Customer {n}")
        site = Site.objects.create(organization=org, customer=customer,
                                   address_line1=f"{100 + n} Lake Shore Dr", city="Chicago",
                                   region="IL", postal_code="60601")
        wo = work_order_create(organization=org, by=dispatcher, customer=customer, site=site,
                               title=f"Boiler service {n}")
        visit = visit_add(work_order=wo, by=dispatcher, start=start,
                          end=start + dt.timedelta(hours=4), crew=[tech], override=True)
        device = Device.objects.create(id=uuid.uuid4(), organization=org, member=tech,
                                       name="Bench phone")
        technicians.append({"visit": visit.pk, "wo": wo.pk, "device": str(device.pk),
                            "session": session(tech)})
    return {"day": start.date().isoformat(), "office": [session(m) for m in office],
            "technicians": technicians}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (our own fixed command line)
            [sys.executable, "-m", "uvicorn", "crewline.asgi:application", "--host",
             "127.0.0.1", "--port", str(port), "--lifespan", "off", "--log-level", "warning",
             "--timeout-graceful-shutdown", "1"],
            cwd=common.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"The server exited:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/field/api/me")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    sys.exit("The server did not start within 60 s.")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@dataclass
class Change:
    visit: int
    name: str
    sent: float
    answered: float = 0.0
    arrivals: dict[int, float] = field(default_factory=dict)  # stream -> monotonic time


@dataclass
class State:
    streams: int
    # visit -> the applied changes in the order they were pushed
    changes: dict[int, list[Change]] = field(default_factory=dict)
    # (stream, visit) -> how many of that visit's changes the stream has seen
    seen: dict[tuple[int, int], int] = field(default_factory=dict)
    push_errors: dict[str, int] = field(default_factory=dict)
    stream_errors: dict[str, int] = field(default_factory=dict)
    unexpected: int = 0
    reconnects: int = 0  # streams the server ended at their lifetime, taken up again
    frames: int = 0
    push_times: list[float] = field(default_factory=list)
    ready: int = 0
    connections: int = 0  # the most database connections seen at once
    stopping: bool = False

    def error(self, kind: dict, what: str) -> None:
        kind[what] = kind.get(what, 0) + 1


async def office_stream(client, n: int, session: str, topics: str, state: State,
                        connected: asyncio.Event) -> None:
    """One office page's stream, as a browser's EventSource holds it: when the server ends it
    (a stream lasts ``LIVE_STREAM_SECONDS``), it reconnects after the ``retry`` the server
    asked for, with ``Last-Event-ID``, and the server sends what it missed."""
    import httpx

    url = f"/live/stream/?topics={urllib.parse.quote(topics)}"
    last_id, retry, first = None, 1.0, True
    while not state.stopping:
        headers = {"Cookie": f"sessionid={session}", "Accept": "text/event-stream"}
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        try:
            async with client.stream("GET", url, headers=headers,
                                     timeout=httpx.Timeout(10, read=None)) as response:
                if response.status_code != 200:
                    state.error(state.stream_errors, f"stream HTTP {response.status_code}")
                    return
                async for line in response.aiter_lines():
                    now = time.monotonic()
                    if line.startswith("retry:"):
                        retry = int(line[6:].strip() or 1000) / 1000
                        if first:
                            first = False
                            state.ready += 1
                            if state.ready == state.streams:
                                connected.set()
                        continue
                    if line.startswith("id:"):
                        last_id = line[3:].strip()
                        continue
                    if not line.startswith("data: "):
                        continue
                    state.frames += 1
                    data = json.loads(line[6:])
                    if "list" not in data.get("topics", ()) or data.get("what") != "visit":
                        continue
                    visit = data.get("visit")
                    changes = state.changes.get(visit, [])
                    k = state.seen.get((n, visit), 0)
                    if k >= len(changes):
                        state.unexpected += 1
                        continue
                    state.seen[(n, visit)] = k + 1
                    changes[k].arrivals[n] = now
        except (httpx.HTTPError, OSError) as exc:
            if not state.stopping:
                state.error(state.stream_errors, f"stream {type(exc).__name__}")
            return
        except asyncio.CancelledError:
            raise
        if not state.stopping:
            state.reconnects += 1
            await asyncio.sleep(retry)


async def login(client, tech: dict, state: State, gate: asyncio.Semaphore) -> dict | None:
    """The phone app's start: ``/field/api/me`` for the CSRF token its pushes send back."""
    headers = {"Cookie": f"sessionid={tech['session']}"}
    async with gate:
        response = await client.get("/field/api/me", headers=headers)
    if response.status_code != 200:
        state.error(state.push_errors, f"me HTTP {response.status_code}")
        return None
    return {"Cookie": f"sessionid={tech['session']}; "
                      f"csrftoken={response.cookies['csrftoken']}",
            "X-CSRFToken": response.json()["csrf_token"], "Content-Type": "application/json"}


async def technician(client, n: int, tech: dict, headers: dict | None, state: State,
                     started: float, seconds: float) -> None:
    import httpx

    if headers is None:
        return
    offset = INTERVAL * n / TECHNICIANS
    seq = 0
    while True:
        at = started + offset + INTERVAL * seq
        if at >= started + seconds:
            return
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        name = STEPS[seq] if seq < len(STEPS) else CYCLE[(seq - len(STEPS)) % 2]
        seq += 1
        body = json.dumps({"device_id": tech["device"], "mutations": [{
            "seq": seq, "name": name, "args": {"visit_id": tech["visit"]},
            "client_time": dt.datetime.now(dt.UTC).isoformat()}]})
        # Registered before the send: the event may arrive before the answer does.
        change = Change(tech["visit"], name, time.monotonic())
        state.changes.setdefault(tech["visit"], []).append(change)
        try:
            response = await client.post("/field/api/push", content=body, headers=headers)
        except httpx.HTTPError as exc:
            state.changes[tech["visit"]].remove(change)
            state.error(state.push_errors, f"push {type(exc).__name__}")
            continue
        change.answered = time.monotonic()
        state.push_times.append(change.answered - change.sent)
        if response.status_code != 200:
            state.changes[tech["visit"]].remove(change)
            state.error(state.push_errors, f"push HTTP {response.status_code}")
            continue
        results = response.json().get("results") or []
        if not results or results[0].get("status") != "applied":
            state.changes[tech["visit"]].remove(change)
            state.error(state.push_errors, f"push {results[0].get('status') if results else '?'}")


def count_connections(url: str) -> int:
    """How many connections the benchmark's database holds now (the server's, mostly)."""
    import psycopg

    name = urllib.parse.urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = %s",
                            [name]).fetchone()[0]


async def watch_connections(url: str, state: State) -> None:
    while True:
        count = await asyncio.to_thread(count_connections, url)
        state.connections = max(state.connections, count)
        await asyncio.sleep(2)


async def load(bases: list[str], world: dict, seconds: float, url: str) -> State:
    import contextlib

    import httpx

    state = State(streams=len(world["office"]))
    watcher = asyncio.create_task(watch_connections(url, state))
    topics = f"list board:{world['day']}"
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
    async with contextlib.AsyncExitStack() as clients:
        # One client per process and purpose; client n takes the n-th process in turn.
        streams = [await clients.enter_async_context(
            httpx.AsyncClient(base_url=b, limits=limits, timeout=30)) for b in bases]
        pushes = [await clients.enter_async_context(
            httpx.AsyncClient(base_url=b, limits=limits, timeout=30)) for b in bases]
        connected = asyncio.Event()
        readers = [asyncio.create_task(office_stream(streams[n % len(bases)], n, s, topics,
                                                     state, connected))
                   for n, s in enumerate(world["office"])]
        try:
            await asyncio.wait_for(connected.wait(), 30)
        except TimeoutError:
            print(f"Only {state.ready} of {state.streams} streams connected in 30 s.")
        print(f"{state.ready} office streams open on {topics!r}; {TECHNICIANS} technicians "
              f"push every {INTERVAL:.0f} s for {seconds:.0f} s ...", flush=True)
        # The phones start before the clock does, a few at a time (as phones do).
        gate = asyncio.Semaphore(8)
        logins = await asyncio.gather(*(login(pushes[n % len(bases)], t, state, gate)
                                        for n, t in enumerate(world["technicians"])))
        started = time.monotonic() + 1
        await asyncio.gather(*(technician(pushes[n % len(bases)], n, t, h, state, started,
                                          seconds)
                               for n, (t, h) in enumerate(
                                   zip(world["technicians"], logins, strict=True))))
        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline and any(
                len(c.arrivals) < state.ready for cs in state.changes.values() for c in cs):
            await asyncio.sleep(0.1)
        state.stopping = True
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    return state


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def report(state: State, broker: str, logs: list[Path], seconds: float) -> bool:
    changes = [c for cs in state.changes.values() for c in cs]
    delays = [t - c.sent for c in changes for t in c.arrivals.values()]
    expected = len(changes) * state.streams
    missing = expected - len(delays)
    server_errors = sum(1 for log in logs for line in log.read_text(errors="replace").splitlines()
                        if "Traceback" in line or " ERROR " in line or "Exception" in line)
    errors = (sum(state.push_errors.values()) + sum(state.stream_errors.values()) + missing
              + server_errors)
    processes = ("one uvicorn process" if len(logs) == 1
                 else f"{len(logs)} uvicorn processes (clients in turn)")
    print(f"\nCrewline live updates on PostgreSQL, broker {broker}, {processes}, "
          f"{seconds:.0f} s.\n")
    print(f"changes pushed and applied   {len(changes)}")
    print(f"deliveries                   {len(delays)} of {expected} "
          f"({state.streams} streams x {len(changes)} changes)")
    if delays:
        p95 = percentile(delays, 0.95)
        print(f"delay median                 {statistics.median(delays) * 1000:.0f} ms")
        print(f"delay p95                    {p95 * 1000:.0f} ms   target < "
              f"{TARGET_P95_S * 1000:.0f} ms  {'yes' if p95 < TARGET_P95_S else 'NO'}")
        print(f"delay max                    {max(delays) * 1000:.0f} ms")
    if state.push_times:
        print(f"push answer median / p95     {statistics.median(state.push_times) * 1000:.0f} / "
              f"{percentile(state.push_times, 0.95) * 1000:.0f} ms")
    after = [t - c.answered for c in changes for t in c.arrivals.values()]
    if after:
        # Negative: the event reached the stream before the push's answer reached the phone.
        print(f"after the answer median/p95  {statistics.median(after) * 1000:.0f} / "
              f"{percentile(after, 0.95) * 1000:.0f} ms (the broker and the streams' part)")
    print(f"database connections, most   {state.connections} (with {state.ready} streams open)")
    print(f"streams taken up again       {state.reconnects} (ended by the server at their "
          "lifetime, reconnected with Last-Event-ID as a browser does)")
    print(f"errors                       {errors}   target 0  {'yes' if not errors else 'NO'}")
    for what, n in sorted({**state.push_errors, **state.stream_errors}.items()):
        print(f"  {what}: {n}")
    if missing:
        print(f"  deliveries missing {DRAIN_SECONDS:.0f} s after the last push: {missing}")
    if server_errors:
        print(f"  error lines in the servers' logs ({', '.join(map(str, logs))}): "
              f"{server_errors}")
    if state.unexpected:
        print(f"  (events matching no recorded change: {state.unexpected})")
    print(f"\nLoad average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the client "
          "runs on the same machine as the server and the database).")
    return bool(delays) and percentile(delays, 0.95) < TARGET_P95_S and not errors


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL", default=DEFAULT_URL,
                        help=f"PostgreSQL database to use (emptied first); default {DEFAULT_URL}")
    parser.add_argument("--broker", choices=("postgres", "redis"), default="postgres")
    parser.add_argument("--seconds", type=float, default=90.0,
                        help="how long the technicians push (default 90)")
    parser.add_argument("--no-pool", action="store_true",
                        help="the server without its connection pool (DATABASE_POOL=false)")
    parser.add_argument("--conn-max-age", type=int, metavar="SECONDS",
                        help="the server's DATABASE_CONN_MAX_AGE; implies --no-pool")
    parser.add_argument("--processes", type=int, default=1, metavar="N",
                        help="server processes, each on its own port (default 1); the clients "
                             "take them in turn. Several need a broker between processes.")
    args = parser.parse_args(argv)
    if not 1 <= args.processes <= 16:
        parser.error("--processes must be between 1 and 16")
    if not args.postgres.startswith(("postgres://", "postgresql://")):
        parser.error("--postgres needs a postgres:// URL")
    if not 0 < args.seconds <= 3600:
        parser.error("--seconds must be between 0 and 3600")

    ensure_database(args.postgres)
    common.configure(args.postgres)
    os.environ["MEDIA_ROOT"] = str(common.VAR / "live-media")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    print(f"Seeding {TECHNICIANS} technicians with a visit each today and {OFFICE} office "
          "members ...", flush=True)
    t0 = time.perf_counter()
    world = seed()
    print(f"Seeded in {time.perf_counter() - t0:.1f} s.", flush=True)
    from django.db import connections

    connections.close_all()

    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "LIVE_BROKER": args.broker,
           "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if args.no_pool or args.conn_max_age is not None:
        env["DATABASE_POOL"] = "false"
    if args.conn_max_age is not None:
        env["DATABASE_CONN_MAX_AGE"] = str(args.conn_max_age)
    if args.broker == "redis":
        env["REDIS_URL"] = os.environ.get("REDIS_URL") or REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    ports = [free_port() for _ in range(args.processes)]
    logs = [common.VAR / ("live-server.log" if args.processes == 1 else f"live-server-{i}.log")
            for i in range(args.processes)]
    servers: list[subprocess.Popen] = []
    try:
        for port, log in zip(ports, logs, strict=True):
            servers.append(start_server(port, env, log))
        state = asyncio.run(load([f"http://127.0.0.1:{port}" for port in ports], world,
                                 args.seconds, args.postgres))
    finally:
        for server in servers:
            stop_server(server)
    return 0 if report(state, args.broker, logs, args.seconds) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
