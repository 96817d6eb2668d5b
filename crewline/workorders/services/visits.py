"""Visits: adding, scheduling and cancelling them, and their dispatch status (on the way, on
site, pause, resume, done, could not complete), one service per transition, called by the
office's pages, the board and the phone's push alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from crewline.core.audit import audit_record, diff, organization_write_lock, snapshot
from crewline.core.db import savepoint
from crewline.core.models import Member, Organization
from crewline.live import services as changes
from crewline.workorders import timeline
from crewline.workorders.models import (
    OPEN_VISIT_STATUSES,
    EntryKind,
    Status,
    TimelineEntry,
    Visit,
    VisitOutcome,
    VisitStatus,
    WorkOrder,
)
from crewline.workorders.services.work_orders import (
    _check_reason_length,
    _check_scope,
    _lock,
    _require_reason,
    _validate_window,
    allowed_transitions,
    work_order_complete,
    work_order_hold,
    work_order_schedule,
    work_order_start,
)
from crewline.workorders.signals import visit_changed, visit_follow_up, work_order_ready_to_close

if TYPE_CHECKING:
    from crewline.scheduling.conflicts import Conflict


VISIT_FIELDS = ("start", "end", "crew", "notes", "status")


def _changed(*, visit: Visit, by: Member | None, change: str, before: dict, after: dict) -> None:
    """After a visit changed, in its transaction: the change log (the job's page, the lists,
    the board's days, the crews' phones) and ``visit_changed`` (who is told)."""
    changes.visit_changed(visit=visit, change=change, before=before, after=after,
                          tz=_organization(visit, by).tzinfo)
    visit_changed.send(sender=Visit, visit=visit, by=by, change=change, before=before,
                       after=after)


def _organization(visit: Visit, by: Member | None) -> Organization:
    """The visit's organization, from what is loaded already when it is (no query)."""
    for holder in (visit, visit.work_order if Visit.work_order.is_cached(visit) else None, by):
        org = holder and holder._state.fields_cache.get("organization")
        if org is not None and org.pk == visit.organization_id:
            return org
    return Organization.objects.get(pk=visit.organization_id)


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
        timeline.schedule_recorded(visit=visit, by=by, event="visit_added",
                                   crew=[m.name for m in crew])
        audit_record(organization=work_order.organization, actor=by, action="visit.add",
                     obj=visit, changes={**diff({}, snapshot(visit, VISIT_FIELDS)),
                                         **_conflict_changes(conflicts, override)})
        _changed(visit=visit, by=by, change="added", before={},
                           after=_visit_state(visit, [m.pk for m in crew]))
        work_order.refresh_from_db(fields=["status"])
        if work_order.status == Status.NEW and start is not None:
            work_order_schedule(work_order=work_order, by=by)
    return visit


CLOSED_VISIT_MESSAGE = gettext_noop("This visit is %(status)s; it can no longer be changed.")


def _lock_visit(visit: Visit, related: tuple[str, ...] = ("work_order", "work_order__site",
                                                         "work_order__organization")) -> Visit:
    """The visit, locked, with its work order; refuses closed visits and closed work orders.

    The organization comes with the work order (``work_order__organization`` in ``related``),
    or is the caller's own when ``visit`` carries it (the phone's push hands in its member's,
    which the rest of the request uses too): nothing here changes that row, and a join would
    not read it under the lock either."""
    organization_write_lock(visit.organization_id)
    organization = Visit.organization.field.get_cached_value(visit, None)
    if organization is not None and organization.pk == visit.organization_id:
        related = tuple(r for r in related if r != "work_order__organization") or ("work_order",)
    else:
        organization = None
    locked = (Visit.objects.select_for_update(of=("self",), no_key=True)
              .select_related(*related)
              .get(pk=visit.pk))
    if organization is not None:
        WorkOrder.organization.field.set_cached_value(locked.work_order, organization)
        Visit.organization.field.set_cached_value(locked, organization)
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
        timeline.schedule_recorded(visit=locked, by=by, event=f"visit_{change}",
                                   crew=[m.name for m in new_crew], body="; ".join(parts),
                                   from_start=before["start"], from_end=before["end"])
        audit_record(organization=org, actor=by, action="visit.schedule", obj=locked,
                     changes={**diff(audit_before, snapshot(locked, VISIT_FIELDS)),
                              **_conflict_changes(conflicts, override)})
        _changed(visit=locked, by=by, change=change, before=before,
                           after=after)
        if wo.status == Status.NEW and locked.status == VisitStatus.SCHEDULED:
            work_order_schedule(work_order=wo, by=by)
    visit.refresh_from_db()
    return visit


