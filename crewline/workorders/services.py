"""Writes to work orders, visits and the timeline.

Every status transition has exactly one service here, called alike by office views, the API
and the phone sync endpoint. Each records a timeline entry and an audit log entry in the same
transaction as the change.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from crewline.core.audit import audit_record, diff, organization_write_lock, snapshot
from crewline.core.models import Member, Organization
from crewline.customers.models import Customer, Site
from crewline.workorders.models import (
    OPEN_VISIT_STATUSES,
    EntryKind,
    JobType,
    Priority,
    Status,
    Tag,
    TimelineEntry,
    Visibility,
    Visit,
    VisitOutcome,
    VisitStatus,
    WorkOrder,
    WorkOrderKind,
)
from crewline.workorders.signals import entry_visibility_changed, visit_changed

if TYPE_CHECKING:
    from crewline.scheduling.conflicts import Conflict

EDITABLE_FIELDS = ("customer", "site", "kind", "job_type", "priority", "title", "instructions",
                   "requested_start", "requested_end", "due_date", "tags")


class TransitionError(ValidationError):
    """A status change its guards refuse; the message says why, in the user's words."""


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    label: str


_OPEN = frozenset({Status.NEW, Status.SCHEDULED, Status.IN_PROGRESS, Status.ON_HOLD})

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("schedule", frozenset({Status.NEW}), Status.SCHEDULED,
                   gettext_noop("scheduled")),
        Transition("start", frozenset({Status.NEW, Status.SCHEDULED}), Status.IN_PROGRESS,
                   gettext_noop("started")),
        Transition("hold", frozenset({Status.NEW, Status.SCHEDULED, Status.IN_PROGRESS}),
                   Status.ON_HOLD, gettext_noop("put on hold")),
        Transition("resume", frozenset({Status.ON_HOLD}), Status.IN_PROGRESS,
                   gettext_noop("resumed")),
        Transition("complete", frozenset({Status.SCHEDULED, Status.IN_PROGRESS}),
                   Status.COMPLETED, gettext_noop("completed")),
        Transition("cancel", _OPEN, Status.CANCELLED, gettext_noop("cancelled")),
        Transition("reopen", frozenset({Status.COMPLETED, Status.CANCELLED}), Status.IN_PROGRESS,
                   gettext_noop("reopened")),
        Transition("invoice", frozenset({Status.COMPLETED}), Status.INVOICED,
                   gettext_noop("invoiced")),
    )
}

# Transitions that need a reason from the person making them.
REASON_REQUIRED = frozenset({"hold", "cancel"})


def allowed_transitions(work_order: WorkOrder) -> list[str]:
    """The names of the transitions the work order's current status allows."""
    return [t.name for t in TRANSITIONS.values() if work_order.status in t.sources]


def _lock(work_order: WorkOrder) -> WorkOrder:
    organization_write_lock(work_order.organization_id)
    return WorkOrder.objects.select_for_update(no_key=True).get(pk=work_order.pk)


def _transition(*, work_order: WorkOrder, name: str, by: Member | None, reason: str = "",
                guard: Callable[[WorkOrder], None] | None = None) -> WorkOrder:
    """Apply transition ``name`` under a row lock.

    The status is checked on the locked row (never on the caller's possibly stale instance);
    ``guard`` runs after that check and raises ``TransitionError`` to refuse.
    """
    transition = TRANSITIONS[name]
    with transaction.atomic():
        wo = _lock(work_order)
        if wo.status not in transition.sources:
            raise TransitionError(
                _("A work order that is %(status)s cannot be %(action)s.")
                % {"status": wo.get_status_display().lower(), "action": _(transition.label)},
                code="invalid_transition",
            )
        if guard is not None:
            guard(wo)
        before = wo.status
        target = transition.target
        if name == "resume":
            # Back to where it was before the hold; in progress if that is unknown.
            target = wo.held_from or Status.IN_PROGRESS
        wo.status = target
        wo.status_reason = reason
        wo.status_changed_at = timezone.now()
        fields = ["status", "status_reason", "status_changed_at", "updated_at"]
        if name == "hold":
            wo.held_from = before
            fields.append("held_from")
        elif name == "resume":
            wo.held_from = ""
            fields.append("held_from")
        if wo.status == Status.COMPLETED:
            wo.completed_at = wo.status_changed_at
            fields.append("completed_at")
        elif name == "reopen":
            wo.completed_at = None
            fields.append("completed_at")
        wo.save(update_fields=fields)
        TimelineEntry.objects.create(
            organization_id=wo.organization_id, work_order=wo, kind=EntryKind.STATUS, author=by,
            body=reason, data={"from": before, "to": wo.status, "action": name},
        )
        audit_record(organization=wo.organization, actor=by, action=f"work_order.{name}",
                     obj=wo, changes={"status": [before, wo.status],
                                      **({"reason": [None, reason]} if reason else {})})
    work_order.refresh_from_db()
    return work_order


REASON_MAX_LENGTH = 500


def _require_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for %(what)s.") % {"what": what}},
                              code="reason_required")
    return _check_reason_length(reason)


