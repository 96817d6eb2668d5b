"""The pages and endpoints measured on a large data set seeded by ``crewline seed-scale``.

    crewline seed-scale                            (DATABASE_URL of a database of its own)
    bench/run --postgres URL                       every case, for the largest organization and
                                                   the median one
    bench/run scale --postgres URL --explain       also EXPLAIN (ANALYZE, BUFFERS) of the slowest
                                                   statements of each case over its target
    bench/run scale --postgres URL --requests 50   more timed requests per case

Each case is one request (or one service call) made for a member of the organization, the
office's or a technician's, through Django's test Client in this process: the server's time,
not the network's. Medians and 95th percentiles are of wall time, which other work on the
machine stretches; query counts are exact, and should not grow from the median organization
to the largest.

Cases: the office's work order list (page 1, default filters) and a work order's page (its
latest completed one), the dispatch board (today), the dashboard, the technician app's pull
(a snapshot) and a push of 100 changes (five new visits of today to work in progress: on the
way, arrived, notes, parts, labor, paused, resumed, done), an invoice drafted from a completed
work order (the service the office's button calls) and the open API's work order list (50).
Push and the invoice draft write: each run takes new visits or another work order, and what
they leave (visits, notifications) can change which sections a page shows on the next run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# This tree's code, whichever checkout the interpreter's environment was installed from.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import run as common  # noqa: E402  (bench/run.py: environment, timing and query counting)

# Median targets in milliseconds (issue 14); the others' from their own benchmarks.
TARGETS_MS = {"list": 50, "detail": 100, "board": 80, "dashboard": 100, "pull": 30,
              "push": 300, "invoice": 50, "api": 30}
PUSH_VISITS, PER_VISIT = 5, 20


def p95(times: list[float]) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def counted(fn: Callable[[], object]) -> tuple[float, int, object]:
    """Run ``fn`` once: its wall time in ms, its number of queries and what it answered."""
    from django.db import connection

    calls = [0]

    def count(execute, sql, params, many, context):
        calls[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        answer = fn()
        elapsed = (time.perf_counter() - started) * 1000
    return elapsed, calls[0], answer


def measure_calls(name: str, label: str, make: Callable[[int], Callable[[], object]], *,
                  requests: int, warmup: int = 2,
                  check: Callable[[object], str] | None = None) -> common.Result:
    """Time ``make(n)()`` for n in 0..warmup+requests (each call its own, as a write needs)."""
    times, queries = [], 0
    for n in range(warmup + requests):
        call = make(n)
        elapsed, q, answer = counted(call)
        problem = check(answer) if check else ""
        if problem:
            return common.Result(name, label, float("nan"), float("nan"), q, 500, note=problem)
        if n >= warmup:
            times.append(elapsed)
            queries = max(queries, q)
    return common.Result(name, label, statistics.median(times), p95(times), queries, 200)


def explain(fn: Callable[[], object], top: int = 3) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the statements of ``fn`` that take the database longest.

    Each SELECT ``fn`` ran is explained again, alone, and ranked by its execution time there:
    the time a statement took inside the request includes whatever else the machine was doing.
    """
    from django.db import connection

    found: dict[tuple, tuple[str, object]] = {}

    def seen(execute, sql, params, many, context):
        if not many and sql.lstrip().upper().startswith("SELECT"):
            found.setdefault((sql, repr(params)), (sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(seen):
        fn()
    ranked = []
    with connection.cursor() as cursor:
        for sql, params in list(found.values())[:120]:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            ranked.append((plan[0]["Execution Time"], sql, params))
        out = []
        for ms, sql, params in sorted(ranked, key=lambda r: r[0], reverse=True)[:top]:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(f"        {row[0]}" for row in cursor.fetchall())
            out.append(f"    {ms:8.2f} ms  {sql[:700]}\n        params: {params!r}"[:1500]
                       + f"\n{plan}")
    return out


def organizations(prefix: str) -> list[tuple[str, int]]:
    """(slug, work orders) of the largest organization of the data set and of the median one."""
    from crewline.core.models import Organization

    sizes = sorted(((slug, number - 1001) for slug, number in Organization.objects.filter(
        slug__startswith=f"{prefix}-").values_list("slug", "next_work_order_number")),
        key=lambda s: -s[1])
    if not sizes:
        sys.exit(f"No organizations {prefix}-… here: seed them first with "
                 "`crewline seed-scale` (DATABASE_URL=this database).")
    return [sizes[0], sizes[len(sizes) // 2]]


class Org:
    """One organization's members, clients and the cases measured for it."""

    def __init__(self, slug: str, size: int) -> None:
        from django.db.models import Count
        from django.test import Client

        from crewline.core.models import Member, Organization, Role
        from crewline.workorders.models import Visit, VisitStatus

        self.slug, self.size = slug, size
        self.org = Organization.objects.get(slug=slug)
        self.office = (Member.objects.select_related("user")
                       .filter(organization=self.org, role=Role.OFFICE).order_by("id").first())
        # The technician with the most visits to come: the fullest phone.
        busiest = (Visit.objects.filter(organization=self.org, status=VisitStatus.SCHEDULED)
                   .values("crew").annotate(n=Count("id")).order_by("-n").first())
        self.tech = (Member.objects.select_related("user", "organization")
                     .get(organization=self.org, pk=busiest["crew"]) if busiest else
                     Member.objects.select_related("user", "organization")
                     .filter(organization=self.org, role=Role.TECHNICIAN).first())
        from crewline.billing.services.price_book import default_labor_rate_set, labor_rate_is_set

        if not labor_rate_is_set(self.org):  # a data set seeded before it had a price book
            default_labor_rate_set(organization=self.org, hourly_rate=Decimal("95"),
                                   by=self.office)
        # Pushes go to another technician: the visits they add to today would grow the pull
        # of the next run.
        self.pusher = (Member.objects.select_related("user", "organization")
                       .filter(organization=self.org, role=Role.TECHNICIAN)
                       .exclude(pk=self.tech.pk).order_by("-id").first() or self.tech)
        self.office_client, self.tech_client = Client(), Client()
        self.push_client = Client()
        self.office_client.force_login(self.office.user)
        self.tech_client.force_login(self.tech.user)
        self.push_client.force_login(self.pusher.user)

    def pages(self) -> list[tuple[str, str, object, str]]:
        """(name, label, client, url) of the pages read with GET."""
        from django.urls import reverse

        from crewline.field.models import Device
        from crewline.workorders.models import Status, WorkOrder

        latest = (WorkOrder.objects.filter(organization=self.org, status=Status.COMPLETED)
                  .order_by("-number").first())
        device = Device.objects.create(id=uuid.uuid4(), organization=self.org, member=self.tech)
        return [
            ("list", "work order list, page 1", self.office_client, reverse("workorders:list")),
            ("detail", f"work order WO-{latest.number}", self.office_client,
             reverse("workorders:detail", kwargs={"number": latest.number})),
            ("board", "dispatch board, today", self.office_client, reverse("scheduling:board")),
            ("dashboard", "dashboard", self.office_client, reverse("dashboard:home")),
            ("pull", "technician's pull (snapshot)", self.tech_client,
             f"/field/api/pull?device_id={device.pk}"),
        ]

    def api_client(self):
        from django.test import Client

        from crewline.api.services import api_key_create

        key, full = api_key_create(organization=self.org, by=None, name="Scale benchmark",
                                   scopes=["read:work_orders"])
        key.rate_limit = 1_000_000
        key.save(update_fields=["rate_limit"])
        return Client(headers={"Authorization": f"Bearer {full}"})

    def push(self, n: int) -> Callable[[], object]:
        """A push of 100 changes on five new visits of today for the technician."""
        from django.utils import timezone

        from crewline.field.models import Device
        from crewline.workorders.models import Status, WorkOrder
        from crewline.workorders.services import visit_add

        tz = self.org.tzinfo
        start = dt.datetime.combine(timezone.localdate(timezone=tz), dt.time(5),
                                    tzinfo=tz) + dt.timedelta(minutes=7 * n)
        if not hasattr(self, "_open"):
            # Work in progress, each given a new visit in turn: alike in both organizations
            # (it stays in progress, so that runs do not use it up).
            self._open = list(WorkOrder.objects.filter(organization=self.org,
                                                       status=Status.IN_PROGRESS)
                              .order_by("-number")[:200])
        orders = [self._open[(n * PUSH_VISITS + k) % len(self._open)]
                  for k in range(PUSH_VISITS)]
        visits = [visit_add(work_order=wo, by=self.office, start=start,
                            end=start + dt.timedelta(minutes=5), crew=[self.pusher],
                            override=True) for wo in orders]
        phone = Device.objects.create(id=uuid.uuid4(), organization=self.org,
                                      member=self.pusher)
        mutations, add = common.mutation_batch()

        for visit in visits:
            v = {"visit_id": visit.pk}
            add("visit_en_route", **v)
            add("visit_arrive", **v)
            for k in range(6):
                add("note_add", **v, body=f"Checked the unit, step {k}.")
            for k in range(6):
                add("part_add", **v, name=f"Filter {k}", quantity=1 + k, unit="each")
            add("labor_set", **v, minutes=55, description="Service")
            add("visit_pause", **v)
            add("visit_resume", **v)
            add("note_add", **v, body="Customer happy.", visibility="customer")
            add("note_add", **v, body="Left site tidy.")
            add("visit_complete", **v)
        body = json.dumps({"device_id": str(phone.pk), "mutations": mutations})
        assert len(mutations) == PUSH_VISITS * PER_VISIT, len(mutations)
        return lambda: self.push_client.post("/field/api/push", body,
                                             content_type="application/json")

    def invoice(self, n: int) -> Callable[[], object]:
        from django.db.models import Exists, OuterRef

        from crewline.billing.services import invoice_draft_from_work_order
        from crewline.workorders.models import EntryKind, Status, TimelineEntry, WorkOrder

        # Alike in both organizations: labor and a part to price.
        parts = TimelineEntry.objects.filter(organization=self.org, work_order=OuterRef("pk"),
                                             kind=EntryKind.PART)
        wo = (WorkOrder.objects.select_related("organization")
              .filter(Exists(parts), organization=self.org, status=Status.COMPLETED,
                      invoices__isnull=True)
              .order_by("-number")[n])
        return lambda: invoice_draft_from_work_order(work_order=wo, by=self.office)


def _push_check(response) -> str:
    if response.status_code != 200:
        return f"push answered {response.status_code}: {response.content[:200]!r}"
    bad = [r for r in response.json()["results"] if r["status"] != "applied"]
    return f"{len(bad)} changes not applied: {bad[:2]}" if bad else ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL", required=True,
                        help="postgres://... : the database `crewline seed-scale` seeded")
    parser.add_argument("--prefix", default="scale", help="its organizations' slug prefix")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per case")
    parser.add_argument("--runs", type=int, default=10, help="timed pushes and invoice drafts")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN (ANALYZE, BUFFERS) the slowest statements of every case "
                             "(without it: of the cases over their target)")
    parser.add_argument("--only", help="comma-separated cases (list,detail,board,...)")
    args = parser.parse_args(argv)
    if not args.postgres.startswith(("postgres://", "postgresql://")):
        parser.error("--postgres needs a postgres:// URL")

    common.configure(args.postgres)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    # Not migrated here: on ten million rows a new index takes minutes, and measuring the
    # schema as it is shows what a migration changes (before, migrate, after).
    executor = MigrationExecutor(connection)
    waiting = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if waiting:
        print(f"Not applied here: {', '.join(f'{m.app_label}.{m.name}' for m, _ in waiting)} "
              "(`crewline migrate` applies them); measuring the schema as it is.\n")
    if not (common.VAR / "static" / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    only = set(args.only.split(",")) if args.only else None
    chosen = organizations(args.prefix)
    results: dict[str, list[common.Result]] = {}
    explained: dict[str, list[str]] = {}
    print(f"Scale benchmarks on PostgreSQL: {args.requests} timed requests per page after 5 "
          f"warm-up requests, {args.runs} pushes and invoice drafts after 2.\n")
    for slug, size in chosen:
        org = Org(slug, size)
        rows = []
        for name, label, client, url in org.pages():
            if only and name not in only:
                continue
            rows.append(common.measure(client, name, label, url, requests=args.requests))
            if args.explain or rows[-1].median_ms > TARGETS_MS[name]:
                explained[f"{slug} {name}"] = explain(lambda c=client, u=url: c.get(u))
        if not only or "push" in only:
            rows.append(measure_calls("push", f"push of {PUSH_VISITS * PER_VISIT} changes",
                                      org.push, requests=args.runs, check=_push_check))
            if args.explain or rows[-1].median_ms > TARGETS_MS["push"]:
                explained[f"{slug} push"] = explain(org.push(args.runs + 2))
        if not only or "invoice" in only:
            rows.append(measure_calls("invoice", "invoice draft from a work order",
                                      org.invoice, requests=args.runs))
            if args.explain or rows[-1].median_ms > TARGETS_MS["invoice"]:
                explained[f"{slug} invoice"] = explain(org.invoice(args.runs + 2))
        if not only or "api" in only:
            api = org.api_client()
            rows.append(common.measure(api, "api", "API work orders, limit 50",
                                       "/api/v1/work-orders?limit=50", requests=args.requests))
            if args.explain or rows[-1].median_ms > TARGETS_MS["api"]:
                explained[f"{slug} api"] = explain(
                    lambda a=api: a.get("/api/v1/work-orders?limit=50"))
        results[slug] = rows

    (big, big_size), (median, median_size) = chosen
    header = (f"{'case':<34} {'org':<12} {'WOs':>9} {'median':>8} {'p95':>8} {'of it SQL':>9} "
              f"{'queries':>7} {'target':>7}  ok")
    print(header)
    print("-" * len(header))
    over = False
    for slug, size in chosen:
        for r in results[slug]:
            target = TARGETS_MS[r.name]
            ok = r.status == 200 and r.median_ms <= target
            over |= not ok
            sql = f"{r.sql_ms:>7.1f}ms" if r.sql_ms else f"{'':>9}"
            print(f"{r.label:<34} {slug:<12} {size:>9,} {r.median_ms:>6.1f}ms "
                  f"{r.p95_ms:>6.1f}ms {sql} {r.queries:>7} {target:>5}ms  "
                  f"{'yes' if ok else 'OVER'}{'  ' + r.note if r.note else ''}")
    print(f"\nQuery counts, median organization ({median}, {median_size:,} work orders) vs "
          f"the largest ({big}, {big_size:,}):")
    flat = True
    for a, b in zip(results[median], results[big], strict=True):
        same = a.queries == b.queries
        flat &= same
        print(f"  {a.name:<10} {a.queries:>4} {b.queries:>4}   {'same' if same else 'DIFFERS'}")
    if explained:
        print("\nEXPLAIN (ANALYZE, BUFFERS) of the slowest statements:")
        for case, plans in explained.items():
            print(f"  {case}:")
            for plan in plans:
                print(plan)
    print("\nWall times on a shared machine are noisy; query counts are exact.")
    return 1 if over or not flat else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
