"""The demo company: Northwind Heating & Plumbing, an HVAC and plumbing contractor in Chicago.

Everything is written through the same services the office, the API and the phones use, so the
timelines and the audit chain are the ones real work would leave. The clock is moved along with
the story (``time_machine``): a job raised three weeks ago has its timeline, its audit entries
and its number from three weeks ago, and numbers rise with time as they do in real use.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import time_machine
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from faker import Faker

from crewline.core.audit import audit_record
from crewline.core.models import Member, Organization, Role, User
from crewline.core.services import job_type_create, member_update, skill_create
from crewline.customers.models import Customer, CustomerKind, Site
from crewline.customers.services import (
    contact_create,
    customer_create,
    equipment_create,
    site_create,
)
from crewline.demo import data
from crewline.notifications.models import Notification
from crewline.workorders import services as wo
from crewline.workorders import timeline
from crewline.workorders.models import (
    Priority,
    TimelineEntry,
    Visibility,
    Visit,
    VisitStatus,
    WorkOrder,
)

DEMO_SLUG = "demo"
DEMO_NAME = "Northwind Heating & Plumbing"
DEMO_TIME_ZONE = "America/Chicago"
DEMO_PASSWORD = "crewline-demo"  # noqa: S105 - public demo logins, printed on purpose
# One login per role, printed at the end of ``crewline demo``.
DEMO_LOGINS = (("owner", "owner@northwind.example"), ("office", "office@northwind.example"),
               ("technician", "tech@northwind.example"))
HISTORY_DAYS = 60
AHEAD_DAYS = 14
DAY_START, DAY_END = 8 * 60, 17 * 60  # business hours, minutes after midnight


@dataclass
class DemoResult:
    organization: Organization
    created: bool
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def demo_organization() -> Organization | None:
    return Organization.objects.filter(slug=DEMO_SLUG).first()


def seed_demo(*, size: float = 1.0, seed: int = 1042) -> DemoResult:
    """Create the demo company unless it exists; either way return it.

    ``size`` scales customers, sites and work orders (1.0: about 150, 250 and 600), so tests
    can seed a small one. The whole company is written in one transaction.
    """
    existing = demo_organization()
    if existing is not None:
        return DemoResult(existing, created=False)
    started = time.perf_counter()
    now = timezone.now().replace(second=0, microsecond=0)
    builder = _Builder(now=now, size=size, seed=seed)
    with transaction.atomic(), time_machine.travel(builder.founded, tick=False) as clock:
        builder.clock = clock
        builder.build()
    org = builder.org
    # The seeded changes are history, not news: nobody is emailed about them, and only the last
    # two days' notifications are left unread for the bell.
    Notification.objects.filter(organization=org).update(emailed_at=now)
    Notification.objects.filter(organization=org, updated_at__lt=now - dt.timedelta(days=2)
                                ).update(read_at=now)
    counts = {
        "customers": Customer.objects.filter(organization=org).count(),
        "sites": Site.objects.filter(organization=org).count(),
        "work orders": WorkOrder.objects.filter(organization=org).count(),
        "visits": Visit.objects.filter(organization=org).count(),
        "timeline entries": TimelineEntry.objects.filter(organization=org).count(),
    }
    return DemoResult(org, created=True, seconds=time.perf_counter() - started, counts=counts)


@dataclass
class _Job:
    """One work order's story: what it is, and the dated steps that happen to it."""

    index: int
    customer: Customer
    site: Site
    kind: data.JobKind
    title: str
    wo: WorkOrder | None = None
    visits: list[Visit] = field(default_factory=list)


