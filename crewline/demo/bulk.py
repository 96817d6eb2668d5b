"""``crewline seed-scale``: millions of work orders across many organizations, on PostgreSQL.

Rows go in with ``COPY`` (psycopg's ``cursor.copy``), never through the services or the ORM:
ten million work orders through per-row services and the audit chain would take days. Ids are
given here (each table's sequence is moved past them at the end), so that children are written
without reading their parents back.

Organizations' sizes follow a long tail: organization ``i`` (from 0) gets a share of the total
in proportion to ``1 / (i + 1) ** ZIPF_S``, a little jitter on each, scaled to the total, at
least one work order each. With the defaults (1,000 organizations, 10,000,000 work orders) the
two largest hold more than 500,000 each and the median one a few thousand.

The rows are what the pages read as production rows: work orders numbered from 1001 in each
organization (``next_work_order_number`` past them), customers with a primary contact and
sites, an owner, office staff and technicians, visits whose status follows the work order's
(``scale.VISIT_STATUS_FOR``), crews, timeline entries of the real kinds with ``data`` dumped by
their schemas in ``workorders.timeline`` (status, schedule, visit status, note, labor, part)
the crew's time entries of finished visits, and a price book (the default labor rate and the
parts the timelines name) for invoice drafts. No audit entries and no change log rows are
written: each organization's audit chain is empty and verifies, and a phone's first pull is a
snapshot read from the tables. Deterministic for a given seed and start time.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from crewline.billing.models import ItemKind, PriceBookItem
from crewline.billing.services.price_book import LABOR_CODE
from crewline.core.models import Member, Organization, Role, User
from crewline.customers.models import Contact, Customer, CustomerKind, Site
from crewline.demo.data import (
    CANCEL_REASONS,
    HOLD_REASONS,
    INCOMPLETE_REASONS,
    INTERNAL_NOTES,
    JOB_TYPES,
    TECHNICIAN_NOTES,
    TOWNS,
    city_name,
)
from crewline.demo.scale import (
    BENCH_PASSWORD,
    TIME_ZONES,
    VISIT_STATUS_FOR,
    ScaleSeedError,
    _Names,
    _pick_status,
)
from crewline.timesheets.models import TimeEntry, TimeKind, TimeSource
from crewline.workorders.models import (
    EntryKind,
    JobType,
    Status,
    TimelineEntry,
    Visibility,
    Visit,
    VisitStatus,
    WorkOrder,
)
from crewline.workorders.timeline import (
    LaborData,
    PartData,
    ScheduleData,
    StatusData,
    VisitStatusData,
)

ZIPF_S = 1.0
HISTORY_DAYS = 5 * 365
AHEAD_DAYS = 14
# Work orders written per transaction (and per round of COPY).
CHUNK = 20_000
# Parts written on the timelines by name, each in the price book (matched by name).
PARTS = (("Copper elbow 15mm", "each", "4.20"), ("Capacitor 45/5 uF", "each", "18.50"),
         ("R-410A", "lb", "32.00"), ("PVC pipe 2in", "ft", "2.10"),
         ("Air filter 16x25x1", "each", "9.75"), ("Thermostat wire", "ft", "0.85"))
LABOR_RATE = Decimal("95.00")


def long_tail(*, orgs: int, work_orders: int, seed: int = 1) -> list[int]:
    """Work orders per organization, largest first: a Zipf share each, summing to the total."""
    if orgs < 1:
        raise ScaleSeedError("At least one organization is needed.")
    if work_orders < orgs:
        raise ScaleSeedError("Every organization needs at least one work order: give at least "
                             "as many work orders as organizations.")
    rng = random.Random(f"tail-{seed}")
    weights = [rng.uniform(0.85, 1.15) / (i + 1) ** ZIPF_S for i in range(orgs)]
    weights.sort(reverse=True)
    spare = work_orders - orgs  # one each first, the rest by weight
    total = sum(weights)
    exact = [spare * w / total for w in weights]
    counts = [int(x) for x in exact]
    # Largest remainders get what rounding down left over.
    for i in sorted(range(orgs), key=lambda i: exact[i] - counts[i], reverse=True)[
            :spare - sum(counts)]:
        counts[i] += 1
    return [c + 1 for c in counts]


def members_for(work_orders: int) -> tuple[int, int]:
    """(office staff, technicians) for an organization of this size (an owner besides)."""
    return min(12, 1 + work_orders // 60_000), max(2, min(150, work_orders // 9_000))


@dataclass
class BulkReport:
    organizations: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0


class _Table:
    """Rows of one model for COPY: every concrete column, the ones not given at their default."""

    def __init__(self, model, now: dt.datetime) -> None:
        self.model = model
        self.name = model._meta.db_table
        self.fields = list(model._meta.concrete_fields)
        self.columns = [f.column for f in self.fields]
        self.attnames = [f.attname for f in self.fields]
        self.defaults = {}
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif f.has_default():
                value = f.get_default()
                if callable(f.default) and f.default is timezone.now:
                    value = now
            elif f.null:
                value = None
            else:
                value = "" if f.get_internal_type() in ("CharField", "TextField", "SlugField",
                                                        "EmailField", "FileField") else None
            if f.get_internal_type() == "JSONField":
                value = json.dumps(value)
            elif hasattr(value, "value") and isinstance(value, str):  # a Choices member
                value = str(value)
            self.defaults[f.attname] = value
        self.next_id, self.step = 1, 1
        self.rows: list[tuple] = []
        self.written = 0

    def add(self, **values) -> int:
        pk = values["id"] = self.next_id
        self.next_id += self.step
        d = self.defaults
        self.rows.append(tuple([values[a] if a in values else d[a] for a in self.attnames]))
        return pk

    def flush(self, cursor) -> None:
        if not self.rows:
            return
        cols = ", ".join(f'"{c}"' for c in self.columns)
        with cursor.copy(f'COPY "{self.name}" ({cols}) FROM STDIN') as copy:
            for row in self.rows:
                copy.write_row(row)
        self.written += len(self.rows)
        self.rows = []



class _Seeder:
    def __init__(self, *, seed: int, now: dt.datetime, log: Callable[[str], None]) -> None:
        self.seed = seed
        self.now = now
        self.log = log
        self.names = _Names(seed)
        self.password_hash = make_password(BENCH_PASSWORD)
        models = {"org": Organization, "user": User, "member": Member, "job_type": JobType,
                  "item": PriceBookItem,
                  "customer": Customer, "contact": Contact, "site": Site, "wo": WorkOrder,
                  "visit": Visit, "crew": Visit.crew.through, "entry": TimelineEntry,
                  "time": TimeEntry}
        self.t = {key: _Table(model, now) for key, model in models.items()}
        # Written in this order: parents before children.
        self.order = ["org", "user", "member", "job_type", "item", "customer", "contact",
                      "site", "wo", "visit", "crew", "entry", "time"]
        self.json = {}

    def _dump(self, schema, **fields) -> str:
        """``data`` as the kind's schema dumps it (made once for each set of fields)."""
        key = (schema, *fields.items())
        found = self.json.get(key)
        if found is None:
            if len(self.json) > 50_000:  # visits' windows: seldom the same twice
                self.json.clear()
            found = self.json[key] = json.dumps(schema(**fields).dump())
        return found

    def flush(self, cursor) -> None:
        for key in self.order:
            self.t[key].flush(cursor)

    def organization(self, cursor, *, index: int, slug: str, count: int) -> None:
        rng = random.Random(f"{self.seed}-{index}")
        t, now, names = self.t, self.now, self.names
        tz_name = TIME_ZONES[0] if index == 0 else rng.choice(TIME_ZONES)
        tz = zoneinfo.ZoneInfo(tz_name)
        founded = now - dt.timedelta(days=HISTORY_DAYS + 30)
        org_id = t["org"].add(name=f"{names.business(rng)} {index}", slug=slug,
                              time_zone=tz_name, created_at=founded,
                              next_work_order_number=1001 + count)
        office_count, tech_count = members_for(count)
        office, techs = [], []
        for role, label, k_count, bucket in ((Role.OWNER, "owner", 1, office),
                                             (Role.OFFICE, "office", office_count, office),
                                             (Role.TECHNICIAN, "tech", tech_count, techs)):
            for k in range(1, k_count + 1):
                user_id = t["user"].add(email=f"{label}{k}@{slug}.bench.example",
                                        full_name=names.person(rng),
                                        password=self.password_hash, date_joined=founded)
                bucket.append(t["member"].add(
                    organization_id=org_id, user_id=user_id, role=str(role),
                    colour=f"#{rng.randrange(0x1000000):06x}", created_at=founded))
        job_types = []
        for j in JOB_TYPES:
            job_types.append((t["job_type"].add(organization_id=org_id, name=j.name,
                                                default_kind=j.kind,
                                                default_duration_minutes=j.minutes), j))
        # The price book: the default labor rate and the parts the timelines name.
        t["item"].add(organization_id=org_id, code=LABOR_CODE, name="Labor",
                      kind=str(ItemKind.SERVICE), unit="hour", unit_price=LABOR_RATE,
                      created_at=founded)
        for k, (name, unit, price) in enumerate(PARTS, 1):
            t["item"].add(organization_id=org_id, code=f"PART-{k}", name=name,
                          kind=str(ItemKind.MATERIAL), unit=unit, unit_price=Decimal(price),
                          created_at=founded)
        customers = []
        for _ in range(max(3, count // 8)):
            commercial = rng.random() < 0.3
            phone = f"(312) 555-{rng.randrange(10000):04d}"
            customer_id = t["customer"].add(
                organization_id=org_id,
                name=names.business(rng) if commercial else names.person(rng),
                kind=str(CustomerKind.COMMERCIAL if commercial else CustomerKind.RESIDENTIAL),
                email=f"c{rng.randrange(10**8)}@example.com", phone=phone, created_at=founded)
            t["contact"].add(organization_id=org_id, customer_id=customer_id,
                             name=names.person(rng), is_primary=True, phone=phone,
                             created_at=founded)
            sites = []
            for _ in range(1 + (rng.random() < 0.3) + (rng.random() < 0.05)):
                town = rng.choice(TOWNS)
                sites.append(t["site"].add(
                    organization_id=org_id, customer_id=customer_id,
                    address_line1=f"{rng.randrange(100, town.max_number)} "
                                  f"{rng.choice(town.streets)}",
                    city=city_name(town), region="IL", postal_code=town.zip_code,
                    country="US", created_at=founded,
                    latitude=Decimal(f"{town.lat + rng.uniform(-0.01, 0.01):.6f}"),
                    longitude=Decimal(f"{town.lng + rng.uniform(-0.01, 0.01):.6f}")))
            customers.append((customer_id, sites))
        for start in range(0, count, CHUNK):
            self._work_orders(rng, org_id=org_id, tz=tz, n=count, start=start,
                              stop=min(count, start + CHUNK), office=office, techs=techs,
                              job_types=job_types, customers=customers)
            with transaction.atomic():
                self.flush(cursor)

    def _local(self, tz, day: dt.date, minutes: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(8), tz) + dt.timedelta(minutes=minutes)

    def _work_orders(self, rng: random.Random, *, org_id: int, tz, n: int, start: int,
                     stop: int, office: list[int], techs: list[int], job_types: list,
                     customers: list) -> None:
        t, now = self.t, self.now
        span = dt.timedelta(days=HISTORY_DAYS + AHEAD_DAYS).total_seconds()
        first = now - dt.timedelta(days=HISTORY_DAYS)
        today = now.astimezone(tz).date()
        wo_t, visit_t, crew_t, entry_t, time_t = (t["wo"], t["visit"], t["crew"], t["entry"],
                                                  t["time"])
        for i in range(start, stop):
            # Numbers follow creation time, as they do when raised one by one.
            created = first + dt.timedelta(seconds=span * (i + rng.random()) / n)
            requested = created
            if created > now:  # booked ahead: raised up to a week before
                created = now - dt.timedelta(days=rng.uniform(0, 7))
            age = (now - requested).total_seconds() / 86400
            status = _pick_status(rng, age)
            if status == Status.IN_PROGRESS and age > 1:
                # Nobody stays on site for days: older work in progress waits on hold.
                status = Status.ON_HOLD
            job_type_id, kind = rng.choice(job_types)
            customer_id, site_ids = rng.choice(customers)
            visit_day = requested.astimezone(tz).date() + dt.timedelta(days=rng.randint(0, 3))
            v_start = self._local(tz, visit_day, 30 * rng.randrange(0, 16))
            if status == Status.SCHEDULED and v_start < now:
                v_start = self._local(tz, today + dt.timedelta(days=rng.randint(1, 7)),
                                      30 * rng.randrange(0, 16))
            elif status not in (Status.NEW, Status.SCHEDULED, Status.CANCELLED) \
                    and v_start > now - dt.timedelta(hours=2):
                # Work that has started or finished happened before now.
                v_start = now - dt.timedelta(minutes=30 * rng.randint(4, 60))
            v_end = v_start + dt.timedelta(minutes=kind.minutes)
            created = min(created, v_start - dt.timedelta(hours=1))
            finished = (min(v_end, now) if status in (Status.COMPLETED, Status.INVOICED)
                        else None)
            changed = min(now, {Status.NEW: created,
                                Status.INVOICED: v_end + dt.timedelta(days=3)}.get(
                status, finished or created))
            reason = (rng.choice(HOLD_REASONS) if status == Status.ON_HOLD else
                      rng.choice(CANCEL_REASONS) if status == Status.CANCELLED else "")
            author = rng.choice(office)
            wo_id = wo_t.add(
                organization_id=org_id, number=1001 + i, customer_id=customer_id,
                site_id=rng.choice(site_ids), kind=kind.kind, job_type_id=job_type_id,
                priority=rng.choices((1, 2, 3, 4), (12, 60, 20, 8))[0],
                title=rng.choice(kind.titles),
                instructions=rng.choice(INTERNAL_NOTES) if rng.random() < 0.4 else "",
                due_date=(requested + dt.timedelta(days=7)).date() if rng.random() < 0.3
                else None,
                estimated_minutes=kind.minutes, status=str(status),
                held_from=str(Status.IN_PROGRESS) if status == Status.ON_HOLD else "",
                status_reason=reason, status_changed_at=changed, completed_at=finished,
                created_by_id=author, created_at=created, updated_at=changed)
            if rng.random() < 0.3:
                entry_t.add(organization_id=org_id, work_order_id=wo_id, kind=EntryKind.NOTE.value,
                            author_id=author, body=rng.choice(INTERNAL_NOTES),
                            visibility=str(Visibility.INTERNAL),
                            data="{}", created_at=created + dt.timedelta(minutes=2))
            if status != Status.NEW:
                entry_t.add(organization_id=org_id, work_order_id=wo_id,
                            kind=EntryKind.STATUS.value, author_id=author, body=reason,
                            data=self._dump(StatusData, from_=Status.NEW, to=status),
                            created_at=changed)
            if status == Status.NEW or (status == Status.CANCELLED and rng.random() < 0.5):
                continue
            v_status = VISIT_STATUS_FOR[status]
            arrived = v_start if v_status in (VisitStatus.ON_SITE, VisitStatus.DONE,
                                              VisitStatus.INCOMPLETE) else None
            v_finished = min(v_end, now) if v_status == VisitStatus.DONE else None
            visit_id = visit_t.add(
                organization_id=org_id, work_order_id=wo_id, start=v_start, end=v_end,
                status=str(v_status), created_at=created, arrived_at=arrived,
                finished_at=v_finished,
                outcome_reason=rng.choice(INCOMPLETE_REASONS)
                if v_status == VisitStatus.INCOMPLETE else "",
                updated_at=v_finished or arrived or created)
            crew = rng.sample(techs, 2 if rng.random() < 0.15 and len(techs) > 1 else 1)
            for member_id in crew:
                crew_t.add(visit_id=visit_id, member_id=member_id)
            entry_t.add(organization_id=org_id, work_order_id=wo_id, visit_id=visit_id,
                        kind=EntryKind.SCHEDULE.value, author_id=author,
                        data=self._dump(ScheduleData, event="visit_added", start=v_start,
                                                    end=v_end),
                        created_at=created + dt.timedelta(minutes=5))
            event = {VisitStatus.DONE: "complete", VisitStatus.INCOMPLETE: "incomplete",
                     VisitStatus.CANCELLED: "cancel", VisitStatus.ON_SITE: "arrive"}.get(v_status)
            if event:
                was = VisitStatus.SCHEDULED if event in ("arrive", "cancel") else \
                    VisitStatus.ON_SITE
                entry_t.add(organization_id=org_id, work_order_id=wo_id, visit_id=visit_id,
                            kind=EntryKind.VISIT_STATUS.value, author_id=crew[0],
                            data=self._dump(VisitStatusData, event=event, from_=was,
                                                           to=v_status),
                            created_at=v_finished or arrived or changed)
            if v_status != VisitStatus.DONE:
                continue
            minutes = max(1, int((v_finished - v_start).total_seconds() // 60))
            for member_id in crew:
                time_t.add(organization_id=org_id, member_id=member_id,
                           kind=str(TimeKind.WORK), start=v_start, end=v_finished,
                           visit_id=visit_id, source=str(TimeSource.DEVICE),
                           created_by_id=member_id, created_at=v_start, updated_at=v_finished)
                entry_t.add(organization_id=org_id, work_order_id=wo_id, visit_id=visit_id,
                            kind=EntryKind.LABOR.value, author_id=member_id,
                            data=self._dump(LaborData, minutes=minutes, member_id=member_id),
                            created_at=v_finished)
            if rng.random() < 0.35:
                name, unit, _price = rng.choice(PARTS)
                entry_t.add(organization_id=org_id, work_order_id=wo_id, visit_id=visit_id,
                            kind=EntryKind.PART.value, author_id=crew[0],
                            visibility=str(Visibility.CUSTOMER),
                            data=self._dump(PartData, name=name,
                                                    quantity=Decimal(rng.randint(1, 4)),
                                                    unit=unit),
                            created_at=v_finished)
            if rng.random() < 0.2:
                entry_t.add(organization_id=org_id, work_order_id=wo_id, visit_id=visit_id,
                            kind=EntryKind.NOTE.value, author_id=crew[0],
                            body=rng.choice(TECHNICIAN_NOTES),
                            visibility=str(Visibility.CUSTOMER), data="{}",
                            created_at=v_finished)



def _plan(sizes: list[int], jobs: int) -> list[list[int]]:
    """Organizations for each process, the largest first to the least loaded one."""
    loads, plans = [0] * jobs, [[] for _ in range(jobs)]
    for index, size in enumerate(sizes):
        k = loads.index(min(loads))
        loads[k] += size
        plans[k].append(index)
    return plans


def _run(job: int, jobs: int, indexes: list[int], sizes: list[int], bases: dict[str, int],
         prefix: str, seed: int, now: dt.datetime, log: Callable[[str], None]
         ) -> dict[str, int]:
    """One process's share: ids ``base + job``, ``base + job + jobs``, ... in every table."""
    seeder = _Seeder(seed=seed, now=now, log=log)
    for key, table in seeder.t.items():
        table.next_id, table.step = bases[key] + job, jobs
    started = time.perf_counter()
    done = 0
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        # Every row's parents are written before it, with the ids given here: a superuser skips
        # the foreign keys' checks (millions of look-ups at each commit); others wait for them.
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        trusted = cursor.fetchone()[0]
        if trusted:
            cursor.execute("SET session_replication_role = replica")
        try:
            for n, index in enumerate(indexes, 1):
                seeder.organization(cursor, index=index, slug=f"{prefix}-{index}",
                                    count=sizes[index])
                done += sizes[index]
                if sizes[index] >= 100_000 or n % 100 == 0 or n == len(indexes):
                    elapsed = time.perf_counter() - started
                    rows = sum(t.written for t in seeder.t.values())
                    log(f"  [{job + 1}/{jobs}] {n}/{len(indexes)} organizations, {done:,} work "
                        f"orders, {rows:,} rows in {elapsed:.0f} s ({rows / elapsed:,.0f} rows/s)")
        finally:
            if trusted:
                cursor.execute("SET session_replication_role = DEFAULT")
    return {key: t.written for key, t in seeder.t.items()}


def _drop_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop the tables' indexes that back no constraint; answer how to make them again.

    Millions of rows go in far faster without them, and each is built once at the end.
    """
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [tables])
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in found]


def _child(results, args) -> None:
    try:  # this process opens its own connection (the parent closed its own and its pool)
        results.put((args[0], _run(*args)))
    except BaseException as exc:
        results.put((args[0], f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        connection.close()


def seed_bulk(*, orgs: int = 1000, work_orders: int = 10_000_000, prefix: str = "scale",
              seed: int = 1, jobs: int = 2, run_analyze: bool = True,
              log: Callable[[str], None] = print) -> BulkReport:
    """Seed ``orgs`` organizations (slugs ``<prefix>-0`` the largest, ...) with COPY.

    ``jobs`` processes write at once (each its own organizations and its own ids).
    """
    if connection.vendor != "postgresql":
        raise ScaleSeedError(
            "seed-scale writes with PostgreSQL's COPY and runs on PostgreSQL only: set "
            "DATABASE_URL=postgres://… to a database of its own (this one is "
            f"{connection.vendor}).")
    sizes = long_tail(orgs=orgs, work_orders=work_orders, seed=seed)
    if Organization.objects.filter(slug__startswith=f"{prefix}-").exists():
        raise ScaleSeedError(f"Organizations named {prefix}-… exist already; choose another "
                             "--prefix or use a fresh database.")
    started = time.perf_counter()
    now = timezone.now().replace(microsecond=0)
    tables = _Seeder(seed=seed, now=now, log=log).t
    bases = {}
    with connection.cursor() as cursor:
        for key, table in tables.items():
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table.name}"')  # noqa: S608
            bases[key] = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        indexes = _drop_indexes(cursor, [table.name for table in tables.values()])
    try:
        counts = _write(orgs=orgs, sizes=sizes, bases=bases, prefix=prefix, seed=seed,
                        jobs=jobs, now=now, log=log)
    finally:
        log(f"  Building {len(indexes)} indexes ...")
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for definition in indexes:
                cursor.execute(definition)
    report = BulkReport(sizes=sizes, organizations=[f"{prefix}-{i}" for i in range(orgs)])
    report.rows = {table.model._meta.label: sum(c[key] for c in counts)
                   for key, table in tables.items()}
    with connection.cursor() as cursor:
        for table in tables.values():
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "  # noqa: S608
                f'(SELECT COALESCE(MAX(id), 1) FROM "{table.name}"))')
        if run_analyze:
            # VACUUM as well: rows written by COPY are not yet marked all-visible, and without
            # that no index-only scan pays (autovacuum would get there on a database in use).
            # (VACUUM cannot run inside a transaction: ANALYZE alone there.)
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            log(f"  {command} ...")
            for table in tables.values():
                cursor.execute(f'{command} "{table.name}"')
    report.seconds = time.perf_counter() - started
    return report


def _write(*, orgs: int, sizes: list[int], bases: dict[str, int], prefix: str, seed: int,
           jobs: int, now: dt.datetime, log: Callable[[str], None]) -> list[dict[str, int]]:
    jobs = max(1, min(jobs, orgs))
    work = [(job, jobs, indexes, sizes, bases, prefix, seed, now, log)
            for job, indexes in enumerate(_plan(sizes, jobs))]
    if jobs == 1:
        counts = [_run(*work[0])]
    else:
        import multiprocessing

        if connection.in_atomic_block:
            raise ScaleSeedError("Several processes cannot see an open transaction's rows: "
                                 "run with one job inside a transaction.")
        # Nothing of the parent's may reach a child: neither its connection nor its pool's.
        connection.close()
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        processes = [context.Process(target=_child, args=(results, args)) for args in work]
        for process in processes:
            process.start()
        answers = dict(results.get() for _ in processes)
        for process in processes:
            process.join()
        failed = [answer for answer in answers.values() if isinstance(answer, str)]
        if failed:
            raise ScaleSeedError("A process writing the data failed: " + "; ".join(failed))
        counts = list(answers.values())
    return counts
