"""Webhooks under load: the delay from a change's commit to its delivery at a receiver, and
the throughput, through the real background worker (``crewline db_worker``) and outbox.

    bench/run webhooks                       PostgreSQL, 1,000 changes
    bench/run webhooks --changes 5000        more
    bench/run webhooks --postgres URL        another PostgreSQL database (emptied first)
    bench/run webhooks --sqlite              the embedded SQLite database instead
    bench/run webhooks --rate 100            changes a second in the steady phase

The database (default postgres://postgres@127.0.0.1:5432/crewline_bench_webhooks) is created if
missing, emptied, migrated and seeded: one organization, 50 customers and an endpoint subscribed
to every event, pointing at a receiver this script runs on a free 127.0.0.1 port, which
verifies each request with the ``standardwebhooks`` library. One worker process
(``db_worker``, its default 1 s poll, as ``crewline run`` starts it) delivers.

Steady phase: ``--changes`` customer updates at ``--rate`` a second, round the 50 customers
(each a ``customer.updated`` event); each change's delay runs from its commit (the service
returned) to its arrival at the receiver. Backlog phase: as many changes again, written while
the worker is paused (SIGSTOP), then the time from its resumption to the last delivery gives
the throughput of one worker. Errors:
a bad signature, an event delivered twice, out of order for its customer, or missing 30 s after
the last write. Target: 95th percentile of the steady delay at most 2 s, no errors.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import live  # noqa: E402  (bench/live.py: ensure_database)
import run as common  # noqa: E402  (bench/run.py: environment and paths)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crewline_bench_webhooks"
CUSTOMERS = 50
TARGET_P95_S = 2.0
DRAIN_SECONDS = 30.0


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.arrivals: dict[int, float] = {}
        self.order: dict[int, list[int]] = {}  # customer -> change ids as they arrived
        self.errors: dict[str, int] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                from standardwebhooks.webhooks import Webhook, WebhookVerificationError

                at = time.time()
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                except WebhookVerificationError:
                    receiver.error("bad signature")
                    self._answer(400)
                    return
                change_id = int(self.headers["webhook-id"])
                with receiver.lock:
                    if change_id in receiver.arrivals:
                        receiver.errors["delivered twice"] = receiver.errors.get(
                            "delivered twice", 0) + 1
                    receiver.arrivals[change_id] = at
                    receiver.order.setdefault(payload["data"]["resource_id"], []).append(
                        change_id)
                self._answer(200)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


def seed(url: str):
    from crewline.core.models import Member, Organization, Role, User
    from crewline.customers.models import Customer
    from crewline.live.models import EVENTS
    from crewline.webhooks.services import endpoint_create

    org = Organization.objects.create(name="Bench Webhooks", slug="bench-webhooks",
                                      time_zone="America/Chicago")
    user = User.objects.create(email="owner@bench-webhooks.example", full_name="Owner")
    owner = Member.objects.create(organization=org, user=user, role=Role.OWNER)
    customers = Customer.objects.bulk_create(
        [Customer(organization=org, name=f"Customer {n}") for n in range(CUSTOMERS)])
    endpoint = endpoint_create(organization=org, by=owner, url=url, events=EVENTS)
    return owner, customers, endpoint


def write(owner, customers, count: int, rate: float | None, tag: str) -> dict[int, float]:
    """``count`` customer updates (``rate`` a second, or as fast as possible): change id ->
    the wall time its transaction had committed."""
    from crewline.customers.services import customer_update
    from crewline.live.models import Change

    committed: dict[int, float] = {}
    start = time.monotonic()
    for n in range(count):
        if rate:
            wait = start + n / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        customer = customers[n % len(customers)]
        customer_update(customer=customer, by=owner, notes=f"{tag} {n}")
        at = time.time()
        change_id = (Change.objects.filter(kind="customer", object_id=customer.pk)
                     .order_by("-id").values_list("id", flat=True).first())
        committed[change_id] = at
    return committed


def pause(pid: int) -> None:
    """SIGSTOP the worker, but not inside a write: on SQLite a worker stopped while it holds
    the database's write lock (its poll claims tasks in a transaction) would make every write
    of the backlog wait for it and fail after the busy timeout."""
    import sqlite3

    from django.conf import settings
    from django.db import connection

    for _ in range(200):
        os.kill(pid, signal.SIGSTOP)
        if connection.vendor != "sqlite":
            return
        probe = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=0.1,
                                isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.05)
        finally:
            probe.close()
    sys.exit("Could not pause the worker outside a write.")


def wait_for(receiver: Receiver, ids, deadline: float) -> None:
    while time.monotonic() < deadline:
        with receiver.lock:
            if all(i in receiver.arrivals for i in ids):
                return
        time.sleep(0.05)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL", default=DEFAULT_URL)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0,
                        help="changes a second in the steady phase (default 50)")
    args = parser.parse_args(argv)
    if not 0 < args.changes <= 100_000 or not 0 < args.rate <= 10_000:
        parser.error("--changes 1..100000, --rate 1..10000")
    if args.sqlite:
        url = f"sqlite:///{common.VAR / 'webhooks.sqlite3'}"
        common.VAR.mkdir(parents=True, exist_ok=True)
    else:
        live.ensure_database(args.postgres)
        url = args.postgres
    common.configure(url)
    os.environ["WEBHOOKS_ALLOW_PRIVATE_URLS"] = "true"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    receiver = Receiver()
    owner, customers, endpoint = seed(receiver.url)
    receiver.secret = endpoint.secret
    from django.db import connections

    connections.close_all()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = common.VAR / "webhooks-worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(  # noqa: S603 (our own fixed command line)
            [sys.executable, "-m", "crewline.cli", "db_worker", "--verbosity", "0"],
            cwd=common.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        time.sleep(2)  # the worker's start-up
        print(f"Steady: {args.changes} changes at {args.rate:g}/s ...", flush=True)
        steady = write(owner, customers, args.changes, args.rate, "steady")
        wait_for(receiver, steady, time.monotonic() + DRAIN_SECONDS)
        print(f"Backlog: {args.changes} changes written while the worker is paused, then "
              "drained ...", flush=True)
        pause(worker.pid)
        try:
            burst = write(owner, customers, args.changes, None, "backlog")
        finally:
            burst_start = time.time()
            os.kill(worker.pid, signal.SIGCONT)
        wait_for(receiver, burst, time.monotonic() + DRAIN_SECONDS + args.changes / 20)
    finally:
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
        receiver.server.shutdown()
    return report(receiver, steady, burst, burst_start, url, log)


def report(receiver, steady, burst, burst_start, url, log) -> bool:
    errors = dict(receiver.errors)
    delays = [receiver.arrivals[i] - at for i, at in steady.items() if i in receiver.arrivals]
    missing = sum(1 for i in [*steady, *burst] if i not in receiver.arrivals)
    if missing:
        errors["missing"] = missing
    unordered = sum(1 for seq in receiver.order.values() if seq != sorted(seq))
    if unordered:
        errors["out of order (customers)"] = unordered
    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"\nWebhooks on {engine}, one worker (db_worker, 1 s poll):")
    if delays:
        print(f"  steady: {len(delays)} delivered; commit → delivery median "
              f"{statistics.median(delays) * 1000:.0f} ms, p95 {pct(delays, 95) * 1000:.0f} ms, "
              f"max {max(delays) * 1000:.0f} ms (target p95 <= {TARGET_P95_S:g} s)")
    last = max((receiver.arrivals[i] for i in burst if i in receiver.arrivals), default=0)
    if last:
        print(f"  backlog: {len(burst)} delivered in {last - burst_start:.1f} s once the worker "
              f"went on: {len(burst) / (last - burst_start):.0f} deliveries/s")
    print(f"  errors: {json.dumps(errors) if errors else 'none'}  (worker log: {log})")
    ok = bool(delays) and pct(delays, 95) <= TARGET_P95_S and not errors
    print("  OK" if ok else "  FAILED")
    return ok


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1:]) else 1)