def _check_reason_length(reason: str) -> str:
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("Keep the reason under %(n)d characters.")
                               % {"n": REASON_MAX_LENGTH}}, code="reason_too_long")
    return reason


def work_order_schedule(*, work_order: WorkOrder, by: Member | None) -> WorkOrder:
    """new → scheduled. Requires at least one open visit with a time."""

    def has_timed_visit(wo: WorkOrder) -> None:
        if not wo.visits.filter(status=VisitStatus.SCHEDULED, start__isnull=False).exists():
            raise TransitionError(_("Add a visit with a date and time before scheduling."),
                                  code="no_visit")

    return _transition(work_order=work_order, name="schedule", by=by, guard=has_timed_visit)


def work_order_start(*, work_order: WorkOrder, by: Member | None) -> WorkOrder:
    """new or scheduled → in progress."""
    return _transition(work_order=work_order, name="start", by=by)


def work_order_hold(*, work_order: WorkOrder, by: Member | None, reason: str) -> WorkOrder:
    """new, scheduled or in progress → on hold, with a reason (waiting for parts, ...)."""
    reason = _require_reason(reason, _("putting the job on hold"))
    return _transition(work_order=work_order, name="hold", by=by, reason=reason)


def work_order_resume(*, work_order: WorkOrder, by: Member | None) -> WorkOrder:
    """on hold → the status it was held from (in progress if that is unknown)."""
    return _transition(work_order=work_order, name="resume", by=by)


def work_order_complete(*, work_order: WorkOrder, by: Member | None) -> WorkOrder:
    """scheduled or in progress → completed. Open visits are marked done."""
    with transaction.atomic():
        wo = _transition(work_order=work_order, name="complete", by=by)
        now = timezone.now()
        wo.visits.filter(status__in=[VisitStatus.EN_ROUTE, VisitStatus.ON_SITE]).update(
            status=VisitStatus.DONE, finished_at=now, updated_at=now)
    return wo


def work_order_cancel(*, work_order: WorkOrder, by: Member | None, reason: str) -> WorkOrder:
    """Any open status → cancelled, with a reason. Open visits are cancelled with it."""
    reason = _require_reason(reason, _("cancelling"))
    with transaction.atomic():
        if work_order.status in TRANSITIONS["cancel"].sources:
            # Through visit_cancel, one visit at a time (while the work order is still open),
            # so that each crew is told and each calendar event is withdrawn.
            for visit in work_order.visits.filter(status__in=[
                    VisitStatus.SCHEDULED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE]):
                visit_cancel(visit=visit, by=by, reason=reason)
        wo = _transition(work_order=work_order, name="cancel", by=by, reason=reason)
    return wo


def work_order_reopen(*, work_order: WorkOrder, by: Member | None, reason: str = "") -> WorkOrder:
    """completed or cancelled → in progress. An invoiced job cannot be reopened."""
    reason = _check_reason_length((reason or "").strip())
    return _transition(work_order=work_order, name="reopen", by=by, reason=reason)


def work_order_invoice(*, work_order: WorkOrder, by: Member | None) -> WorkOrder:
    """completed → invoiced (called by billing when an invoice is issued)."""
    return _transition(work_order=work_order, name="invoice", by=by)


def work_order_transition(*, work_order: WorkOrder, action: str, by: Member | None,
                          reason: str = "") -> WorkOrder:
    """Apply the transition named ``action`` through its own service (one per transition)."""
    services: dict[str, Callable[..., WorkOrder]] = {
        "schedule": work_order_schedule, "start": work_order_start, "hold": work_order_hold,
        "resume": work_order_resume, "complete": work_order_complete,
        "cancel": work_order_cancel, "reopen": work_order_reopen,
        "invoice": work_order_invoice,
    }
    if action not in services:
        raise TransitionError(_("Unknown action."), code="unknown_action")
    kwargs: dict = {"work_order": work_order, "by": by}
    if action in REASON_REQUIRED or action == "reopen":
        kwargs["reason"] = reason
    return services[action](**kwargs)


def _next_number(organization: Organization) -> int:
    Organization.objects.filter(pk=organization.pk).update(
        next_work_order_number=F("next_work_order_number") + 1)
    return Organization.objects.values_list("next_work_order_number", flat=True).get(
        pk=organization.pk) - 1


def _check_scope(organization: Organization, **objects) -> None:
    for label, obj in objects.items():
        if obj is not None and obj.organization_id != organization.pk:
            raise ValidationError({label: _("Not found in this organization.")})


def _validate_window(start: dt.datetime | None, end: dt.datetime | None, field: str) -> None:
    for value in (start, end):
        if value is not None and timezone.is_naive(value):
            raise ValueError("Times must be timezone-aware.")
    if start and end and end <= start:
        raise ValidationError({field: _("The end must be after the start.")})