def visit_lock_set(*, visit: Visit, locked: bool, by: Member) -> Visit:
    """Keep an open visit in place when the day is planned (``locked``), or let the planner
    move it again; the office's, audited. Changing nothing is a no-op."""
    if by.organization_id != visit.organization_id or not by.is_office:
        raise PermissionDenied(_("Only the office keeps a visit in place."))
    with transaction.atomic():
        locked_visit = _lock_visit(visit)
        if locked_visit.locked == locked:
            return locked_visit
        locked_visit.locked = locked
        locked_visit.save(update_fields=["locked", "updated_at"])
        audit_record(organization=locked_visit.work_order.organization, actor=by,
                     action="visit.lock" if locked else "visit.unlock", obj=locked_visit,
                     changes={"locked": [not locked, locked]})
        changes.visit_changed(visit=locked_visit, change="locked", before={}, after={},
                              tz=locked_visit.work_order.organization.tzinfo)
    visit.locked = locked
    return locked_visit


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
        timeline.visit_status_recorded(visit=locked, by=by, event="cancel",
                                       before=before["status"], reason=reason)
        audit_record(organization=locked.work_order.organization, actor=by,
                     action="visit.cancel", obj=locked,
                     changes={"status": [before["status"], VisitStatus.CANCELLED],
                              "reason": [None, reason]})
        _changed(visit=locked, by=by, change="cancelled",
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
    with savepoint():
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
        timeline.visit_status_recorded(visit=locked, by=by, event=event,
                                       before=before["status"], reason=reason,
                                       device_time=device_time, created_at=now,
                                       paused=event == "complete" and paused, outcome=outcome)
        audit_record(organization=locked.work_order.organization, actor=by,
                     action=f"visit.{event}", obj=locked,
                     changes={"status": [before["status"], locked.status],
                              "device_time": [None, device_time],
                              **({"outcome": [None, outcome]} if outcome else {}),
                              **({"reason": [None, reason]} if reason else {})})
        _changed(visit=locked, by=by, change="status", before=before,
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
        for entry in (TimelineEntry.objects.filter(visit=visit, kind=EntryKind.CHECKLIST)
                      .order_by("id").only("kind", "data")):
            answered[timeline.entry_data(entry).index] = timeline.entry_data(entry).answer
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

    with savepoint():
        visit = _visit_transition(visit=visit, event="complete", by=by,
                                  device_time=device_time, reason=reason,
                                  before_save=requirements, outcome=outcome)
        if outcome == VisitOutcome.ANOTHER_VISIT:
            return visit
        wo = WorkOrder.objects.get(pk=visit.work_order_id)
        if Visit.objects.filter(work_order_id=wo.pk, status__in=OPEN_VISIT_STATUSES).exists():
            return visit  # another trip is booked: the job goes on
        # On hold meanwhile: the office decides.
        if (outcome == VisitOutcome.JOB_COMPLETE and technician_closes_jobs(wo.organization_id)
                and "complete" in allowed_transitions(wo)):
            work_order_complete(work_order=wo, by=by)
        elif wo.status not in (Status.COMPLETED, Status.INVOICED, Status.CANCELLED):
            work_order_ready_to_close.send(sender=WorkOrder, work_order=wo, visit=visit, by=by)
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
    with savepoint():
        visit = _visit_transition(visit=visit, event="incomplete", by=by,
                                  device_time=device_time, reason=reason)
        wo = WorkOrder.objects.get(pk=visit.work_order_id)
        entry = timeline.system_recorded(work_order=wo, by=by, visit=visit, body=reason,
                                         event="follow_up", follow_up_visit=visit.pk)
        visit_follow_up.send(sender=Visit, visit=visit, by=by, reason=reason, entry=entry)
        if "hold" in allowed_transitions(wo):
            work_order_hold(work_order=wo, by=by, reason=reason)
    return visit
