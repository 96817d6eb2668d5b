"""Reads of work orders, visits and the timeline.

Every selector takes the organization explicitly and returns a queryset (or a small value object)
whose related rows are loaded up front, so a page's query count does not grow with its rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.lookups import Exact
from django.http import Http404
from django.utils import timezone

from crewline.core.models import AuditLog, Member, Organization
from crewline.workorders.models import (
    OPEN_STATUSES,
    OPEN_VISIT_STATUSES,
    EntryKind,
    Status,
    Tag,
    TimelineEntry,
    Visibility,
    Visit,
    VisitOutcome,
    VisitStatus,
    WorkOrder,
)
from crewline.workorders.timeline import entry_data

ALL = "all"
_NUMBER_RE = re.compile(r"^\s*(?:wo\s*-?\s*)?(\d{1,9})\s*$", re.IGNORECASE)


def _crew_prefetch() -> Prefetch:
    return Prefetch("crew", queryset=Member.objects.select_related("user"))


def _local_day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the current (the organization's) time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def work_order_list(
    *,
    organization: Organization,
    status: Sequence[str] = (),
    priority: int | None = None,
    customer: Any = None,
    technician: Member | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    q: str = "",
    tags: Iterable[Tag | int] = (),
) -> QuerySet[WorkOrder]:
    """The organization's work orders matching the filters, newest first.

    - ``status``: the statuses to show; empty means the open ones (``OPEN_STATUSES``), and
      ``["all"]`` means every status.
    - ``date_from``/``date_to`` (inclusive, days in the organization's time zone): a work order
      matches when one of its visits starts on those days or its due date falls on them. These are
      the dates a dispatcher plans by; the requested window is what the customer asked for and
      is shown on the work order itself.
    - ``q``: ``1042`` or ``WO-1042`` finds that number; other text is looked for in the title,
      the customer's name and the site's address and city.
    - ``tags``: work orders carrying any of them.

    Each row comes with ``open_visits`` (open visits by start, with their crew) and its tags, so
    the list renders in a fixed number of queries.
    """
    qs = WorkOrder.objects.filter(organization=organization)
    statuses = [s for s in status if s]
    if ALL not in statuses:
        wanted = [s for s in statuses if s in Status.values] or list(OPEN_STATUSES)
        qs = qs.filter(status__in=wanted) if len(wanted) > 1 else qs.filter(status=wanted[0])
    if priority:
        qs = qs.filter(priority=priority)
    if customer is not None:
        qs = qs.filter(customer=customer)
    if technician is not None:
        qs = qs.filter(Exists(Visit.crew.through.objects.filter(
            visit__work_order=OuterRef("pk"), member=technician)))
    if date_from or date_to:
        visit_q = Q(work_order=OuterRef("pk"))
        due_q = Q(due_date__isnull=False)
        if date_from:
            visit_q &= Q(start__gte=_local_day_start(date_from))
            due_q &= Q(due_date__gte=date_from)
        if date_to:
            visit_q &= Q(start__lt=_local_day_start(date_to + dt.timedelta(days=1)))
            due_q &= Q(due_date__lte=date_to)
        qs = qs.filter(Q(Exists(Visit.objects.filter(visit_q))) | due_q)
    q = (q or "").strip()
    if q:
        number = _NUMBER_RE.match(q)
        if number:
            qs = qs.filter(number=int(number.group(1)))
        else:
            qs = qs.filter(Q(title__icontains=q) | Q(customer__name__icontains=q)
                           | Q(site__address_line1__icontains=q) | Q(site__city__icontains=q))
    tag_ids = [t.pk if isinstance(t, Tag) else int(t) for t in tags]
    if tag_ids:
        qs = qs.filter(Exists(WorkOrder.tags.through.objects.filter(
            workorder=OuterRef("pk"), tag__in=tag_ids)))
    return (
        qs.select_related("customer", "site", "job_type")
        .prefetch_related(
            Prefetch("visits",
                     queryset=Visit.objects.filter(organization=organization,
                                                   status__in=OPEN_VISIT_STATUSES)
                     .only("organization_id", "work_order_id", "start", "end", "status")
                     .order_by(F("start").asc(nulls_last=True), "id")
                     .prefetch_related(Prefetch("crew", queryset=Member.objects
                                                .select_related("user")
                                                .only("user__full_name", "user__email",
                                                      "colour"))),
                     to_attr="open_visits"),
            Prefetch("tags", queryset=Tag.objects.order_by("name")),
        )
        .order_by("-number")
    )


@dataclass
class CheapPage:
    """One page of a list without counting the whole list.

    Counting 100,000 rows behind a join costs more than rendering the page; a dispatcher needs
    "next" and "previous", not "page 7 of 2,412". Fetches one row more than it shows to learn
    whether there is a next page.
    """

    object_list: list
    number: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


class _InOrganization(Func):
    """The organization column, compared as it is on PostgreSQL (where it routes a sharded
    query) and as ``+column`` on SQLite, whose planner then looks the ids up rather than
    walking the organization's index."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra)


def _rows_by_id(queryset: QuerySet, ids: list, organization_id: int) -> QuerySet:
    """The rows with these ids, in their organization, loaded as ``queryset`` loads them
    (joins, columns, prefetches) but without its other filters: with them, SQLite picks the
    organization's index and walks every row of it instead of looking the ids up."""
    rows = queryset.model._base_manager.filter(
        Exact(_InOrganization(F("organization_id"), output_field=IntegerField()),
              organization_id), pk__in=ids)
    rows.query.select_related = queryset.query.select_related
    rows.query.deferred_loading = queryset.query.deferred_loading
    return rows.prefetch_related(*queryset._prefetch_related_lookups)


def cheap_page(queryset: QuerySet, page: str | int | None, per_page: int = 50) -> CheapPage:
    """The page's ids first, then its rows with their joins and prefetches.

    An OFFSET over the full query would run its joins for every skipped row; over the ids alone
    it walks an index, so page 1,000 costs about what page 1 does.
    """
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    offset = (number - 1) * per_page
    found = list(queryset.values_list("pk", "organization_id")[offset:offset + per_page + 1])
    ids = [pk for pk, _ in found]
    shown = ids[:per_page]
    orgs = {org for _, org in found}
    if len(orgs) > 1:
        raise ValueError("A page holds one organization's rows.")
    rows = ({row.pk: row for row in _rows_by_id(queryset, shown, orgs.pop())}
            if shown else {})
    return CheapPage(object_list=[rows[pk] for pk in shown if pk in rows], number=number,
                     per_page=per_page, has_next=len(ids) > per_page)


def work_order_for_member(member: Member, number: int) -> WorkOrder:
    """The member's organization's work order with this number, or 404."""
    try:
        return (WorkOrder.objects.select_related("customer", "site", "job_type",
                                                 "created_by__user", "organization")
                .get(organization_id=member.organization_id, number=number))
    except WorkOrder.DoesNotExist as exc:
        raise Http404("No work order found.") from exc


def work_order_visits(work_order: WorkOrder) -> QuerySet[Visit]:
    return (Visit.objects.filter(organization_id=work_order.organization_id,
                                 work_order=work_order)
            .prefetch_related(_crew_prefetch()).order_by("start", "id"))


def work_order_timeline(work_order: WorkOrder) -> QuerySet[TimelineEntry]:
    """The job's timeline, newest first."""
    return (TimelineEntry.objects.filter(organization_id=work_order.organization_id,
                                         work_order=work_order)
            .select_related("author__user", "visit").order_by("-created_at", "-id"))


TIMELINE_PAGE = 50


def work_order_timeline_page(work_order: WorkOrder, *, before: int | None = None,
                             size: int = TIMELINE_PAGE) -> tuple[list[TimelineEntry], int | None]:
    """``size`` timeline entries older than entry ``before`` (the newest without it), and the
    id to ask for the next ones from (or None).

    A long-running contract job gathers hundreds of entries; the page shows the latest and
    loads older ones on demand. Paging by the last entry shown, not by an offset, keeps the
    pages right while new entries arrive at the top (``crewline.live``).
    """
    entries = work_order_timeline(work_order)
    if before is not None:
        last = (TimelineEntry.objects.filter(organization_id=work_order.organization_id,
                                             work_order=work_order, pk=before)
                .values("created_at", "id").first())
        if last is None:
            return [], None
        entries = entries.filter(Q(created_at__lt=last["created_at"])
                                 | Q(created_at=last["created_at"], id__lt=last["id"]))
    page = list(entries[:size + 1])
    more = page[size - 1].pk if len(page) > size else None
    return page[:size], more


@dataclass
class WorkDone:
    """What the crew recorded on a job: the labor that counts, the parts, the signatures."""

    labor: list[TimelineEntry]
    parts: list[TimelineEntry]
    signatures: list[TimelineEntry]

    @property
    def labor_minutes(self) -> int:
        return sum(entry_data(entry).minutes for entry in self.labor)

    def __bool__(self) -> bool:
        return bool(self.labor or self.parts or self.signatures)


def work_done(work_order: WorkOrder) -> WorkDone:
    """The job's labor that counts (each with ``labor_member``, whose it is), parts and
    signatures: two queries."""
    entries = list(TimelineEntry.objects
                   .filter(organization_id=work_order.organization_id, work_order=work_order,
                           kind__in=[EntryKind.LABOR, EntryKind.PART, EntryKind.SIGNATURE])
                   .select_related("author__user", "visit").order_by("created_at", "id"))
    labor = labor_that_counts(entries)
    if labor:
        members = {m.pk: m for m in Member.objects.filter(
            organization_id=work_order.organization_id,
            pk__in={entry_data(e).member_id for e in labor}).select_related("user")}
        for entry in labor:
            entry.labor_member = members.get(entry_data(entry).member_id)
    return WorkDone(labor=labor,
                    parts=[e for e in entries if e.kind == EntryKind.PART],
                    signatures=[e for e in entries if e.kind == EntryKind.SIGNATURE])


def price_book_choices(organization: Organization) -> list[tuple[int, str]]:
    """``(id, "CODE · name")`` of the organization's active price book items (billing's), for
    recording a part; labor is recorded as time, so the labor service is left out."""
    from django.apps import apps

    if not apps.is_installed("crewline.billing"):
        return []
    items = (apps.get_model("billing", "PriceBookItem").objects
             .filter(organization=organization, is_active=True)
             .exclude(code__iexact="LABOR").order_by("name").values_list("pk", "code", "name"))
    return [(pk, f"{code} · {name}") for pk, code, name in items]


def work_order_history(work_order: WorkOrder) -> QuerySet[AuditLog]:
    """Audit entries of the work order and of its visits, newest first."""
    visit_ids = [str(pk) for pk in Visit.objects.filter(
        organization_id=work_order.organization_id, work_order=work_order)
        .values_list("pk", flat=True)]
    return (AuditLog.objects.filter(organization_id=work_order.organization_id)
            .filter(Q(object_type="workorders.workorder", object_id=str(work_order.pk))
                    | Q(object_type="workorders.visit", object_id__in=visit_ids))
            .select_related("actor__user").order_by("-seq"))


def visits_for_technician(*, member: Member, days: int = 7) -> QuerySet[Visit]:
    """The member's visits from the start of today through the next ``days`` days."""
    today = timezone.localdate()
    start = _local_day_start(today)
    end = _local_day_start(today + dt.timedelta(days=days + 1))
    return (Visit.objects.filter(organization_id=member.organization_id, crew=member,
                                 start__gte=start, start__lt=end)
            .exclude(status=VisitStatus.CANCELLED)
            .select_related("work_order__customer", "work_order__site")
            .prefetch_related(_crew_prefetch()).order_by("start", "id"))


def active_members(organization: Organization) -> QuerySet[Member]:
    return (Member.objects.filter(organization=organization, is_active=True)
            .select_related("user").order_by("user__full_name"))


# --- Work waiting on the office: to schedule, or ready to close ------------------------------
# A work order in progress with no open visit is either done (its last visit is done and the
# technician did not ask for another: the office completes it) or needs another trip (the last
# visit asked for one, could not be completed, or there was none yet).

# ``last_outcome`` of a work order whose last finished visit was done without asking for more
# (blank: nothing said, as by the office or by phones before the question was asked).
CLOSING_OUTCOMES = ("", VisitOutcome.JOB_COMPLETE)
INCOMPLETE = "incomplete"
REOPENED = "reopened"


def _last_finished_visit() -> QuerySet[Visit]:
    return (Visit.objects.filter(work_order=OuterRef("pk"),
                                 status__in=[VisitStatus.DONE, VisitStatus.INCOMPLETE])
            .order_by(F("finished_at").desc(nulls_last=True), F("id").desc()))


def with_last_outcome(work_orders: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    """``work_orders`` with ``last_outcome``: what the latest finished visit said (its
    ``outcome``, "incomplete" when it could not be completed, "reopened" when the work order's
    status changed after it, None without one).

    A job reopened (or put on hold and resumed) after its last visit needs the office's plan,
    not closing. The visit's server time is compared, never the phone's ``finished_at``: a
    visit done offline reaches the server after the work order was started by the same push.
    """
    outcome = Case(When(status=VisitStatus.INCOMPLETE, then=Value(INCOMPLETE)),
                   When(updated_at__lt=OuterRef("status_changed_at"), then=Value(REOPENED)),
                   default=F("outcome"))
    return work_orders.annotate(last_outcome=Subquery(
        _last_finished_visit().annotate(said=outcome).values("said")[:1]))


def with_last_reason(work_orders: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    """``work_orders`` with ``last_reason``: what the latest finished visit said is left to do
    ("needs another visit" and its reason; blank otherwise)."""
    return work_orders.annotate(last_reason=Subquery(
        _last_finished_visit().values("outcome_reason")[:1]))


def no_open_visit() -> Exists:
    return ~Exists(Visit.objects.filter(work_order=OuterRef("pk"),
                                        status__in=OPEN_VISIT_STATUSES))


def ready_to_close_ids(organization: Organization) -> QuerySet:
    """The ids of the work orders ready to close (see ``ready_to_close``), as a subquery.

    Open work orders with no open visit are read from the (organization, status) index alone
    (joined with the customer, SQLite would walk the organization's whole history), and only
    for those few is the last visit looked up. The queue and the dashboard leave these out of
    the work to schedule with one uncorrelated ``NOT IN``.
    """
    candidates = (WorkOrder.objects.filter(organization=organization,
                                           status__in=[Status.SCHEDULED, Status.IN_PROGRESS])
                  .filter(no_open_visit()).values("pk"))
    return (with_last_outcome(WorkOrder.objects.filter(organization=organization,
                                                       pk__in=candidates))
            .filter(last_outcome__in=CLOSING_OUTCOMES).values("pk"))


def ready_to_close(organization: Organization) -> QuerySet[WorkOrder]:
    """Work orders whose visits are all finished, the last one done without asking for another
    visit (and nothing changed its status since): the work is done and the office completes
    the job. Oldest finish first."""
    last_finished = Subquery(_last_finished_visit().values("finished_at")[:1])
    return (WorkOrder.objects.filter(organization=organization,
                                     pk__in=ready_to_close_ids(organization))
            .annotate(finished_at=last_finished)
            .select_related("customer", "site")
            .order_by(F("finished_at").asc(nulls_last=True), "number"))


# --- The timeline, read --------------------------------------------------------------------

def labor_that_counts(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """Of ``entries``, the labor entries that count, oldest first: a member's latest labor entry
    on a visit is their labor there (``labor_set`` corrects 60 minutes to 90 with a new entry);
    an entry on no visit counts on its own. The one rule for the timesheet, the job report, the
    invoice draft, the work order page and the phone."""
    latest: dict[tuple, TimelineEntry] = {}
    for entry in entries:
        if entry.kind != EntryKind.LABOR:
            continue
        key = ((entry_data(entry).member_id, entry.visit_id) if entry.visit_id is not None
               else ("entry", entry.pk))
        seen = latest.get(key)
        if seen is None or (seen.created_at, seen.pk) < (entry.created_at, entry.pk):
            latest[key] = entry
    return sorted(latest.values(), key=lambda e: (e.created_at, e.pk))


# The kinds of timeline entry a job report reads; notes only when the customer may see them.
REPORT_KINDS = (EntryKind.NOTE, EntryKind.PHOTO, EntryKind.SIGNATURE, EntryKind.CHECKLIST,
                EntryKind.PART, EntryKind.LABOR)


def report_entries(work_order: WorkOrder) -> QuerySet[TimelineEntry]:
    """The timeline entries a job report shows, oldest first, with authors and renditions.

    Internal notes and internal photos are left out: the report goes to the customer.
    """
    return (TimelineEntry.objects
            .filter(organization_id=work_order.organization_id, work_order=work_order,
                    kind__in=REPORT_KINDS)
            .exclude(kind__in=(EntryKind.NOTE, EntryKind.PHOTO),
                     visibility=Visibility.INTERNAL)
            .select_related("author__user", "rendition")
            .order_by("created_at", "id"))