def work_order_create(
    *,
    organization: Organization,
    by: Member | None,
    customer: Customer,
    title: str,
    site: Site | None = None,
    kind: str = WorkOrderKind.REACTIVE,
    job_type: JobType | None = None,
    priority: int = Priority.NORMAL,
    instructions: str = "",
    requested_start: dt.datetime | None = None,
    requested_end: dt.datetime | None = None,
    due_date: dt.date | None = None,
    tags: Iterable[Tag] = (),
) -> WorkOrder:
    """Raise a work order with the organization's next number."""
    _check_scope(organization, customer=customer, site=site, job_type=job_type)
    if site is not None and site.customer_id != customer.pk:
        raise ValidationError({"site": _("This site belongs to another customer.")})
    _validate_window(requested_start, requested_end, "requested_end")
    tags = list(tags)
    for tag in tags:
        _check_scope(organization, tags=tag)
    with transaction.atomic():
        wo = WorkOrder(
            organization=organization, number=_next_number(organization), customer=customer,
            site=site, kind=kind, job_type=job_type, priority=priority, title=title.strip(),
            instructions=instructions, requested_start=requested_start,
            requested_end=requested_end, due_date=due_date, created_by=by,
        )
        wo.full_clean(exclude=["organization", "number", "customer", "site", "job_type",
                               "created_by"])
        wo.save(force_insert=True)
        if tags:
            wo.tags.set(tags)
        TimelineEntry.objects.create(
            organization=organization, work_order=wo, kind=EntryKind.SYSTEM, author=by,
            data={"event": "created"},
        )
        audit_record(organization=organization, actor=by, action="work_order.create", obj=wo,
                     changes=diff({}, snapshot(wo, EDITABLE_FIELDS)))
    return wo


def work_order_update(*, work_order: WorkOrder, by: Member | None, **changes) -> WorkOrder:
    """Edit the fields in ``EDITABLE_FIELDS``; status changes go through the transitions."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable here: {', '.join(sorted(unknown))}")
    org = work_order.organization
    _check_scope(org, customer=changes.get("customer"), site=changes.get("site"),
                 job_type=changes.get("job_type"))
    with transaction.atomic():
        wo = _lock(work_order)
        before = snapshot(wo, EDITABLE_FIELDS)
        tags = changes.pop("tags", None)
        for name, value in changes.items():
            setattr(wo, name, value)
        if wo.site_id and wo.site.customer_id != wo.customer_id:
            raise ValidationError({"site": _("This site belongs to another customer.")})
        _validate_window(wo.requested_start, wo.requested_end, "requested_end")
        wo.full_clean(exclude=["organization", "number", "customer", "site", "job_type",
                               "created_by"])
        wo.save(update_fields=[*changes, "updated_at"])
        if tags is not None:
            for tag in tags:
                _check_scope(org, tags=tag)
            wo.tags.set(tags)
        changed = diff(before, snapshot(wo, EDITABLE_FIELDS))
        if changed:
            audit_record(organization=org, actor=by, action="work_order.update", obj=wo,
                         changes=changed)
            TimelineEntry.objects.create(
                organization=org, work_order=wo, kind=EntryKind.SYSTEM, author=by,
                data={"event": "edited", "fields": sorted(changed)},
            )
    work_order.refresh_from_db()
    return work_order


# Set by a caller that wraps each service call in a savepoint of its own and rolls back to it
# on any error, IntegrityError included (the technician app's push): the services below then
# skip their own savepoint, and leave an IntegrityError to that caller.
caller_savepoint: ContextVar[bool] = ContextVar("caller_savepoint", default=False)


def _atomic():
    """A savepoint, unless the caller holds one (``caller_savepoint``)."""
    return transaction.atomic(savepoint=not caller_savepoint.get())


def note_add(*, work_order: WorkOrder, by: Member | None, body: str,
             visibility: str = Visibility.INTERNAL, visit: Visit | None = None,
             client_id: uuid.UUID | None = None,
             device_time: dt.datetime | None = None) -> TimelineEntry:
    """Append a note. With a ``client_id`` already used, returns the existing entry."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write something before adding the note.")})
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who may see the note.")})
    # Insert first and look for an earlier copy only when the unique client id refuses it:
    # resends are rare, so the usual case costs one query less.
    own_savepoint = not caller_savepoint.get()
    try:
        with transaction.atomic(savepoint=own_savepoint):
            entry = TimelineEntry.objects.create(
                organization_id=work_order.organization_id, work_order=work_order, visit=visit,
                kind=EntryKind.NOTE, author=by, body=body, visibility=visibility,
                client_id=client_id, device_time=device_time,
            )
            audit_record(organization=work_order.organization, actor=by, action="note.add",
                         obj=work_order, changes={"note": [None, body[:500]],
                                                  "visibility": [None, visibility]})
    except IntegrityError:
        # Sent before (or twice at once): the entry with this client id is the answer.
        if client_id is None or not own_savepoint:
            raise
        existing = TimelineEntry.objects.get(organization_id=work_order.organization_id,
                                             client_id=client_id)
        if existing.kind != EntryKind.NOTE or existing.author_id != (by.pk if by else None):
            # Someone else's entry is never answered as this one's.
            raise ValidationError(_("This change's id is already used by another entry."),
                                  code="client_id_taken") from None
        return existing
    return entry