class _Builder:
    def __init__(self, *, now: dt.datetime, size: float, seed: int) -> None:
        self.now = now
        self.size = size
        self.rng = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.tz = timezone.get_fixed_timezone(0)  # replaced by the organization's below
        self.founded = now - dt.timedelta(days=HISTORY_DAYS + 30)
        self.clock: time_machine.Coordinates | None = None
        self.events: list[tuple[dt.datetime, int, int, Callable[[], None]]] = []
        self.busy: dict[tuple[int, dt.date], list[tuple[int, int]]] = {}

    # Time ----------------------------------------------------------------------------------

    def at(self, when: dt.datetime) -> None:
        assert self.clock is not None
        self.clock.move_to(when)

    def local(self, day: dt.date, minutes: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), self.tz) + dt.timedelta(minutes=minutes)

    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()

    def office_time(self, before: dt.datetime, lo_days: int, hi_days: int) -> dt.datetime:
        """A moment in office hours ``lo_days``–``hi_days`` working days before ``before``
        (and before now), never earlier than the history starts."""
        latest = min(before - dt.timedelta(minutes=20), self.now - dt.timedelta(hours=2))
        earliest = self.now - dt.timedelta(days=HISTORY_DAYS + 7)
        day = latest.astimezone(self.tz).date()
        back = self.rng.randint(lo_days, hi_days)
        while True:
            if day.weekday() < 5:
                when = self.local(day, self.rng.randint(DAY_START, DAY_END - 30))
                if back <= 0 and when <= latest:
                    return max(earliest, when)
                back -= 1
            if self.local(day, 0) < earliest:
                return earliest
            day -= dt.timedelta(days=1)

    def office_hours(self, start: dt.datetime, count: int, *, days: int) -> list[dt.datetime]:
        """``count`` rising moments spread over the working hours of ``days`` days."""
        first = start.astimezone(self.tz).date()
        workdays = [d for d in (first + dt.timedelta(days=k) for k in range(days))
                    if d.weekday() < 5]
        per_day = -(-count // len(workdays))
        span = DAY_END - DAY_START
        return [self.local(workdays[i // per_day], DAY_START + (i % per_day) * span // per_day
                           + self.rng.randint(0, max(1, span // per_day) - 1) // 2)
                for i in range(count)]

    # Build ---------------------------------------------------------------------------------

    def build(self) -> None:
        self.company()
        self.customers()
        self.jobs()
        for when, _i, _step, action in sorted(self.events, key=lambda e: e[:3]):
            self.at(when)
            action()
        self.at(self.now)

    def company(self) -> None:
        org = Organization.objects.create(
            name=DEMO_NAME, slug=DEMO_SLUG, time_zone=DEMO_TIME_ZONE, currency="USD",
            country="US", email="hello@northwind.example", phone="(312) 555-0140",
            address="2150 W Fulton St\nChicago, IL 60612",
        )
        self.org = org
        self.tz = org.tzinfo
        # The demo's customers have made-up addresses at real mail domains: nothing is sent to
        # them unless the owner turns messages on in Settings.
        from crewline.messaging.models import MessagingSettings

        MessagingSettings.objects.create(organization=org, confirmation=False, reminder=False,
                                         on_my_way=False, completed=False, feedback=False)
        password = make_password(DEMO_PASSWORD)
        towns = {t.name: t for t in data.TOWNS}
        members: dict[str, Member] = {}
        for person in data.STAFF:
            user = User.objects.filter(email=person.email).first()
            if user is None:
                user = User.objects.create(email=person.email, full_name=person.name,
                                           password=password)
            home = towns.get(person.home)
            member = Member.objects.create(
                organization=org, user=user, role=person.role, phone=person.phone,
                colour=person.colour,
                home_base=f"{data.city_name(home)}, IL {home.zip_code}" if home else "",
                home_latitude=Decimal(f"{home.lat:.6f}") if home else None,
                home_longitude=Decimal(f"{home.lng:.6f}") if home else None,
            )
            members[person.email] = member
            actor = members[data.STAFF[0].email]
            if member is actor:
                audit_record(organization=org, actor=actor, action="organization.create",
                             obj=org, changes={"name": [None, org.name],
                                               "time_zone": [None, org.time_zone]})
            audit_record(organization=org, actor=actor, action="member.create", obj=member,
                         changes={"email": [None, person.email], "role": [None, person.role]})
        self.owner = members[data.STAFF[0].email]
        self.office = [m for m in members.values() if m.role == Role.OFFICE]
        skills = {name: skill_create(organization=org, name=name, by=self.owner)
                  for name in data.SKILLS}
        self.techs: list[Member] = []
        self.tech_skills: dict[int, set[str]] = {}
        for person in data.STAFF:
            if person.role == Role.TECHNICIAN:
                member = members[person.email]
                member_update(member=member, by=self.owner,
                              skills=[skills[s] for s in person.skills])
                self.techs.append(member)
                self.tech_skills[member.pk] = set(person.skills)
        self.job_types = {
            kind.name: job_type_create(organization=org, name=kind.name,
                                       default_kind=kind.kind,
                                       default_duration_minutes=kind.minutes, by=self.owner)
            for kind in data.JOB_TYPES
        }

    def phone(self) -> str:
        area = self.rng.choice(("312", "773", "708", "847", "630"))
        return f"({area}) 555-{self.rng.randrange(100, 10000):04d}"

    def customers(self) -> None:
        rng, fake = self.rng, self.fake
        n_customers = max(6, round(150 * self.size))
        n_sites = max(n_customers, round(250 * self.size))
        commercial = set(rng.sample(range(n_customers), max(2, round(n_customers * 0.3))))
        # Extra sites go mostly to businesses (branches, rental buildings).
        site_counts = [1] * n_customers
        pool = [i for i in range(n_customers) for _ in range(4 if i in commercial else 1)]
        for _ in range(n_sites - n_customers):
            site_counts[rng.choice(pool)] += 1
        times = iter(self.office_hours(self.founded, n_customers + n_sites, days=25))
        self.all_sites: list[tuple[Customer, Site]] = []
        for i in range(n_customers):
            self.at(next(times))
            is_business = i in commercial
            by = rng.choice(self.office)
            if is_business:
                name = (fake.company() if rng.random() < 0.5
                        else f"{fake.last_name()} {rng.choice(data.COMMERCIAL_SUFFIXES)}")
                email = f"accounts@{fake.domain_name()}"
            else:
                name = fake.name()
                email = fake.free_email()
            town = rng.choice(data.TOWNS)
            first_address = self.address(town)
            customer = customer_create(
                organization=self.org, by=by, name=name,
                kind=CustomerKind.COMMERCIAL if is_business else CustomerKind.RESIDENTIAL,
                email=email, phone=self.phone(),
                billing_address=f"{first_address}\n{data.city_name(town)}, IL {town.zip_code}",
                notes=rng.choice(("", "", "", "Pays by check.", "Net 30 terms.",
                                  "Prefers text messages.", "Service agreement since 2019.")),
            )
            if is_business:
                for k in range(rng.randint(1, 3)):
                    contact_create(customer=customer, by=by, name=fake.name(),
                                   role=rng.choice(data.CONTACT_ROLES_COMMERCIAL),
                                   email=fake.company_email(), phone=self.phone(),
                                   is_primary=k == 0)
            else:
                contact_create(customer=customer, by=by, name=name, role="Owner",
                               email=email, phone=customer.phone, is_primary=True)
                if rng.random() < 0.2:
                    contact_create(customer=customer, by=by, name=fake.name(),
                                   role=rng.choice(data.CONTACT_ROLES_RESIDENTIAL[1:]),
                                   phone=self.phone())
            for k in range(site_counts[i]):
                self.at(next(times))
                site_town = town if k == 0 else rng.choice(data.TOWNS)
                site = self.site(customer, site_town, first_address if k == 0 else None,
                                 is_business, k, by)
                self.all_sites.append((customer, site))

    def address(self, town: data.Town) -> str:
        return f"{self.rng.randrange(100, town.max_number)} {self.rng.choice(town.streets)}"

    def site(self, customer: Customer, town: data.Town, address: str | None,
             is_business: bool, k: int, by: Member) -> Site:
        rng = self.rng
        lo_lat, hi_lat = data.METRO_BOUNDS["lat"]
        lo_lng, hi_lng = data.METRO_BOUNDS["lng"]
        lat = min(hi_lat - 0.001, max(lo_lat + 0.001, town.lat + rng.uniform(-0.012, 0.012)))
        lng = min(hi_lng - 0.001, max(lo_lng + 0.001, town.lng + rng.uniform(-0.015, 0.015)))
        notes = ""
        if rng.random() < 0.35:
            notes = rng.choice(data.ACCESS_NOTES).format(code=rng.randrange(1000, 10000))
        name = ""
        if is_business:
            name = data.COMMERCIAL_SITE_NAMES[k % len(data.COMMERCIAL_SITE_NAMES)]
        elif k:
            name = "Rental property"
        site = site_create(
            customer=customer, by=by, name=name, address_line1=address or self.address(town),
            address_line2=rng.choice(("", "", "", "Unit 2", "Apt 3B", "Suite 200"))
            if is_business or rng.random() < 0.2 else "",
            city=data.city_name(town), region="IL", postal_code=town.zip_code, country="US",
            latitude=f"{lat:.6f}", longitude=f"{lng:.6f}", access_notes=notes,
        )
        if rng.random() < 0.7:
            fitting = [e for e in data.EQUIPMENT if (e[3] if is_business else e[2])]
            for name, makes, *_ in rng.sample(fitting, rng.randint(1, min(3, len(fitting)))):
                make, model = rng.choice(makes)
                installed = self.now.date() - dt.timedelta(days=rng.randint(200, 6000))
                equipment_create(
                    site=site, by=by, name=name, manufacturer=make, model=model,
                    serial_number=f"{make[:2].upper()}{rng.randrange(10**7, 10**8)}",
                    installed_on=installed)
        return site

    # Scheduling ----------------------------------------------------------------------------

    def find_slot(self, day: dt.date, minutes: int, skill: str, crew_size: int
                  ) -> tuple[dt.datetime, dt.datetime, list[Member]] | None:
        """A free window on ``day`` for a crew whose lead has ``skill``; None if fully booked."""
        length = 30 * -(-minutes // 30)
        starts = list(range(DAY_START, DAY_END - length + 1, 30))
        self.rng.shuffle(starts)
        starts.sort(key=lambda s: s // 120)  # mornings fill first, in no fixed order within
        leads = [t for t in self.techs if skill in self.tech_skills[t.pk]]
        self.rng.shuffle(leads)
        for start in starts:
            end = start + length

            def free(tech: Member, start=start, end=end) -> bool:
                return all(end <= s or start >= e for s, e in self.busy.get((tech.pk, day), ()))

            for lead in leads:
                if not free(lead):
                    continue
                crew = [lead]
                if crew_size > 1:
                    helpers = [t for t in self.techs if t is not lead and free(t)]
                    if helpers:
                        crew.append(self.rng.choice(helpers))
                for tech in crew:
                    self.busy.setdefault((tech.pk, day), []).append((start, end))
                return self.local(day, start), self.local(day, end), crew
        return None

    def book(self, day: dt.date, kind: data.JobKind, crew_size: int, *, after: dt.date | None = None
             ) -> tuple[dt.datetime, dt.datetime, list[Member]]:
        """The first free window from ``day`` on, skipping weekends."""
        for _ in range(90):
            if day.weekday() < 5 and (after is None or day > after):
                slot = self.find_slot(day, kind.minutes, kind.skill, crew_size)
                if slot:
                    return slot
            day += dt.timedelta(days=1)
        raise RuntimeError(f"Nobody with {kind.skill} is free for three months.")

    # Jobs ----------------------------------------------------------------------------------

    def job_kind(self, day: dt.date) -> data.JobKind:
        heating = day.month in (10, 11, 12, 1, 2, 3, 4)
        weights = [3 if k.heating is heating else 0.4 if k.heating is not None else 1.5
                   for k in data.JOB_TYPES]
        return self.rng.choices(data.JOB_TYPES, weights)[0]

    def jobs(self) -> None:
        rng = self.rng
        n_jobs = max(20, round(600 * self.size))
        first_day = self.today() - dt.timedelta(days=HISTORY_DAYS)
        total_days = HISTORY_DAYS + AHEAD_DAYS
        # The first jobs cover every status whatever the date and the size: (days from today,
        # roll, invoiced?) as ``story`` reads them.
        forced = [(3, 0.0, None), (3, 0.25, None), (3, 0.30, None), (3, 0.9, None),
                  (-4, 0.15, None), (-1, 0.9, False), (-20, 0.9, True)]
        for index in range(n_jobs):
            roll, invoice = rng.random(), None
            day = first_day + dt.timedelta(days=rng.randrange(total_days + 1))
            if index < len(forced):
                offset, roll, invoice = forced[index]
                day = self.workday(offset)
            kind = self.job_kind(day)
            customer, site = rng.choice(self.all_sites)
            job = _Job(index, customer, site, kind, rng.choice(kind.titles))
            crew_size = 2 if kind.minutes >= 240 or rng.random() < 0.15 else 1
            start, end, crew = self.book(day, kind, crew_size)
            self.story(job, start, end, crew, roll=roll, invoice=invoice)

    def workday(self, offset: int) -> dt.date:
        """``offset`` days from today, moved back to a weekday (forward, for future days)."""
        day = self.today() + dt.timedelta(days=offset)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1 if offset > 0 else -1)
        return day

    def add(self, job: _Job, when: dt.datetime, action: Callable[[], None]) -> None:
        self.events.append((when, job.index, len(self.events), action))

    def story(self, job: _Job, start: dt.datetime, end: dt.datetime, crew: list[Member], *,
              roll: float, invoice: bool | None) -> None:
        """Decide what has happened to the job by now, and queue those steps.

        ``roll`` (0–1) picks the outcome; ``invoice`` says whether finished work has been
        invoiced (None: the older the work, the likelier).
        """
        rng, now = self.rng, self.now
        age_days = (now - end).total_seconds() / 86400
        raised = self.office_time(start, 1, 8)
        office = rng.choice(self.office)
        self.add(job, raised, lambda: self.create(job, office))
        if rng.random() < 0.35:
            self.add(job, raised + dt.timedelta(minutes=3),
                     lambda: self.note(job, office, rng.choice(data.INTERNAL_NOTES)))

        if start + dt.timedelta(minutes=5) > now:  # booked ahead, or not yet booked
            if roll < 0.22:
                return  # new: waiting to be scheduled
            if roll < 0.28:
                self.add(job, raised + dt.timedelta(minutes=30), lambda: wo.work_order_hold(
                    work_order=job.wo, by=office, reason=rng.choice(data.HOLD_REASONS)))
                return
            self.visit(job, raised + dt.timedelta(minutes=10), start, end, crew, office)
            if rng.random() < 0.4:
                self.add(job, raised + dt.timedelta(minutes=12), lambda: self.note(
                    job, office, data.CUSTOMER_NOTES[0], Visibility.CUSTOMER))
            if roll < 0.34:
                cancelled = max(raised + dt.timedelta(minutes=15),
                                min(now - dt.timedelta(minutes=30),
                                    raised + dt.timedelta(hours=rng.randint(2, 48))))
                self.add(job, cancelled, lambda: wo.work_order_cancel(
                    work_order=job.wo, by=office, reason=rng.choice(data.CANCEL_REASONS)))
            return

        self.visit(job, raised + dt.timedelta(minutes=10), start, end, crew, office)
        lead = crew[0]
        if roll < 0.06:  # called off before the day
            cancelled = min(start - dt.timedelta(hours=2),
                            raised + dt.timedelta(hours=rng.randint(2, 30)))
            self.add(job, max(cancelled, raised + dt.timedelta(minutes=15)),
                     lambda: wo.work_order_cancel(work_order=job.wo, by=office,
                                                  reason=rng.choice(data.CANCEL_REASONS)))
            return
        self.add(job, start - dt.timedelta(minutes=25),
                 lambda: self.visit_status(job, 0, VisitStatus.EN_ROUTE, lead))
        self.add(job, start - dt.timedelta(minutes=24), lambda: self.note(
            job, office, data.CUSTOMER_NOTES[1], Visibility.CUSTOMER))
        self.add(job, start, lambda: self.visit_status(job, 0, VisitStatus.ON_SITE, lead))
        self.add(job, start + dt.timedelta(minutes=1),
                 lambda: wo.work_order_start(work_order=job.wo, by=lead))
        if end > now:  # on site right now
            return
        if rng.random() < 0.3:
            self.add(job, start + (end - start) / 2, lambda: self.note(
                job, lead, rng.choice(data.TECHNICIAN_NOTES), visit=0))
        if roll < 0.20 and 0.05 < age_days < 14:  # needs a part, or a second visit
            self.add(job, end - dt.timedelta(minutes=10), lambda: self.note(
                job, lead, rng.choice(data.INCOMPLETE_REASONS), visit=0))
            self.add(job, end, lambda: self.visit_status(job, 0, VisitStatus.INCOMPLETE, lead))
            if roll < 0.12:
                self.add(job, end + dt.timedelta(minutes=20), lambda: wo.work_order_hold(
                    work_order=job.wo, by=office, reason=data.HOLD_REASONS[0]))
                self.add(job, end + dt.timedelta(minutes=21), lambda: self.note(
                    job, office, data.CUSTOMER_NOTES[2], Visibility.CUSTOMER))
            else:
                follow_start, follow_end, follow_crew = self.book(
                    self.today() + dt.timedelta(days=1), job.kind, len(crew),
                    after=self.today())
                self.visit(job, end + dt.timedelta(minutes=30), follow_start, follow_end,
                           follow_crew, office)
            return
        self.add(job, end - dt.timedelta(minutes=5), lambda: self.note(
            job, lead, rng.choice(job.kind.summaries), Visibility.CUSTOMER, visit=0))
        self.add(job, end, lambda: wo.work_order_complete(work_order=job.wo, by=lead))
        if invoice is None:
            invoice = age_days > 2 and rng.random() < min(0.9, age_days / 12)
        if invoice:
            invoiced = min(now - dt.timedelta(hours=1),
                           self.office_time(end + dt.timedelta(days=rng.randint(2, 5)), 0, 1))
            invoiced = max(invoiced, end + dt.timedelta(minutes=30))
            self.add(job, invoiced, lambda: wo.work_order_invoice(work_order=job.wo,
                                                                  by=self.owner))

    # Steps (run with the clock set) --------------------------------------------------------

    def create(self, job: _Job, office: Member) -> None:
        rng = self.rng
        priority = rng.choices(list(Priority), (10, 62, 20, 8))[0]
        if job.title.startswith(("No heat", "Burst", "Boiler lockout", "Main sewer")):
            priority = Priority.URGENT
        instructions = ""
        if rng.random() < 0.5:
            instructions = rng.choice((
                "Customer reports the problem started yesterday evening.",
                "Please call the site contact 30 minutes before arriving.",
                "Check the equipment history before going: second call this season.",
                "Quote approved; bring the parts on the pick list.",
                "Tenant occupied. Wear shoe covers.",
            ))
        job.wo = wo.work_order_create(
            organization=self.org, by=office, customer=job.customer, site=job.site,
            kind=job.kind.kind, job_type=self.job_types[job.kind.name], priority=priority,
            title=job.title, instructions=instructions,
            due_date=(timezone.now() + dt.timedelta(days=rng.randint(3, 21))).date()
            if rng.random() < 0.3 else None,
        )

    def note(self, job: _Job, by: Member, body: str, visibility: str = Visibility.INTERNAL,
             visit: int | None = None) -> None:
        wo.note_add(work_order=job.wo, by=by, body=body, visibility=visibility,
                    visit=job.visits[visit] if visit is not None else None)

    def visit(self, job: _Job, when: dt.datetime, start: dt.datetime, end: dt.datetime,
              crew: list[Member], office: Member) -> None:
        notes = self.rng.choice(("", "", "Bring shoe covers.", "Parts are at the supply house.",
                                 "Customer works from home; ring the side bell."))

        def add() -> None:
            # The story's schedule is fixed; it may be tight, as real ones are.
            job.visits.append(wo.visit_add(work_order=job.wo, by=office, start=start, end=end,
                                           crew=crew, notes=notes, override=True))
            job.wo.refresh_from_db()

        self.add(job, when, add)

    STATUS_EVENTS = {VisitStatus.EN_ROUTE: "en_route", VisitStatus.ON_SITE: "arrive",
                     VisitStatus.DONE: "complete", VisitStatus.INCOMPLETE: "incomplete"}

    def visit_status(self, job: _Job, k: int, status: str, by: Member) -> None:
        """A technician's dispatch update on a visit, as the story has it (the story's own
        order of events, which the visit services would not all take): the visit, its timeline
        entry and an audit entry, together."""
        visit = job.visits[k]
        before = visit.status
        now = timezone.now()
        visit.status = status
        fields = ["status", "updated_at"]
        if status == VisitStatus.ON_SITE:
            visit.arrived_at = now
            fields.append("arrived_at")
        if status in (VisitStatus.DONE, VisitStatus.INCOMPLETE):
            visit.finished_at = now
            fields.append("finished_at")
        with transaction.atomic():
            visit.save(update_fields=fields)
            visit.work_order = job.wo
            timeline.visit_status_recorded(visit=visit, by=by, event=self.STATUS_EVENTS[status],
                                           before=before)
            audit_record(organization=self.org, actor=by, action=f"visit.{status}", obj=visit,
                         changes={"status": [before, status]})
