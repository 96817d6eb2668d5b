"""Benchmark of drafting an invoice from a completed work order (``invoice_draft_from_work_order``).

    bench/run invoice                    SQLite database var/bench/invoice.sqlite3 (seeded once)
    .venv/bin/python bench/invoice.py    the same
    bench/run invoice --postgres URL     on PostgreSQL (use a database of its own)
    bench/run invoice --runs 100         more timed drafts

One organization with 8 technicians (6 with their own hourly rate), a price book of 400 items
and a history of 3,000 work orders with 30 timeline entries each, seeded once with bulk inserts.
Each run adds fresh completed work orders with 10 labor and 20 part entries (parts by price
book id, by code and by an unknown name) and times one real, committed draft per work order:
the service call as the office's button makes it, audit entry included.
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
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as common  # noqa: E402  (bench/run.py: environment)

SEED = {"slug": "bench-invoice", "technicians": 8, "items": 400, "history": 3000,
        "entries_per_order": 30, "seed": 5}
TARGET_MS = 50  # median, the requirement
LABOR_ENTRIES, PART_ENTRIES = 10, 20


def marker_path(url: str) -> Path:
    return common.VAR / f"invoice-seeded-{hashlib.sha256(url.encode()).hexdigest()[:12]}.json"


def _entries(org, work_orders, members, items, rng):
    from crewline.workorders.models import EntryKind, TimelineEntry

    rows = []
    now = dt.datetime.now(dt.UTC)
    for wo in work_orders:
        for i in range(LABOR_ENTRIES):
            member = rng.choice(members)
            rows.append(TimelineEntry(
                organization=org, work_order=wo, kind=EntryKind.LABOR, author=member,
                created_at=now + dt.timedelta(seconds=i),
                data={"minutes": rng.choice([15, 30, 45, 60, 90, 120]), "member_id": member.pk,
                      "description": rng.choice(["Diagnosis", "Repair", "Testing", ""])}))
        for i in range(PART_ENTRIES):
            item = rng.choice(items)
            choice = i % 10
            if choice < 7:
                data = {"price_book_item_id": item.pk, "quantity": rng.choice([1, 2, 3, 0.5]),
                        "unit": item.unit}
            elif choice < 9:
                data = {"name": item.code, "quantity": 1}
            else:
                data = {"name": f"Odd part {rng.randint(1, 999)}", "quantity": 2,
                        "unit": "each"}
            rows.append(TimelineEntry(
                organization=org, work_order=wo, kind=EntryKind.PART,
                author=rng.choice(members), created_at=now + dt.timedelta(seconds=100 + i),
                data=data))
    TimelineEntry.objects.bulk_create(rows, batch_size=2000)


def _work_orders(org, customers, count, number_from, status):
    from crewline.workorders.models import WorkOrder

    orders = [WorkOrder(organization=org, customer=customers[i % len(customers)],
                        number=number_from + i, title=f"Service visit {number_from + i}",
                        status=status) for i in range(count)]
    return WorkOrder.objects.bulk_create(orders, batch_size=1000)


def seed(log=print) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from crewline.billing.models import ItemKind, MemberRate, PriceBookItem
    from crewline.core.models import Member, Organization, Role, User
    from crewline.customers.models import Customer
    from crewline.demo.scale import BENCH_PASSWORD
    from crewline.workorders.models import Status

    started = time.perf_counter()
    rng = random.Random(SEED["seed"])
    with transaction.atomic():
        org = Organization.objects.create(name="Invoice Bench Heating", slug=SEED["slug"],
                                          time_zone="America/Chicago")
        password = make_password(BENCH_PASSWORD)
        office_user = User.objects.create(email="office@invoice-bench.example",
                                          full_name="Olive Office", password=password)
        Member.objects.create(organization=org, user=office_user, role=Role.OFFICE)
        members = []
        for n in range(SEED["technicians"]):
            user = User.objects.create(email=f"tech{n}@invoice-bench.example",
                                       full_name=f"Technician {n}", password=password)
            members.append(Member.objects.create(organization=org, user=user,
                                                 role=Role.TECHNICIAN))
        MemberRate.objects.bulk_create([
            MemberRate(organization=org, member=m, hourly_rate=Decimal(60 + 5 * i))
            for i, m in enumerate(members[:6])])
        items = PriceBookItem.objects.bulk_create([
            PriceBookItem(organization=org, code=f"P-{n:04d}", name=f"Part {n}",
                          kind=ItemKind.MATERIAL, unit=rng.choice(["each", "m", "kg"]),
                          unit_price=Decimal(rng.randint(100, 50000)) / 100,
                          tax_rate=Decimal(rng.choice(["0", "6.25", "8.25"])))
            for n in range(SEED["items"])])
        customers = Customer.objects.bulk_create([
            Customer(organization=org, name=f"Customer {n}") for n in range(300)])
        history = _work_orders(org, customers, SEED["history"], 1001, Status.INVOICED)
        _entries(org, history, members, items, rng)
        org.next_work_order_number = 1001 + SEED["history"]
        org.save(update_fields=["next_work_order_number"])
    info = {"params": SEED, "seeded_at": time.strftime("%Y-%m-%d %H:%M"),
            "seconds": round(time.perf_counter() - started, 1)}
    log(f"Seeded {SEED['history']:,} work orders with {SEED['entries_per_order']} entries "
        f"each in {info['seconds']} s.")
    return info


def ensure_seeded(url: str) -> None:
    from django.core.management import call_command

    from crewline.core.models import Organization

    call_command("migrate", interactive=False, verbosity=0)
    marker = marker_path(url)
    if marker.exists() and Organization.objects.filter(slug=SEED["slug"]).exists():
        info = json.loads(marker.read_text())
        if info["params"] == SEED:
            print(f"Reusing the data seeded on {info['seeded_at']}.")
            return
        sys.exit(f"{marker} was seeded with other parameters; remove the database and the "
                 "marker, then rerun.")
    print("Seeding once ...", flush=True)
    marker.write_text(json.dumps(seed(), indent=2))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL",
                        help="postgres://... : run on this PostgreSQL database instead")
    parser.add_argument("--runs", type=int, default=60, help="timed drafts (one per order)")
    args = parser.parse_args(argv)
    if args.postgres and not args.postgres.startswith(("postgres://", "postgresql://")):
        parser.error("--postgres needs a postgres:// URL")

    import os

    common.configure(args.postgres)
    url = args.postgres or f"sqlite:///{common.VAR / 'invoice.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crewline.billing.models import PriceBookItem
    from crewline.billing.services import invoice_draft_from_work_order
    from crewline.core.models import Member, Organization, Role
    from crewline.customers.models import Customer
    from crewline.workorders.models import Status, WorkOrder

    ensure_seeded(url)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    org = Organization.objects.get(slug=SEED["slug"])
    office = Member.objects.get(organization=org, role=Role.OFFICE)
    members = list(Member.objects.filter(organization=org, role=Role.TECHNICIAN))
    items = list(PriceBookItem.objects.filter(organization=org))
    customers = list(Customer.objects.filter(organization=org)[:50])
    rng = random.Random(time.time_ns())
    warmup = 3
    start_number = (WorkOrder.objects.filter(organization=org).order_by("-number")
                    .values_list("number", flat=True).first() or 1000) + 1
    orders = _work_orders(org, customers, args.runs + warmup, start_number, Status.COMPLETED)
    _entries(org, orders, members, items, rng)
    Organization.objects.filter(pk=org.pk).update(
        next_work_order_number=start_number + len(orders))

    times, queries, lines = [], [], []
    for n, order in enumerate(orders):
        order = WorkOrder.objects.select_related("organization").get(pk=order.pk)
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            invoice = invoice_draft_from_work_order(work_order=order, by=office)
            elapsed = (time.perf_counter() - started) * 1000
        if n >= warmup:
            times.append(elapsed)
            queries.append(len(ctx.captured_queries))
            lines.append(invoice.lines.count())
    times.sort()
    median = statistics.median(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    ok = engine != "sqlite3" or median <= TARGET_MS
    print(f"\nInvoice draft on {engine}: {len(times)} work orders, "
          f"{LABOR_ENTRIES} labor + {PART_ENTRIES} part entries each "
          f"({min(lines)}-{max(lines)} lines per invoice), after {warmup} warm-up drafts.")
    print(f"median {median:.1f} ms   p95 {p95:.1f} ms   queries {min(queries)}-{max(queries)}"
          f"   target {TARGET_MS} ms median   {'ok' if ok else 'TOO SLOW'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
