"""Server-side benchmark of the dispatch board, measured in-process with Django's test Client.

    bench/run board                    SQLite database var/bench/board.sqlite3 (seeded once)
    .venv/bin/python bench/board.py    the same
    bench/run board --postgres URL     on PostgreSQL (use a database of its own)
    bench/run board --requests 60      more timed requests per case

One organization with 50 technicians and a year of weekday history (400 visits a day, crews of
two on some), a queue of unscheduled work, and two measured days: a busy one with 400 visits
and a lighter one with 200, to show that the query count does not grow with the visits. The
data is written with bulk inserts once; a marker file in var/bench/ records what was seeded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as common  # noqa: E402  (bench/run.py: environment, timing and query counting)

SEED = {"slug": "bench-board", "technicians": 50, "history_days": 365, "ahead_days": 14,
        "visits_per_day": 400, "light_visits": 200, "queue": 80, "customers": 3000,
        "day": "2026-03-10", "seed": 9}
# Median target in milliseconds on SQLite for the busy day (the requirement).
TARGET_MS = 80
TIME_ZONE = "America/Chicago"


def marker_path(url: str) -> Path:
    return common.VAR / f"board-seeded-{hashlib.sha256(url.encode()).hexdigest()[:12]}.json"


def seed(log=print) -> dict:
    """The benchmark organization, written with bulk inserts (no services, no audit chain)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from crewline.core.models import Member, Organization, Role, Skill, User
    from crewline.customers.models import Customer, Site
    from crewline.demo.scale import BENCH_PASSWORD, _Names, analyze
    from crewline.workorders.models import (
        JobType,
        Priority,
        Status,
        Visit,
        VisitStatus,
        WorkOrder,
    )

    started = time.perf_counter()
    rng = random.Random(SEED["seed"])
    names = _Names(SEED["seed"])
    tz = __import__("zoneinfo").ZoneInfo(TIME_ZONE)
    measured = dt.date.fromisoformat(SEED["day"])
    light = measured + dt.timedelta(days=1)
    rows = 0
    with transaction.atomic():
        org = Organization.objects.create(
            name="Benchmark Mechanical", slug=SEED["slug"], time_zone=TIME_ZONE,
            business_hours={**{d: ["07:00", "18:00"] for d in ("mon", "tue", "wed", "thu",
                                                               "fri")},
                            "sat": ["08:00", "12:00"], "sun": None})
        password = make_password(BENCH_PASSWORD)
        users = User.objects.bulk_create(
            [User(email=f"office@{SEED['slug']}.bench.example", full_name="Dana Dispatcher",
                  password=password)]
            + [User(email=f"tech{i}@{SEED['slug']}.bench.example",
                    full_name=names.person(rng), password=password)
               for i in range(SEED["technicians"])])
        Member.objects.create(organization=org, user=users[0], role=Role.OFFICE)
        techs = Member.objects.bulk_create([
            Member(organization=org, user=u, role=Role.TECHNICIAN,
                   colour=f"#{rng.randrange(0x30, 0xC0):02x}{rng.randrange(0x30, 0xC0):02x}"
                          f"{rng.randrange(0x30, 0xC0):02x}")
            for u in users[1:]])
        skills = Skill.objects.bulk_create([Skill(organization=org, name=n) for n in (
            "Boilers", "Refrigeration", "Electrical", "Gas", "Plumbing")])
        Member.skills.through.objects.bulk_create([
            Member.skills.through(member_id=t.pk, skill_id=s.pk)
            for t in techs for s in rng.sample(skills, 2)])
        job_types = JobType.objects.bulk_create([
            JobType(organization=org, name=n, default_duration_minutes=m) for n, m in (
                ("Boiler service", 90), ("Leak repair", 60), ("AC maintenance", 120),
                ("Inspection", 45))])
        customers = Customer.objects.bulk_create([
            Customer(organization=org, name=names.business(rng)) for _ in
            range(SEED["customers"])], batch_size=2000)
        # Fifty neighbourhoods on a 10 x 5 grid over the city, a site within a kilometre of
        # its neighbourhood's centre: each technician works one of them.
        centres = [(41.72 + 0.06 * (i // 10), -87.85 + 0.03 * (i % 10)) for i in range(50)]
        sites = Site.objects.bulk_create([
            Site(organization=org, customer=c, address_line1=f"{rng.randrange(1, 9999)} "
                 f"{rng.choice(names.last)} St", city="Chicago", region="IL",
                 latitude=round(centres[i % 50][0] + rng.uniform(-0.006, 0.006), 6),
                 longitude=round(centres[i % 50][1] + rng.uniform(-0.008, 0.008), 6))
            for i, c in enumerate(customers)], batch_size=2000)
        rows += len(users) + len(techs) + len(customers) + len(sites)

    areas = [sites[i::50] for i in range(50)]
    first = measured - dt.timedelta(days=SEED["history_days"])
    last = measured + dt.timedelta(days=SEED["ahead_days"])
    number = 1001
    day = first
    while day <= last:
        if day.weekday() >= 5:
            day += dt.timedelta(days=1)
            continue
        count = SEED["light_visits"] if day == light else SEED["visits_per_day"]
        per_tech = count // len(techs)
        past = day < measured
        wos, visits, crews = [], [], []
        for k in range(count):
            tech = techs[k % len(techs)]
            slot = k // len(techs)
            # Each technician works an area of the city: the next visit is a short drive away.
            site = rng.choice(areas[k % len(techs) % 50])
            minutes = rng.choice((45, 60, 60, 75)) if per_tech <= 5 else rng.choice((45, 60))
            # Spread each technician's visits over the day from 07:30 with gaps to drive.
            step = min(90, 600 // max(per_tech, 1) // 15 * 15)
            start_min = 7 * 60 + 30 + slot * step
            start = dt.datetime.combine(day, dt.time(start_min // 60, start_min % 60),
                                        tzinfo=tz)
            window = rng.random() < 0.4
            wos.append(WorkOrder(
                organization=org, number=number, customer_id=site.customer_id, site=site,
                job_type=rng.choice(job_types), priority=rng.choice(Priority.values),
                title=rng.choice(("Annual boiler service", "No heat in the office",
                                  "Leaking valve", "Cooling unit check", "Gas safety check")),
                status=Status.COMPLETED if past else Status.SCHEDULED,
                requested_start=start - dt.timedelta(hours=1) if window else None,
                requested_end=start + dt.timedelta(hours=3) if window else None,
                created_at=start - dt.timedelta(days=5)))
            visits.append(Visit(organization=org, start=start,
                                end=start + dt.timedelta(minutes=minutes),
                                status=VisitStatus.DONE if past else VisitStatus.SCHEDULED))
            # Now and then a second technician joins (and is double-booked: a conflict to show).
            crews.append([tech] + ([techs[(k + 7) % len(techs)]] if k % 60 == 0 else []))
            number += 1
        with transaction.atomic():
            wos = WorkOrder.objects.bulk_create(wos, batch_size=2000)
            for wo, visit in zip(wos, visits, strict=True):
                visit.work_order = wo
            visits = Visit.objects.bulk_create(visits, batch_size=2000)
            through = [Visit.crew.through(visit_id=v.pk, member_id=m.pk)
                       for v, crew in zip(visits, crews, strict=True) for m in crew]
            Visit.crew.through.objects.bulk_create(through, batch_size=5000)
        rows += len(wos) + len(visits) + len(through)
        day += dt.timedelta(days=1)
    with transaction.atomic():
        queue = WorkOrder.objects.bulk_create([
            WorkOrder(organization=org, number=number + i, customer_id=s.customer_id, site=s,
                      job_type=rng.choice(job_types), priority=rng.choice(Priority.values),
                      title="Waiting to be scheduled", status=Status.NEW,
                      due_date=measured + dt.timedelta(days=rng.randrange(-3, 20)))
            for i, s in enumerate(rng.sample(sites, SEED["queue"]))])
        rows += len(queue)
        Organization.objects.filter(pk=org.pk).update(
            next_work_order_number=number + len(queue))
    analyze()
    seconds = time.perf_counter() - started
    log(f"Seeded {rows:,} rows in {seconds:.1f} s.")
    return {"params": SEED, "seeded_at": time.strftime("%Y-%m-%d %H:%M"), "rows": rows,
            "seconds": round(seconds, 1)}


def ensure_seeded(url: str) -> dict:
    from django.core.management import call_command

    from crewline.core.models import Organization

    call_command("migrate", interactive=False, verbosity=0)
    # Always: the pages' static files may be newer than the last collection.
    call_command("collectstatic", interactive=False, verbosity=0)
    marker = marker_path(url)
    exists = Organization.objects.filter(slug=SEED["slug"]).exists()
    if marker.exists():
        info = json.loads(marker.read_text())
        if info["params"] == SEED and exists:
            print(f"Reusing the board data seeded on {info['seeded_at']} "
                  f"({info['rows']:,} rows in {info['seconds']:.0f} s).")
            return info
    if exists:
        sys.exit(f"Organization {SEED['slug']} exists but {marker} does not match; remove the "
                 "database (or drop and recreate it on PostgreSQL) and the marker, then rerun.")
    print(f"Seeding {SEED['technicians']} technicians and a year of visits "
          f"({SEED['visits_per_day']} a weekday); once only ...", flush=True)
    info = seed(log=lambda line: print(line, flush=True))
    marker.write_text(json.dumps(info, indent=2))
    return info


def measure(client, name: str, label: str, url: str, *, requests: int, warmup: int = 5
            ) -> tuple[common.Result, float]:
    """``common.measure``, and the median CPU time of the process per request.

    The machine may be shared: wall time then grows with others' load, CPU time far less.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        response = client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    queries = len(ctx.captured_queries)
    if response.status_code != 200:
        return (common.Result(name, label, float("nan"), float("nan"), queries,
                              response.status_code, note=f"GET {url} answered "
                              f"{response.status_code}"), float("nan"))
    times, cpu, sql = [], [], []
    spent = [0.0]

    def timed_sql(execute, sql_text, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            spent[0] += time.perf_counter() - started

    with connection.execute_wrapper(timed_sql):
        for _ in range(requests):
            spent[0] = 0.0
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            sql.append(spent[0] * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return (common.Result(name, label, statistics.median(times), p95, queries,
                          response.status_code, statistics.median(sql)),
            statistics.median(cpu))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL",
                        help="postgres://... : run on this PostgreSQL database instead")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--explain", action="store_true",
                        help="print the slowest statements of each case")
    args = parser.parse_args(argv)
    if args.postgres and not args.postgres.startswith(("postgres://", "postgresql://")):
        parser.error("--postgres needs a postgres:// URL")

    import os

    common.configure(args.postgres)
    url = args.postgres or f"sqlite:///{common.VAR / 'board.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.conf import settings
    from django.urls import reverse

    from crewline.workorders.models import Visit

    ensure_seeded(url)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    client = common.client_for(SEED["slug"])
    board = reverse("scheduling:board")
    busy = dt.date.fromisoformat(SEED["day"])
    light = busy + dt.timedelta(days=1)
    tz = __import__("zoneinfo").ZoneInfo(TIME_ZONE)

    def visits_on(day: dt.date) -> int:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        return Visit.objects.filter(organization__slug=SEED["slug"], start__gte=start,
                                    start__lt=start + dt.timedelta(days=1)).count()

    total = Visit.objects.filter(organization__slug=SEED["slug"]).count()
    n_busy, n_light = visits_on(busy), visits_on(light)
    cases = [
        ("day", f"day view, {n_busy} visits, 50 technicians", f"{board}?date={busy}"),
        ("day_light", f"day view, {n_light} visits", f"{board}?date={light}"),
        ("week", "week view (Mon-Sun)", f"{board}?date={busy}&view=week"),
    ]
    print(f"\nDispatch board on {engine}: {total:,} visits in the organization's history; "
          f"{args.requests} timed requests per case after 5 warm-up requests.\n")
    measured = [measure(client, name, label, path, requests=args.requests)
                for name, label, path in cases]
    results = [r for r, _cpu in measured]
    header = (f"{'case':<44} {'median':>8} {'p95':>8} {'of it SQL':>9} {'CPU':>8} "
              f"{'queries':>7} {'target':>7}  ok")
    print(header)
    print("-" * len(header))
    failed = False
    for r, cpu in measured:
        target = TARGET_MS if r.name == "day" else None
        ok = r.status == 200 and (engine != "sqlite3" or target is None
                                  or r.median_ms <= target)
        failed |= not ok
        print(f"{r.label:<44} {r.median_ms:>6.1f}ms {r.p95_ms:>6.1f}ms {r.sql_ms:>7.1f}ms "
              f"{cpu:>6.1f}ms {r.queries:>7} {(str(target) + 'ms') if target else '':>7}  "
              f"{'yes' if ok else 'NO'}{'  ' + r.note if r.note else ''}")
    print("\nCPU: the process's CPU time per request (median); wall time grows with the load "
          "of other work on the machine, CPU time far less.")
    same = results[0].queries == results[1].queries
    failed |= not same
    print(f"\nQueries, {n_light} vs {n_busy} visits: {results[1].queries} vs "
          f"{results[0].queries}: {'same' if same else 'GROWS'}")
    if args.explain or failed:
        print("\nSlowest statements per case:")
        for name, _label, path in cases:
            print(f"  {name}:")
            for ms, sql in common.slowest_queries(client, path):
                print(f"    {ms:7.1f} ms  {sql[:400]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
