"""Large synthetic data sets for benchmarks: many organizations, up to millions of work orders.

Rows are written with ``bulk_create`` in batches, never through the services: a million
work orders through per-row services and the audit chain would take hours. The data is shaped
like real use (numbers per organization, statuses that follow from age, visits with crews,
timeline entries) but no audit entries are written, so each chain is empty and verifies.
Deterministic for a given seed and start time.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from crewline.core.models import Member, Organization, Role, User
from crewline.customers.models import Contact, Customer, CustomerKind, Site
from crewline.demo.data import (
    CANCEL_REASONS,
    COMMERCIAL_SUFFIXES,
    HOLD_REASONS,
    INTERNAL_NOTES,
    JOB_TYPES,
    TOWNS,
    city_name,
)
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

BENCH_PASSWORD = "crewline-bench"  # noqa: S105 - synthetic benchmark logins
TIME_ZONES = ("America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles")
# Work orders are spread over this many days before now, and a few days ahead.
HISTORY_DAYS = 730
AHEAD_DAYS = 14
RICH_TIMELINE_ENTRIES = 300


class ScaleSeedError(Exception):
    pass


@dataclass
class ScaleReport:
    organizations: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # slug -> number of the work order with a long timeline and several visits
    rich_work_orders: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    def add(self, name: str, count: int) -> None:
        self.rows[name] = self.rows.get(name, 0) + count


def split_work_orders(*, orgs: int, work_orders: int, big_org_work_orders: int = 0
                      ) -> list[int]:
    """How many work orders each organization gets: the big one first, the rest evenly."""
    if orgs < 1:
        raise ScaleSeedError("At least one organization is needed.")
    if work_orders < 0 or big_org_work_orders < 0:
        raise ScaleSeedError("Counts cannot be negative.")
    if big_org_work_orders > work_orders:
        raise ScaleSeedError("The big organization cannot have more work orders than the total.")
    if big_org_work_orders and orgs == 1 and big_org_work_orders != work_orders:
        raise ScaleSeedError("With one organization, the big one holds every work order.")
    if not big_org_work_orders:
        base, extra = divmod(work_orders, orgs)
        return [base + (1 if i < extra else 0) for i in range(orgs)]
    rest = work_orders - big_org_work_orders
    base, extra = divmod(rest, orgs - 1) if orgs > 1 else (0, 0)
    return [big_org_work_orders, *(base + (1 if i < extra else 0) for i in range(orgs - 1))]


class _Names:
    """Pools of names made once with Faker (far too slow to call per row at this scale)."""

    def __init__(self, seed: int) -> None:
        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.first = [fake.first_name() for _ in range(300)]
        self.last = [fake.last_name() for _ in range(500)]
        self.companies = [fake.company() for _ in range(300)]

    def person(self, rng: random.Random) -> str:
        return f"{rng.choice(self.first)} {rng.choice(self.last)}"

    def business(self, rng: random.Random) -> str:
        if rng.random() < 0.5:
            return rng.choice(self.companies)
        return f"{rng.choice(self.last)} {rng.choice(COMMERCIAL_SUFFIXES)}"


def _pick_status(rng: random.Random, age_days: float) -> str:
    if age_days < 0:  # requested for the coming days
        table = ((Status.NEW, 40), (Status.SCHEDULED, 50), (Status.ON_HOLD, 5),
                 (Status.CANCELLED, 5))
    elif age_days <= 10:
        table = ((Status.NEW, 25), (Status.SCHEDULED, 40), (Status.IN_PROGRESS, 12),
                 (Status.ON_HOLD, 6), (Status.COMPLETED, 12), (Status.CANCELLED, 5))
    elif age_days <= 45:
        table = ((Status.SCHEDULED, 5), (Status.IN_PROGRESS, 8), (Status.ON_HOLD, 8),
                 (Status.COMPLETED, 40), (Status.INVOICED, 31), (Status.CANCELLED, 8))
    else:
        table = ((Status.ON_HOLD, 1), (Status.COMPLETED, 12), (Status.INVOICED, 77),
                 (Status.CANCELLED, 10))
    statuses, weights = zip(*table, strict=True)
    return rng.choices(statuses, weights)[0]


VISIT_STATUS_FOR = {
    Status.SCHEDULED: VisitStatus.SCHEDULED,
    Status.IN_PROGRESS: VisitStatus.ON_SITE,
    Status.ON_HOLD: VisitStatus.INCOMPLETE,
    Status.COMPLETED: VisitStatus.DONE,
    Status.INVOICED: VisitStatus.DONE,
    Status.CANCELLED: VisitStatus.CANCELLED,
}


class _OrgSeeder:
    def __init__(self, *, index: int, org: Organization, work_orders: int, seed: int,
                 names: _Names, password_hash: str, batch_size: int, now: dt.datetime,
                 report: ScaleReport, log: Callable[[str], None]) -> None:
        self.rng = random.Random(f"{seed}-{index}")
        self.index = index
        self.org = org
        self.n = work_orders
        self.names = names
        self.password_hash = password_hash
        self.batch_size = batch_size
        self.now = now
        self.report = report
        self.log = log
        self.tz = zoneinfo.ZoneInfo(org.time_zone)

    def _bulk(self, model, objs: Sequence) -> list:
        created = model.objects.bulk_create(objs, batch_size=self.batch_size)
        self.report.add(model._meta.label, len(created))
        return created

    def run(self) -> int | None:
        with transaction.atomic():
            self._people()
            self._customers()
        rich = None
        for start in range(0, self.n, 5000):
            with transaction.atomic():
                rich = self._work_orders(start, min(self.n, start + 5000)) or rich
        if self.n:
            Organization.objects.filter(pk=self.org.pk).update(
                next_work_order_number=1001 + self.n)
        return rich

    def _people(self) -> None:
        slug = self.org.slug
        roles = [(Role.OWNER, "owner", 1), (Role.OFFICE, "office", 2),
                 (Role.TECHNICIAN, "tech", min(30, max(3, self.n // 4000)))]
        users, member_roles = [], []
        for role, label, count in roles:
            for k in range(1, count + 1):
                users.append(User(email=f"{label}{k}@{slug}.bench.example",
                                  full_name=self.names.person(self.rng),
                                  password=self.password_hash))
                member_roles.append(role)
        users = self._bulk(User, users)
        members = [
            Member(organization=self.org, user=user, role=role,
                   colour=f"#{self.rng.randrange(0x1000000):06x}")
            for user, role in zip(users, member_roles, strict=True)
        ]
        members = self._bulk(Member, members)
        self.office = [m for m in members if m.role in (Role.OWNER, Role.OFFICE)]
        self.techs = [m for m in members if m.role == Role.TECHNICIAN]
        self.job_types = self._bulk(JobType, [
            JobType(organization=self.org, name=j.name, default_kind=j.kind,
                    default_duration_minutes=j.minutes) for j in JOB_TYPES])
        self.job_kinds = dict(zip((jt.pk for jt in self.job_types), JOB_TYPES, strict=True))

    def _customers(self) -> None:
        rng = self.rng
        count = max(5, self.n // 8)
        customers = []
        for _ in range(count):
            commercial = rng.random() < 0.3
            name = self.names.business(rng) if commercial else self.names.person(rng)
            customers.append(Customer(
                organization=self.org, name=name,
                kind=CustomerKind.COMMERCIAL if commercial else CustomerKind.RESIDENTIAL,
                email=f"c{rng.randrange(10**8)}@example.com",
                phone=f"(312) 555-{rng.randrange(10000):04d}"))
        customers = self._bulk(Customer, customers)
        self._bulk(Contact, [
            Contact(organization=self.org, customer=c, name=self.names.person(rng),
                    is_primary=True, phone=c.phone) for c in customers])
        sites = []
        for c in customers:
            for _ in range(1 + (rng.random() < 0.3) + (rng.random() < 0.05)):
                town = rng.choice(TOWNS)
                sites.append(Site(
                    organization=self.org, customer=c,
                    address_line1=f"{rng.randrange(100, town.max_number)} "
                                  f"{rng.choice(town.streets)}",
                    city=city_name(town), region="IL", postal_code=town.zip_code, country="US",
                    latitude=round(town.lat + rng.uniform(-0.01, 0.01), 6),
                    longitude=round(town.lng + rng.uniform(-0.01, 0.01), 6)))
        sites = self._bulk(Site, sites)
        by_customer: dict[int, list[int]] = {}
        for s in sites:
            by_customer.setdefault(s.customer_id, []).append(s.pk)
        self.customer_sites = list(by_customer.items())

    def _local(self, day: dt.date, minutes: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(8), self.tz) + dt.timedelta(minutes=minutes)

    def _work_orders(self, start: int, stop: int) -> int | None:
        rng, org, now = self.rng, self.org, self.now
        span = dt.timedelta(days=HISTORY_DAYS + AHEAD_DAYS).total_seconds()
        first = now - dt.timedelta(days=HISTORY_DAYS)
        orders, plans = [], []
        for i in range(start, stop):
            # Numbers follow creation time, as they do when raised one by one.
            created = first + dt.timedelta(seconds=span * (i + rng.random()) / max(self.n, 1))
            requested = created
            if created > now:  # booked ahead: raised up to a week before
                created = now - dt.timedelta(days=rng.uniform(0, 7))
            age = (now - requested).total_seconds() / 86400
            status = _pick_status(rng, age)
            job_type = rng.choice(self.job_types)
            kind = self.job_kinds[job_type.pk]
            customer_id, site_ids = rng.choice(self.customer_sites)
            visit_day = requested.astimezone(self.tz).date() + dt.timedelta(days=rng.randint(0, 3))
            visit_start = self._local(visit_day, 30 * rng.randrange(0, 16))
            if status == Status.SCHEDULED and visit_start < now:
                visit_start = self._local(now.astimezone(self.tz).date()
                                          + dt.timedelta(days=rng.randint(1, 7)),
                                          30 * rng.randrange(0, 16))
            elif status not in (Status.NEW, Status.SCHEDULED, Status.CANCELLED) \
                    and visit_start > now - dt.timedelta(hours=2):
                # Work that has started or finished happened before now.
                visit_start = now - dt.timedelta(minutes=30 * rng.randint(4, 60))
            visit_end = visit_start + dt.timedelta(minutes=kind.minutes)
            created = min(created, visit_start - dt.timedelta(hours=1))
            finished = (min(visit_end, now) if status in (Status.COMPLETED, Status.INVOICED)
                        else None)
            changed = {Status.NEW: created,
                       Status.INVOICED: visit_end + dt.timedelta(days=3)}.get(
                status, finished or created)
            orders.append(WorkOrder(
                organization=org, number=1001 + i, customer_id=customer_id,
                site_id=rng.choice(site_ids), kind=kind.kind, job_type=job_type,
                priority=rng.choices((1, 2, 3, 4), (12, 60, 20, 8))[0],
                title=rng.choice(kind.titles),
                instructions=rng.choice(INTERNAL_NOTES) if rng.random() < 0.4 else "",
                due_date=(requested + dt.timedelta(days=7)).date() if rng.random() < 0.3
                else None,
                status=status,
                held_from=Status.IN_PROGRESS if status == Status.ON_HOLD else "",
                status_reason=(rng.choice(HOLD_REASONS) if status == Status.ON_HOLD else
                               rng.choice(CANCEL_REASONS) if status == Status.CANCELLED else ""),
                status_changed_at=min(changed, now), completed_at=finished,
                created_by=rng.choice(self.office), created_at=created,
            ))
            plans.append((status, visit_start, visit_end, created))
        orders = self._bulk(WorkOrder, orders)

        visits, crews, entries = [], [], []
        for wo, (status, v_start, v_end, created) in zip(orders, plans, strict=True):
            author = wo.created_by
            if status != Status.NEW and not (status == Status.CANCELLED and rng.random() < 0.5):
                visit_status = VISIT_STATUS_FOR[status]
                visits.append(Visit(
                    organization=org, work_order=wo, start=v_start, end=v_end,
                    status=visit_status, created_at=created,
                    arrived_at=v_start if visit_status in (VisitStatus.ON_SITE, VisitStatus.DONE,
                                                           VisitStatus.INCOMPLETE) else None,
                    finished_at=min(v_end, now) if visit_status == VisitStatus.DONE
                    else None))
                entries.append(TimelineEntry(
                    organization=org, work_order=wo, kind=EntryKind.SCHEDULE, author=author,
                    data={"event": "visit_added", "start": v_start.isoformat(),
                          "end": v_end.isoformat()},
                    created_at=created + dt.timedelta(minutes=5)))
            if status != Status.NEW:
                entries.append(TimelineEntry(
                    organization=org, work_order=wo, kind=EntryKind.STATUS, author=author,
                    body=wo.status_reason, data={"from": Status.NEW, "to": status},
                    created_at=wo.status_changed_at))
            if rng.random() < 0.3:
                entries.append(TimelineEntry(
                    organization=org, work_order=wo, kind=EntryKind.NOTE, author=author,
                    body=rng.choice(INTERNAL_NOTES), visibility=Visibility.INTERNAL,
                    created_at=created + dt.timedelta(minutes=2)))
        visits = self._bulk(Visit, visits)
        for visit in visits:
            for tech in rng.sample(self.techs, 2 if rng.random() < 0.15 else 1):
                crews.append(Visit.crew.through(visit_id=visit.pk, member_id=tech.pk))
        self._bulk(Visit.crew.through, crews)
        self._bulk(TimelineEntry, entries)

        rich_index = self.n - 1 - min(self.n - 1, 200)
        if start <= rich_index < stop and self.n >= 50:
            return self._rich(orders[rich_index - start])
        return None

    def _rich(self, wo: WorkOrder) -> int:
        """Give one work order a long history: the detail page's worst case."""
        rng = self.rng
        when = wo.created_at
        visits = self._bulk(Visit, [
            Visit(organization=self.org, work_order=wo,
                  start=self._local((when + dt.timedelta(days=2 * k + 1)).date(), 60),
                  end=self._local((when + dt.timedelta(days=2 * k + 1)).date(), 180),
                  status=VisitStatus.INCOMPLETE, notes="Bring the long ladder.")
            for k in range(4)])
        self._bulk(Visit.crew.through, [
            Visit.crew.through(visit_id=v.pk, member_id=m.pk)
            for v in visits for m in rng.sample(self.techs, 2)])
        kinds = (EntryKind.NOTE, EntryKind.NOTE, EntryKind.NOTE, EntryKind.STATUS,
                 EntryKind.SCHEDULE, EntryKind.VISIT_STATUS, EntryKind.PART, EntryKind.LABOR)
        entries = []
        for k in range(RICH_TIMELINE_ENTRIES):
            kind = rng.choice(kinds)
            author = rng.choice(self.office + self.techs)
            visit = rng.choice(visits)
            entries.append(TimelineEntry(
                organization=self.org, work_order=wo, visit=visit, kind=kind, author=author,
                body=rng.choice(INTERNAL_NOTES) if kind == EntryKind.NOTE else "",
                visibility=rng.choice(Visibility.values),
                data=self._rich_data(kind, author, visit),
                created_at=when + dt.timedelta(minutes=20 * k)))
        self._bulk(TimelineEntry, entries)
        return wo.number

    def _rich_data(self, kind: str, author, visit: Visit) -> dict:
        """What an entry of ``kind`` holds, as its service would write it (``timeline``)."""
        rng = self.rng
        made = {
            EntryKind.STATUS: lambda: StatusData(from_=Status.SCHEDULED, to=Status.IN_PROGRESS,
                                                 action="start"),
            EntryKind.SCHEDULE: lambda: ScheduleData(event="visit_moved", start=visit.start,
                                                     end=visit.end),
            EntryKind.VISIT_STATUS: lambda: VisitStatusData(
                event="arrive", from_=VisitStatus.SCHEDULED, to=VisitStatus.ON_SITE),
            EntryKind.PART: lambda: PartData(name="Copper elbow 15mm",
                                             quantity=Decimal(rng.randint(1, 6)), unit="each"),
            EntryKind.LABOR: lambda: LaborData(minutes=rng.choice((30, 45, 60, 90)),
                                               member_id=author.pk),
        }.get(kind)
        return made().dump() if made else {}