def attachment_add(*, work_order: WorkOrder, by: Member | None, file: UploadedFile,
                   visibility: str = Visibility.INTERNAL, caption: str = "") -> TimelineEntry:
    """Attach a file to the job. Images become photo entries."""
    from django.conf import settings

    if file.size is not None and file.size > settings.MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": _("Files may be at most %(mb)d MB.")
                               % {"mb": settings.MAX_ATTACHMENT_BYTES // (1024 * 1024)}})
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who may see the file.")})
    content_type = getattr(file, "content_type", "") or ""
    kind = EntryKind.PHOTO if content_type.startswith("image/") else EntryKind.FILE
    name = (file.name or "file").rsplit("/", 1)[-1][:200]
    with transaction.atomic():
        entry = TimelineEntry(
            organization_id=work_order.organization_id, work_order=work_order, kind=kind,
            author=by, body=caption.strip(), visibility=visibility, attachment_name=name,
            attachment_size=file.size, attachment_type=content_type[:100],
        )
        entry.attachment.save(name, file, save=False)
        entry.save(force_insert=True)
        audit_record(organization=work_order.organization, actor=by, action="attachment.add",
                     obj=work_order, changes={"file": [None, name]})
    return entry


# Entries whose audience the office may change; signatures are always the customer's.
SHAREABLE_KINDS = (EntryKind.NOTE, EntryKind.PHOTO, EntryKind.FILE)
VISIBILITY_EVENTS = {
    (EntryKind.NOTE, Visibility.CUSTOMER): gettext_noop("shared a note with the customer"),
    (EntryKind.NOTE, Visibility.INTERNAL): gettext_noop("made a note internal"),
    (EntryKind.PHOTO, Visibility.CUSTOMER): gettext_noop("shared a photo with the customer"),
    (EntryKind.PHOTO, Visibility.INTERNAL): gettext_noop("made a photo internal"),
    (EntryKind.FILE, Visibility.CUSTOMER): gettext_noop("shared a file with the customer"),
    (EntryKind.FILE, Visibility.INTERNAL): gettext_noop("made a file internal"),
}


def entry_visibility_set(*, entry: TimelineEntry, visibility: str,
                         by: Member | None) -> TimelineEntry:
    """Let the customer see a note, photo or file of the job, or keep it internal again.

    The one change an entry takes after it is written: the timeline records who changed it
    (a system entry), the audit log the before and after, and ``entry_visibility_changed``
    is sent (the job report makes a new version). Setting what it already is changes nothing.
    """
    if entry.kind not in SHAREABLE_KINDS:
        raise ValidationError(_("Only notes, photos and files can be shared with the customer "
                                "or kept internal."), code="not_shareable")
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who may see it.")})
    with transaction.atomic():
        organization_write_lock(entry.organization_id)
        locked = (TimelineEntry.objects.select_for_update(of=("self",))
                  .select_related("work_order__organization").get(pk=entry.pk))
        before = locked.visibility
        if before != visibility:
            locked.visibility = visibility
            locked.save(update_fields=["visibility"])
            wo = locked.work_order
            TimelineEntry.objects.create(
                organization_id=wo.organization_id, work_order=wo, visit_id=locked.visit_id,
                kind=EntryKind.SYSTEM, author=by,
                body=_(VISIBILITY_EVENTS[(locked.kind, visibility)]),
                data={"event": "visibility", "entry": locked.pk, "kind": locked.kind,
                      "from": before, "to": visibility},
            )
            audit_record(organization=wo.organization, actor=by, action="timeline.visibility",
                         obj=wo, changes={"entry": [None, locked.pk],
                                          "visibility": [before, visibility]})
            entry_visibility_changed.send(sender=TimelineEntry, entry=locked, by=by,
                                          before=before)
    entry.visibility = visibility
    return entry


VISIT_FIELDS = ("start", "end", "crew", "notes", "status")


class ConflictError(ValidationError):
    """Scheduling conflicts (double booking, time off, ...) that the caller may override.

    ``conflicts`` holds the ``crewline.scheduling.conflicts.Conflict`` objects; the messages
    are this error's messages. Call the service again with ``override=True`` to go ahead.
    """

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__([c.message for c in conflicts], code="conflict")
        self.conflicts = list(conflicts)


def _check_crew(organization: Organization, crew: list[Member]) -> None:
    for person in crew:
        _check_scope(organization, crew=person)
        if not person.is_active:
            raise ValidationError({"crew": _("%(name)s is no longer active.")
                                   % {"name": person.name}})


def _lock_members(crew: list[Member]) -> None:
    """Lock the crew's member rows, in id order, so that two dispatchers cannot book the same
    person at the same time past each other's conflict check."""
    if crew:
        organization_write_lock(crew[0].organization_id)
        list(Member.objects.select_for_update(no_key=True).filter(pk__in=[m.pk for m in crew])
             .order_by("pk").values_list("pk", flat=True))


def _visit_state(visit: Visit, crew_ids: Iterable[int]) -> dict:
    """The ``before``/``after`` shape of ``visit_changed``."""
    return {"start": visit.start, "end": visit.end, "crew": sorted(crew_ids),
            "status": visit.status}


def _conflict_changes(conflicts: list[Conflict], override: bool) -> dict:
    if not (override and conflicts):
        return {}
    return {"override": [None, True], "conflicts": [None, [c.message for c in conflicts]]}


def _window_text(organization: Organization, start: dt.datetime | None,
                 end: dt.datetime | None) -> str:
    """"Tue 3 Jun 09:00–10:00" in the organization's time zone (both dates when they differ)."""
    from django.utils.formats import date_format

    if start is None or end is None:
        return _("no time")
    tz = organization.tzinfo
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = date_format(local_start.date(), "D j M")
    if local_start.date() == local_end.date():
        return f"{day} {local_start:%H:%M}–{local_end:%H:%M}"
    return f"{day} {local_start:%H:%M} – {date_format(local_end.date(), 'D j M')} " \
           f"{local_end:%H:%M}"


def visit_add(*, work_order: WorkOrder, by: Member | None, start: dt.datetime | None,
              end: dt.datetime | None, crew: Iterable[Member] = (), notes: str = "",
              override: bool = False) -> Visit:
    """Add a visit. A new work order with a timed visit becomes scheduled.

    Raises ``ConflictError`` when the crew is double-booked, off, outside their hours, short of
    a required skill or of travel time, unless ``override``; the audit entry then records the
    override and the conflicts. Sends ``visit_changed`` with change "added".
    """
    from crewline.scheduling.conflicts import check_conflicts

    if (start is None) != (end is None):
        raise ValidationError({"end": _("Give both a start and an end, or neither.")})
    _validate_window(start, end, "end")
    crew = list(crew)
    _check_crew(work_order.organization, crew)
    with transaction.atomic():
        locked = _lock(work_order)
        if not locked.is_open:
            raise ValidationError(_("Visits can only be added to open work orders."))
        _lock_members(crew)
        conflicts = []
        if crew:
            conflicts = check_conflicts(
                organization=work_order.organization, start=start, end=end, crew=crew,
                site=locked.site, required_skills=list(locked.required_skills.all()))
        if conflicts and not override:
            raise ConflictError(conflicts)
        visit = Visit.objects.create(organization_id=work_order.organization_id,
                                     work_order=work_order, start=start, end=end, notes=notes)
        visit.crew.set(crew)
        TimelineEntry.objects.create(
            organization_id=work_order.organization_id, work_order=work_order, visit=visit,
            kind=EntryKind.SCHEDULE, author=by,
            data={"event": "visit_added", "start": start and start.isoformat(),
                  "end": end and end.isoformat(), "crew": [m.name for m in crew]},
        )
        audit_record(organization=work_order.organization, actor=by, action="visit.add",
                     obj=visit, changes={**diff({}, snapshot(visit, VISIT_FIELDS)),
                                         **_conflict_changes(conflicts, override)})
        visit_changed.send(sender=Visit, visit=visit, by=by, change="added", before={},
                           after=_visit_state(visit, [m.pk for m in crew]))
        work_order.refresh_from_db(fields=["status"])
        if work_order.status == Status.NEW and start is not None:
            work_order_schedule(work_order=work_order, by=by)
    return visit


CLOSED_VISIT_MESSAGE = gettext_noop("This visit is %(status)s; it can no longer be changed.")


def _lock_visit(visit: Visit, related: tuple[str, ...] = ("work_order", "work_order__site",
                                                         "work_order__organization")) -> Visit:
    """The visit, locked, with its work order; refuses closed visits and closed work orders."""
    organization_write_lock(visit.organization_id)
    locked = (Visit.objects.select_for_update(of=("self",), no_key=True)
              .select_related(*related)
              .get(pk=visit.pk))
    if not locked.is_open:
        raise ValidationError(_(CLOSED_VISIT_MESSAGE)
                              % {"status": locked.get_status_display().lower()},
                              code="visit_closed")
    if not locked.work_order.is_open:
        raise ValidationError(
            _("The work order is %(status)s; its visits can no longer be changed.")
            % {"status": locked.work_order.get_status_display().lower()},
            code="work_order_closed")
    return locked


def visit_schedule(*, visit: Visit, start: dt.datetime, end: dt.datetime,
                   crew: list[Member] | None = None, by: Member | None,
                   override: bool = False) -> Visit:
    """Give a visit a time and a crew: assign, move or resize it (``crew=None`` keeps the crew).

    Refuses closed visits (done, cancelled, incomplete) and visits of closed work orders.
    Raises ``ConflictError`` unless ``override``, in which case the audit entry records the
    override and the conflicts' messages. A change raises ``Visit.sequence``, writes a schedule
    entry on the timeline and an audit entry, and sends ``visit_changed`` once, with change
    "assigned" (the crew was empty), "crew_changed", "moved" (the start changed) or "resized"
    (only the end changed), in that order of precedence; ``before``/``after`` carry everything.
    A new work order becomes scheduled when its visit gets a time. Changing nothing is a no-op.
    """
    from crewline.scheduling.conflicts import check_conflicts

    if start is None or end is None:
        raise ValidationError({"end": _("Give both a start and an end.")})
    _validate_window(start, end, "end")
    if crew is not None:
        crew = list(crew)
        _check_crew(visit.organization, crew)
    with transaction.atomic():
        locked = _lock_visit(visit)
        wo = locked.work_order
        org = wo.organization
        old_crew = list(locked.crew.select_related("user").order_by("pk"))
        new_crew = crew if crew is not None else old_crew
        before = _visit_state(locked, [m.pk for m in old_crew])
        after = {**before, "start": start, "end": end, "crew": sorted(m.pk for m in new_crew)}
        if after == before:
            visit.refresh_from_db()
            return visit
        _lock_members(new_crew)
        conflicts = check_conflicts(organization=org, start=start, end=end, crew=new_crew,
                                    visit=locked)
        if conflicts and not override:
            raise ConflictError(conflicts)

        audit_before = snapshot(locked, VISIT_FIELDS)
        locked.start, locked.end = start, end
        locked.sequence += 1
        locked.save(update_fields=["start", "end", "sequence", "updated_at"])
        if crew is not None:
            locked.crew.set(new_crew)

        if not before["crew"] and after["crew"]:
            change = "assigned"
        elif before["crew"] != after["crew"]:
            change = "crew_changed"
        elif before["start"] != start:
            change = "moved"
        else:
            change = "resized"

        old_window = _window_text(org, before["start"], before["end"])
        new_window = _window_text(org, start, end)
        parts = []
        if before["start"] is None:
            parts.append(_("scheduled for %(new)s") % {"new": new_window})
        elif before["start"] != start:
            parts.append(_("moved from %(old)s to %(new)s") % {"old": old_window,
                                                                 "new": new_window})
        elif before["end"] != end:
            parts.append(_("changed from %(old)s to %(new)s") % {"old": old_window,
                                                                   "new": new_window})
        old_ids = set(before["crew"])
        new_ids = set(after["crew"])
        added = sorted(m.name for m in new_crew if m.pk not in old_ids)
        removed = sorted(m.name for m in old_crew if m.pk not in new_ids)
        if added:
            parts.append(_("added %(names)s") % {"names": ", ".join(added)})
        if removed:
            parts.append(_("removed %(names)s") % {"names": ", ".join(removed)})
        TimelineEntry.objects.create(
            organization_id=locked.organization_id, work_order=wo, visit=locked,
            kind=EntryKind.SCHEDULE, author=by, body="; ".join(parts),
            data={"event": f"visit_{change}", "start": start.isoformat(),
                  "end": end.isoformat(), "crew": [m.name for m in new_crew],
                  "from_start": before["start"] and before["start"].isoformat(),
                  "from_end": before["end"] and before["end"].isoformat()},
        )
        audit_record(organization=org, actor=by, action="visit.schedule", obj=locked,
                     changes={**diff(audit_before, snapshot(locked, VISIT_FIELDS)),
                              **_conflict_changes(conflicts, override)})
        visit_changed.send(sender=Visit, visit=locked, by=by, change=change, before=before,
                           after=after)
        if wo.status == Status.NEW and locked.status == VisitStatus.SCHEDULED:
            work_order_schedule(work_order=wo, by=by)
    visit.refresh_from_db()
    return visit


def visit_cancel(*, visit: Visit, by: Member | None, reason: str) -> Visit:
    """Cancel an open visit, with a reason; the work order's status is left to the office."""
    reason = _require_reason(reason, _("cancelling the visit"))
    with transaction.atomic():
        locked = _lock_visit(visit)
        crew_ids = list(locked.crew.values_list("pk", flat=True))
        before = _visit_state(locked, crew_ids)
        locked.status = VisitStatus.CANCELLED
        locked.sequence += 1
        locked.save(update_fields=["status", "sequence", "updated_at"])
        TimelineEntry.objects.create(
            organization_id=locked.organization_id, work_order=locked.work_order, visit=locked,
            kind=EntryKind.VISIT_STATUS, author=by, body=reason,
            data={"from": before["status"], "to": VisitStatus.CANCELLED},
        )
        audit_record(organization=locked.work_order.organization, actor=by,
                     action="visit.cancel", obj=locked,
                     changes={"status": [before["status"], VisitStatus.CANCELLED],
                              "reason": [None, reason]})
        visit_changed.send(sender=Visit, visit=locked, by=by, change="cancelled",
                           before=before, after=_visit_state(locked, crew_ids))
    visit.refresh_from_db()
    return visit


# --- Visit dispatch status: on the way, on site, pause, resume, done, could not complete ------
# One service per transition, called by the phone's sync endpoint and by the office alike. A
# pause is not a status of its own: the visit stays on site, and whether it is paused follows
# from its latest pause or resume entry on the timeline.

VISIT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "en_route": (frozenset({VisitStatus.SCHEDULED}), VisitStatus.EN_ROUTE),
    "arrive": (frozenset({VisitStatus.SCHEDULED, VisitStatus.EN_ROUTE}), VisitStatus.ON_SITE),
    "pause": (frozenset({VisitStatus.ON_SITE}), VisitStatus.ON_SITE),
    "resume": (frozenset({VisitStatus.ON_SITE}), VisitStatus.ON_SITE),
    "complete": (frozenset({VisitStatus.ON_SITE}), VisitStatus.DONE),
    "incomplete": (frozenset({VisitStatus.EN_ROUTE, VisitStatus.ON_SITE}),
                   VisitStatus.INCOMPLETE),
}


