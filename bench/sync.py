"""Server-side benchmark of the technician app's sync, measured in-process with Django's test
Client, on a fresh small database each run (var/bench/sync.sqlite3 unless --postgres).

    bench/run sync                     SQLite (the targets are for SQLite)
    .venv/bin/python bench/sync.py     the same
    bench/run sync --postgres URL      on PostgreSQL (use a database of its own)
    bench/run sync --runs 30           more timed runs per case

One technician with 20 visits over today and the next 3 days, each at its own site with a
service history of 7 finished jobs (customer-visible notes and photos), equipment and access
notes, and a price book of 300 items. Cases: the full pull of the next 3 days (target: median
<= 30 ms and <= 100 KB), a pull after the cursor with one change, one after a price book item
changed, and a push of 100 queued mutations (on the way, arrived,
notes, parts, labor, a photo, a signature, pause, resume, completed over five visits; target:
median <= 300 ms).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import io
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as common  # noqa: E402  (bench/run.py: environment and paths)

TARGETS = {"pull_ms": 30, "pull_kb": 100, "push_ms": 300}
VISITS, HISTORY_JOBS, PUSH_VISITS, PER_VISIT = 20, 7, 5, 20
PRICE_ITEMS = 300


def _jpeg(seed: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (seed * 37 % 255, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (120, 40), (0, 0, 0, 0)).save(out, "PNG")
    return out.getvalue()


def seed() -> dict:
    """The organization, through the services (audit chain, timeline and change log included)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from crewline.core.models import Member, Organization, Role, User
    from crewline.customers.models import Customer, Equipment, Site
    from crewline.workorders.models import Visibility
    from crewline.workorders.services import (
        attachment_add,
        note_add,
        visit_add,
        work_order_complete,
        work_order_create,
        work_order_start,
    )

    org = Organization.objects.create(name="Bench Sync Heating", slug="bench-sync",
                                      time_zone="America/Chicago")
    office = Member.objects.create(organization=org, role=Role.OFFICE, user=User.objects.create(
        email="office@bench-sync.example", full_name="Olive Office"))
    tech = Member.objects.create(organization=org, role=Role.TECHNICIAN,
                                 user=User.objects.create(email="tech@bench-sync.example",
                                                          full_name="Theo Tech"))
    tz = org.tzinfo
    today = timezone.localdate(timezone=tz)
    visits = []
    for n in range(VISITS):
        customer = Customer.objects.create(organization=org, name=f"Customer {n} Ltd",
                                           phone=f"312-555-{n:04d}")
        site = Site.objects.create(
            organization=org, customer=customer, address_line1=f"{100 + n} Lake Shore Dr",
            city="Chicago", region="IL", postal_code="60601", latitude="41.881832",
            longitude="-87.623177",
            access_notes="Ring the bell at the loading dock; plant room key at reception.")
        Equipment.objects.create(organization=org, site=site, name="Boiler",
                                 manufacturer="Vaillant", model="ecoTEC plus",
                                 serial_number=f"VT-{n:06d}")
        Equipment.objects.create(organization=org, site=site, name="Rooftop unit",
                                 manufacturer="Carrier", model="48TC")
        for h in range(HISTORY_JOBS):
            past = work_order_create(organization=org, by=office, customer=customer, site=site,
                                     title=f"Annual service {2019 + h}")
            work_order_start(work_order=past, by=office)
            for k in range(2):
                note_add(work_order=past, by=office, visibility=Visibility.CUSTOMER,
                         body=f"Serviced boiler, replaced filter, pressure 1.{k} bar. "
                              "Flue checked and clear; next service in twelve months.")
                attachment_add(work_order=past, by=office, visibility=Visibility.CUSTOMER,
                               file=SimpleUploadedFile(f"p{k}.jpg", _jpeg(h + k), "image/jpeg"))
            note_add(work_order=past, by=office, body="Internal: invoice sent.")
            work_order_complete(work_order=past, by=office)
        wo = work_order_create(
            organization=org, by=office, customer=customer, site=site,
            title=f"Boiler service {n}",
            instructions="Full annual service. Check the expansion vessel and the condensate "
                         "trap; customer reports noise at start-up.")
        wo.checklist = [{"label": "Gas tightness test", "kind": "yes_no", "required": True},
                        {"label": "Flue gas CO2 %", "kind": "number", "required": True},
                        {"label": "Remarks", "kind": "text", "required": False}]
        wo.save(update_fields=["checklist"])
        wo.equipment.set(site.equipment.all())
        day = today + dt.timedelta(days=n % 4)
        start = dt.datetime.combine(day, dt.time(7 + n // 4, 0), tzinfo=tz)
        visits.append(visit_add(work_order=wo, by=office, start=start,
                                end=start + dt.timedelta(minutes=50), crew=[tech],
                                override=True))
    items = seed_price_book(org, office)
    return {"org": org, "office": office, "tech": tech, "visits": visits, "items": items}


def seed_price_book(org, office) -> list:
    """A contractor's price book: materials with codes and units, and a few services."""
    from decimal import Decimal

    from crewline.billing.models import ItemKind
    from crewline.billing.services import price_item_create

    units = ["each", "m", "box", "l", "kg"]
    return [price_item_create(organization=org, by=office, code=f"MAT-{n:04d}",
                              name=f"Copper elbow {15 + n % 20} mm, pattern {n}",
                              kind=ItemKind.SERVICE if n % 10 == 0 else ItemKind.MATERIAL,
                              unit=units[n % len(units)], unit_price=Decimal("4.20") + n)
            for n in range(PRICE_ITEMS)]


def push_batch(visits, photo: bytes, png: bytes) -> list[dict]:
    mutations, add = common.mutation_batch()

    for visit in visits:
        v = {"visit_id": visit.pk}
        add("visit_en_route", **v)
        add("visit_arrive", **v)
        for k in range(3):
            add("note_add", **v, client_id=str(uuid.uuid4()), body=f"Found issue {k}; fixed.")
        add("checklist_answer", **v, client_id=str(uuid.uuid4()), index=0, answer=True)
        add("checklist_answer", **v, client_id=str(uuid.uuid4()), index=1, answer=9.2)
        for k in range(3):
            add("part_add", **v, client_id=str(uuid.uuid4()), name=f"Filter {k}",
                quantity=1 + k, unit="each")
        add("visit_pause", **v)
        add("visit_resume", **v)
        add("photo_add", **v, client_id=str(uuid.uuid4()),
            data=base64.b64encode(photo).decode(), sha256=hashlib.sha256(photo).hexdigest())
        add("labor_set", **v, client_id=str(uuid.uuid4()), minutes=55,
            description="Annual service")
        add("note_add", **v, client_id=str(uuid.uuid4()), body="Customer happy.",
            visibility="customer")
        add("signature_add", **v, client_id=str(uuid.uuid4()), signer_name="Pat Customer",
            png=base64.b64encode(png).decode())
        add("checklist_answer", **v, client_id=str(uuid.uuid4()), index=2, answer="All good")
        add("note_add", **v, client_id=str(uuid.uuid4()), body="Left site tidy.")
        add("note_add", **v, client_id=str(uuid.uuid4()), body="Boiler pressure topped up.")
        add("visit_complete", **v)
    return mutations


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL",
                        help="postgres://... : run on this PostgreSQL database (emptied first)")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    if args.postgres and not args.postgres.startswith(("postgres://", "postgresql://")):
        parser.error("--postgres needs a postgres:// URL")

    common.configure(args.postgres)
    db_file = common.VAR / "sync.sqlite3"
    if not args.postgres:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = args.postgres or f"sqlite:///{db_file}"
    os.environ["MEDIA_ROOT"] = str(common.VAR / "sync-media")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from crewline.field.models import Device
    from crewline.workorders.services import note_add, visit_add

    if args.postgres:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", interactive=False, verbosity=0)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"Seeding {VISITS} visits with {HISTORY_JOBS} past jobs at each site ...", flush=True)
    started = time.perf_counter()
    world = seed()
    print(f"Seeded in {time.perf_counter() - started:.1f} s.\n")
    tech, office = world["tech"], world["office"]
    client = Client()
    client.force_login(tech.user)
    device = Device.objects.create(id=uuid.uuid4(), organization=tech.organization, member=tech)
    pull_url = f"/field/api/pull?device_id={device.pk}"

    def timed(fn, runs: int) -> list[float]:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        return times

    for _ in range(3):
        response = client.get(pull_url)
    assert response.status_code == 200, response.content[:300]
    payload = response.json()
    size = len(response.content)
    with CaptureQueriesContext(connection) as ctx:
        client.get(pull_url)
    pull_queries = len(ctx.captured_queries)
    c0 = time.process_time()
    pull_times = timed(lambda: client.get(pull_url), args.runs * 3)
    pull_cpu = (time.process_time() - c0) * 1000 / (args.runs * 3)

    # A pull after the cursor, with one change since (a note from the office).
    later = timezone.now() + dt.timedelta(minutes=1)
    cursor = payload["cursor"]
    import time_machine

    with time_machine.travel(later, tick=True):
        cursor = client.get(pull_url).json()["cursor"]
        note_add(work_order=world["visits"][0].work_order, by=office, body="Call ahead")
        delta_url = f"{pull_url}&cursor={cursor}"
        delta = client.get(delta_url)
        delta_visits = len(delta.json()["visits"])
        delta_times = timed(lambda: client.get(delta_url), args.runs * 3)

    # A pull after the office renamed a price book item.
    with time_machine.travel(later + dt.timedelta(minutes=1), tick=True):
        cursor = client.get(pull_url).json()["cursor"]
        from crewline.billing.services import price_item_update

        price_item_update(item=world["items"][7], by=office, name="Copper elbow 22 mm, press")
        book_url = f"{pull_url}&cursor={cursor}"
        book = client.get(book_url)
        book_items = len((book.json().get("price_book") or {}).get("items", []))
        book_times = timed(lambda: client.get(book_url), args.runs * 3)

    photo, png = _jpeg(1), _png()
    push_times, push_cpu, push_queries, statuses = [], [], 0, {}
    tz = tech.organization.tzinfo
    for run in range(args.runs + 2):
        start = dt.datetime.combine(timezone.localdate(timezone=tz) + dt.timedelta(days=1),
                                    dt.time(6), tzinfo=tz) + dt.timedelta(minutes=run)
        visits = [visit_add(work_order=world["visits"][k].work_order, by=office, start=start,
                            end=start + dt.timedelta(minutes=30), crew=[tech], override=True)
                  for k in range(PUSH_VISITS)]
        phone = Device.objects.create(id=uuid.uuid4(), organization=tech.organization,
                                      member=tech)
        body = json.dumps({"device_id": str(phone.pk),
                           "mutations": push_batch(visits, photo, png)})
        counted = [0]

        def count(execute, sql, params, many, context, counted=counted):
            counted[0] += 1
            return execute(sql, params, many, context)

        # Counted, not captured: CaptureQueriesContext keeps only the last 9,000 queries.
        with connection.execute_wrapper(count):
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.post("/field/api/push", body, content_type="application/json")
            elapsed = (time.perf_counter() - t0) * 1000
            cpu = (time.process_time() - c0) * 1000
        assert response.status_code == 200, response.content[:300]
        if run >= 2:  # two warm-up runs
            push_times.append(elapsed)
            push_cpu.append(cpu)
            push_queries = counted[0]
        for r in response.json()["results"]:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    mutations = len(push_batch(visits, photo, png))

    def p95(times: list[float]) -> float:
        times = sorted(times)
        return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]

    pull_ms, push_ms = statistics.median(pull_times), statistics.median(push_times)
    print(f"Crewline sync benchmarks on {engine}.\n")
    header = f"{'case':<58} {'median':>8} {'p95':>8} {'queries':>7} {'size':>8}  target  ok"
    print(header)
    print("-" * len(header))
    pull_ok = pull_ms <= TARGETS["pull_ms"] and size <= TARGETS["pull_kb"] * 1000
    push_ok = push_ms <= TARGETS["push_ms"]
    if engine != "sqlite3":
        pull_ok = push_ok = True  # the targets are for SQLite
    book_size = len((payload.get("price_book") or {}).get("items", []))
    label = (f"pull, full: {len(payload['visits'])} visits + history, "
             f"{book_size} price items")
    print(f"{label:<58} "
          f"{pull_ms:>6.1f}ms {p95(pull_times):>6.1f}ms {pull_queries:>7} "
          f"{size / 1000:>6.1f}KB  30ms/100KB  {'yes' if pull_ok else 'NO'}")
    print(f"{f'pull after the cursor, one change ({delta_visits} visit sent)':<58} "
          f"{statistics.median(delta_times):>6.1f}ms {p95(delta_times):>6.1f}ms "
          f"{'':>7} {len(delta.content) / 1000:>6.1f}KB")
    print(f"{f'pull after a price book change ({book_items} item sent)':<58} "
          f"{statistics.median(book_times):>6.1f}ms {p95(book_times):>6.1f}ms "
          f"{'':>7} {len(book.content) / 1000:>6.1f}KB")
    print(f"{f'push of {mutations} queued mutations over {PUSH_VISITS} visits':<58} "
          f"{push_ms:>6.1f}ms {p95(push_times):>6.1f}ms {push_queries:>7} "
          f"{len(body) / 1000:>6.1f}KB  300ms       {'yes' if push_ok else 'NO'}")
    print(f"\nCPU time of this process (the same work without waiting for a busy machine's "
          f"cores): pull {pull_cpu:.1f} ms on average, push {statistics.median(push_cpu):.1f} "
          f"ms median. Load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")
    print(f"\nPush results over all runs: {statuses} ({push_ms / mutations:.2f} ms and "
          f"{push_queries / mutations:.1f} queries a mutation; one transaction a push, a "
          "savepoint and an audit entry a mutation).")
    return 0 if pull_ok and push_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