def analyze() -> None:
    """Refresh the planner's statistics, as a long-running database would have them."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def seed_scale(*, orgs: int, work_orders: int, big_org_work_orders: int = 0,
               prefix: str = "scale", seed: int = 1, batch_size: int = 2000,
               run_analyze: bool = True, log: Callable[[str], None] = print) -> ScaleReport:
    """Create ``orgs`` organizations (slugs ``<prefix>-0``, ...) holding ``work_orders`` in all.

    The first organization gets ``big_org_work_orders`` of them when that is given. Refuses to
    run when organizations with the prefix exist. Logins: ``office1@<slug>.bench.example`` and
    so on, password ``BENCH_PASSWORD``.
    """
    counts = split_work_orders(orgs=orgs, work_orders=work_orders,
                               big_org_work_orders=big_org_work_orders)
    if Organization.objects.filter(slug__startswith=f"{prefix}-").exists():
        raise ScaleSeedError(f"Organizations named {prefix}-… exist already; choose another "
                             "--prefix or use a fresh database.")
    started = time.perf_counter()
    report = ScaleReport()
    rng = random.Random(seed)
    names = _Names(seed)
    password_hash = make_password(BENCH_PASSWORD)
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        organizations = Organization.objects.bulk_create([
            Organization(name=f"{names.business(rng)} {i}", slug=f"{prefix}-{i}",
                         time_zone=TIME_ZONES[0] if i == 0 else rng.choice(TIME_ZONES),
                         created_at=now - dt.timedelta(days=HISTORY_DAYS))
            for i in range(orgs)])
    report.add(Organization._meta.label, len(organizations))
    done = 0
    for index, (org, count) in enumerate(zip(organizations, counts, strict=True)):
        rich = _OrgSeeder(index=index, org=org, work_orders=count, seed=seed, names=names,
                          password_hash=password_hash, batch_size=batch_size, now=now,
                          report=report, log=log).run()
        report.organizations.append(org.slug)
        if rich is not None:
            report.rich_work_orders[org.slug] = rich
        done += count
        elapsed = time.perf_counter() - started
        if count >= 20000 or index == len(organizations) - 1 or index % 10 == 9:
            log(f"  {index + 1}/{orgs} organizations, {done:,} work orders, "
                f"{report.total_rows:,} rows in {elapsed:.1f} s "
                f"({report.total_rows / elapsed:,.0f} rows/s)")
    if run_analyze:
        analyze()
    report.seconds = time.perf_counter() - started
    return report