def visit_is_paused(visit: Visit) -> bool:
    """Whether the visit's latest pause or resume entry is a pause."""
    # A visit has a few status entries: reading them costs less than a JSON lookup in SQL.
    for data in (TimelineEntry.objects.filter(visit=visit, kind=EntryKind.VISIT_STATUS)
                 .order_by("-id").values_list("data", flat=True)):
        event = data.get("event") if isinstance(data, dict) else None
        if event in ("pause", "resume"):
            return event == "pause"
    return False


def _visit_transition(*, visit: Visit, event: str, by: Member | None,
                      device_time: dt.datetime | None, reason: str = "",
                      before_save: Callable[[Visit], None] | None = None,
                      outcome: str = "") -> Visit:
    sources, target = VISIT_TRANSITIONS[event]
    if device_time is not None and timezone.is_naive(device_time):
        raise ValueError("Times must be timezone-aware.")
    with _atomic():
        # What the timeline entry, the audit record and the receivers use: not the site.
        locked = _lock_visit(visit, related=("work_order__organization",))
        # One query for the crew (its ids, from the link table): who may act, and the
        # before/after state.
        crew_ids = list(Visit.crew.through.objects.filter(visit_id=locked.pk)
                        .values_list("member_id", flat=True))
        if by is not None and not by.is_office and by.pk not in crew_ids:
            raise PermissionDenied(_("You are not on this visit's crew."))
        if locked.status not in sources:
            raise ValidationError(
                _("This visit is %(status)s; it cannot be marked %(action)s.")
                % {"status": locked.get_status_display().lower(),
                   "action": _(VISIT_EVENT_LABELS[event])},
                code="invalid_visit_transition")
        paused = visit_is_paused(locked) if locked.status == VisitStatus.ON_SITE else False
        if event == "pause" and paused:
            raise ValidationError(_("This visit is already paused."), code="paused")
        if event == "resume" and not paused:
            raise ValidationError(_("This visit is not paused."), code="not_paused")
        if before_save is not None:
            before_save(locked)
        before = _visit_state(locked, crew_ids)
        now = timezone.now()
        fields = ["updated_at"]
        if target != locked.status:
            locked.status = target
            locked.sequence += 1
            fields += ["status", "sequence"]
        if event == "arrive":
            locked.arrived_at = device_time or now
            fields.append("arrived_at")
        elif event in ("complete", "incomplete"):
            locked.finished_at = device_time or now
            fields.append("finished_at")
        if event == "complete":
            locked.outcome = outcome
            locked.outcome_reason = reason if outcome == VisitOutcome.ANOTHER_VISIT else ""
            fields += ["outcome", "outcome_reason"]
        locked.save(update_fields=fields)
        TimelineEntry.objects.create(
            organization_id=locked.organization_id, work_order=locked.work_order, visit=locked,
            kind=EntryKind.VISIT_STATUS, author=by, body=reason, device_time=device_time,
            created_at=now,
            data={"event": event, "from": before["status"], "to": locked.status,
                  **({"paused": True} if event == "complete" and paused else {}),
                  **({"outcome": outcome} if outcome else {})},
        )
        audit_record(organization=locked.work_order.organization, actor=by,
                     action=f"visit.{event}", obj=locked,
                     changes={"status": [before["status"], locked.status],
                              "device_time": [None, device_time],
                              **({"outcome": [None, outcome]} if outcome else {}),
                              **({"reason": [None, reason]} if reason else {})})
        visit_changed.send(sender=Visit, visit=locked, by=by, change="status", before=before,
                           after=_visit_state(locked, crew_ids))
        wo = locked.work_order
        if event in ("en_route", "arrive") and wo.status in (Status.NEW, Status.SCHEDULED):
            work_order_start(work_order=wo, by=by)
    _copy_saved(locked, visit)
    return visit


