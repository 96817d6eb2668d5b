"""Work orders: raising and editing them, and every business status transition (one service
each), called alike by office views, the API and the phone's push. Each records its timeline
entry and an audit log entry in the transaction of the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from crewline.core.audit import audit_record, diff, organization_write_lock, snapshot
from crewline.core.models import Member, Organization
from crewline.customers.models import Customer, Site
from crewline.live import services as live
from crewline.workorders import timeline
from crewline.workorders.models import (
    JobType,
    Priority,
    Status,
    Tag,
    Visit,
    VisitStatus,
    WorkOrder,
    WorkOrderKind,
)
from crewline.workorders.signals import work_order_completed

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
        live.work_order_changed(work_order=wo, event=live.work_order_event(name))
        timeline.status_recorded(work_order=wo, by=by, before=before, action=name,
                                 reason=reason)
        if wo.status == Status.COMPLETED:
            work_order_completed.send(sender=WorkOrder, work_order=wo, by=by)
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
        running = list(wo.visits.filter(status__in=[VisitStatus.EN_ROUTE, VisitStatus.ON_SITE])
                       .prefetch_related("crew"))
        if running:
            Visit.objects.filter(pk__in=[v.pk for v in running]).update(
                status=VisitStatus.DONE, finished_at=now, updated_at=now)
            for visit in running:  # the board, the job's page and the crews' phones
                crew = [m.pk for m in visit.crew.all()]
                live.visit_changed(
                    visit=visit, change="status", tz=wo.organization.tzinfo,
                    before={"start": visit.start, "end": visit.end, "crew": crew,
                            "status": visit.status},
                    after={"start": visit.start, "end": visit.end, "crew": crew,
                           "status": VisitStatus.DONE})
    return wo


def work_order_cancel(*, work_order: WorkOrder, by: Member | None, reason: str) -> WorkOrder:
    """Any open status → cancelled, with a reason. Open visits are cancelled with it."""
    from crewline.workorders.services.visits import visit_cancel  # visits builds on this module

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
        live.work_order_changed(work_order=wo, event="work_order.created")
        if tags:
            wo.tags.set(tags)
        timeline.system_recorded(work_order=wo, by=by, event="created")
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
        live.work_order_changed(work_order=wo)
        if tags is not None:
            for tag in tags:
                _check_scope(org, tags=tag)
            wo.tags.set(tags)
        changed = diff(before, snapshot(wo, EDITABLE_FIELDS))
        if changed:
            audit_record(organization=org, actor=by, action="work_order.update", obj=wo,
                         changes=changed)
            timeline.system_recorded(work_order=wo, by=by, event="edited",
                                     fields=sorted(changed))
    work_order.refresh_from_db()
    return work_order