def _copy_saved(locked: Visit, visit: Visit) -> None:
    """``visit.refresh_from_db()`` without the query: the locked copy holds what was saved."""
    for f in Visit._meta.concrete_fields:
        value = getattr(locked, f.attname)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)  # as read back from the database
        setattr(visit, f.attname, value)
        if f.is_relation and f.is_cached(visit):
            f.delete_cached_value(visit)
    for rel in Visit._meta.related_objects:
        if rel.is_cached(visit):
            rel.delete_cached_value(visit)
    visit._prefetched_objects_cache = {}
    visit._state.db = locked._state.db


VISIT_EVENT_LABELS = {
    "en_route": gettext_noop("on the way"),
    "arrive": gettext_noop("arrived"),
    "pause": gettext_noop("paused"),
    "resume": gettext_noop("resumed"),
    "complete": gettext_noop("completed"),
    "incomplete": gettext_noop("could not complete"),
}


def visit_en_route(*, visit: Visit, by: Member | None,
                   device_time: dt.datetime | None = None) -> Visit:
    """scheduled → on the way. Starts a new or scheduled work order."""
    return _visit_transition(visit=visit, event="en_route", by=by, device_time=device_time)


def visit_arrive(*, visit: Visit, by: Member | None,
                 device_time: dt.datetime | None = None) -> Visit:
    """scheduled or on the way → on site; ``arrived_at`` is the device's time when given."""
    return _visit_transition(visit=visit, event="arrive", by=by, device_time=device_time)


def visit_pause(*, visit: Visit, by: Member | None,
                device_time: dt.datetime | None = None) -> Visit:
    """Pause work on site (waiting for the customer, fetching parts); refused when paused."""
    return _visit_transition(visit=visit, event="pause", by=by, device_time=device_time)


def visit_resume(*, visit: Visit, by: Member | None,
                 device_time: dt.datetime | None = None) -> Visit:
    """Resume paused work on site; refused when not paused."""
    return _visit_transition(visit=visit, event="resume", by=by, device_time=device_time)


def visit_completion_problems(visit: Visit) -> list[str]:
    """What the organization requires before completion that this visit lacks, in words.

    Required checklist items of the work order need an answer on this visit; a signature on
    this visit is required when the organization's field settings ask for one.
    """
    from crewline.field.selectors import field_settings_for

    problems: list[str] = []
    checklist = visit.work_order.checklist or []
    required = {i: item for i, item in enumerate(checklist)
                if isinstance(item, dict) and item.get("required")}
    if required:
        answered: dict[int, object] = {}
        for data in (TimelineEntry.objects.filter(visit=visit, kind=EntryKind.CHECKLIST)
                     .order_by("id").values_list("data", flat=True)):
            answered[data.get("index")] = data.get("answer")
        missing = [item.get("label", "") for i, item in required.items()
                   if answered.get(i) in (None, "")]
        if missing:
            problems.append(_("Answer the required checklist items: %(items)s.")
                            % {"items": ", ".join(missing)})
    settings = field_settings_for(visit.organization_id)
    if settings.require_signature and not TimelineEntry.objects.filter(
            visit=visit, kind=EntryKind.SIGNATURE).exists():
        problems.append(_("Get the customer's signature before completing."))
    return problems


def visit_complete(*, visit: Visit, by: Member | None,
                   device_time: dt.datetime | None = None, outcome: str = "",
                   reason: str = "") -> Visit:
    """on site → done. Refused while the organization's requirements are not met (see
    ``visit_completion_problems``).

    ``outcome`` is what the technician says of the job on its last open visit:

    - ``"job_complete"``: the work order is completed (``work_order_complete``, the office's
      own service: the job report follows) when the organization lets the technician close
      jobs and no other visit of it is open; otherwise it waits for the office, ready to close;
    - ``"another_visit"``, with a ``reason``: the work order stays open and goes back to the
      office's queue with that reason;
    - blank: nothing said; a work order with no open visit left then shows as ready to close.
    """
    if outcome not in ("", *VisitOutcome.values):
        raise ValidationError({"outcome": _("Say whether the job is complete or needs "
                                            "another visit.")}, code="bad_outcome")
    if outcome == VisitOutcome.ANOTHER_VISIT:
        reason = _require_reason(reason, _("another visit"))
    else:
        reason = _check_reason_length((reason or "").strip())

    def requirements(locked: Visit) -> None:
        problems = visit_completion_problems(locked)
        if problems:
            raise ValidationError(" ".join(problems), code="requirements")

    with _atomic():
        visit = _visit_transition(visit=visit, event="complete", by=by,
                                  device_time=device_time, reason=reason,
                                  before_save=requirements, outcome=outcome)
        if outcome == VisitOutcome.JOB_COMPLETE and technician_closes_jobs(visit.organization_id):
            wo = WorkOrder.objects.get(pk=visit.work_order_id)
            open_visits = Visit.objects.filter(work_order_id=wo.pk,
                                               status__in=OPEN_VISIT_STATUSES)
            # On hold or another trip booked meanwhile: the office decides.
            if "complete" in allowed_transitions(wo) and not open_visits.exists():
                work_order_complete(work_order=wo, by=by)
    return visit


def technician_closes_jobs(organization_id: int) -> bool:
    """Whether the technician's "job complete" completes the work order (the organization's
    field settings), rather than leaving it ready for the office to close."""
    from crewline.field.models import JobsClosedBy
    from crewline.field.selectors import field_settings_for

    return field_settings_for(organization_id).jobs_closed_by == JobsClosedBy.TECHNICIAN


def visit_incomplete(*, visit: Visit, by: Member | None, reason: str,
                     device_time: dt.datetime | None = None) -> Visit:
    """on the way or on site → could not complete, with a reason.

    Raises a follow-up for the office: the work order goes on hold with the reason (when its
    status allows) and a system entry on the timeline says which visit needs one.
    """
    reason = _require_reason(reason, _("not completing the visit"))
    with _atomic():
        visit = _visit_transition(visit=visit, event="incomplete", by=by,
                                  device_time=device_time, reason=reason)
        wo = WorkOrder.objects.get(pk=visit.work_order_id)
        TimelineEntry.objects.create(
            organization_id=wo.organization_id, work_order=wo, visit=visit,
            kind=EntryKind.SYSTEM, author=by, body=reason,
            data={"event": "follow_up", "visit": visit.pk},
        )
        if "hold" in allowed_transitions(wo):
            work_order_hold(work_order=wo, by=by, reason=reason)
    return visit
