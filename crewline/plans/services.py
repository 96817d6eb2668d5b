"""Writes to maintenance plans and the work they raise.

``plan_generate`` is the single place that raises, updates and withdraws a plan's work orders;
every other service changes the plan and then asks for it (after the transaction commits, as a
background task), except ``plan_end``, which withdraws the future work at once.

"Untouched": an occurrence's work order is still new or scheduled, has exactly the one visit the
plan made, that visit is still scheduled and in the future, and the work order and visit hold
exactly the values the plan last wrote (``PlanOccurrence.applied``). Comparing values rather than
timestamps means the plan's own writes and status changes (a visit makes a work order
"scheduled") never count as a hand edit, while any edit by a person does.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core.audit import audit_record, diff, snapshot
from crewline.core.models import Member, Organization, Skill
from crewline.customers.models import Customer, Site
from crewline.live import services as live
from crewline.plans.models import MaintenancePlan, PlanOccurrence, PlanStatus
from crewline.plans.recurrence import local_start, normalise_rrule, occurrence_dates
from crewline.workorders.models import (
    JobType,
    Priority,
    Status,
    Visit,
    VisitStatus,
    WorkOrder,
    WorkOrderKind,
)
from crewline.workorders.services import (
    visit_add,
    visit_schedule,
    work_order_cancel,
    work_order_create,
    work_order_update,
)

PLAN_FIELDS = ("customer", "site", "name", "rrule", "start_date", "start_time", "horizon_days",
               "end_date", "title", "instructions", "job_type", "priority", "checklist",
               "duration_minutes", "required_skills", "default_crew", "price")
AUDIT_FIELDS = (*PLAN_FIELDS, "status")
M2M_FIELDS = ("required_skills", "default_crew")
# At most this many dates are raised for one plan in one run (a daily rule over a long horizon).
MAX_OCCURRENCES_PER_RUN = 400


@dataclass
class GenerateResult:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.cancelled)


# --- Plans -----------------------------------------------------------------------------------


def _check_scope(organization: Organization, **objects) -> None:
    for label, obj in objects.items():
        if obj is not None and obj.organization_id != organization.pk:
            raise ValidationError({label: _("Not found in this organization.")})


def _validate(plan: MaintenancePlan, skills: list[Skill] | None,
              crew: list[Member] | None) -> None:
    org = plan.organization
    _check_scope(org, customer=plan.customer, site=plan.site, job_type=plan.job_type)
    if plan.site.customer_id != plan.customer_id:
        raise ValidationError({"site": _("This site belongs to another customer.")})
    for skill in skills or ():
        _check_scope(org, required_skills=skill)
    for person in crew or ():
        _check_scope(org, default_crew=person)
        if not person.is_active:
            raise ValidationError({"default_crew": _("%(name)s is no longer active.")
                                   % {"name": person.name}})
    plan.rrule = normalise_rrule(plan.rrule)
    plan.name = plan.name.strip()
    plan.title = (plan.title or "").strip() or plan.name
    if plan.end_date is not None and plan.start_date and plan.end_date < plan.start_date:
        raise ValidationError({"end_date": _("The last date must not be before the first.")})
    plan.full_clean(exclude=["organization", "customer", "site", "job_type", "created_by"])


def _enqueue_generation(plan: MaintenancePlan) -> None:
    from crewline.plans.tasks import plan_generate_task

    plan_id = plan.pk
    transaction.on_commit(lambda: plan_generate_task.enqueue(plan_id))


def plan_create(
    *,
    organization: Organization,
    by: Member | None,
    customer: Customer,
    site: Site,
    name: str,
    rrule: str,
    start_date: dt.date,
    start_time: dt.time = dt.time(9, 0),
    horizon_days: int = 60,
    end_date: dt.date | None = None,
    title: str = "",
    instructions: str = "",
    job_type: JobType | None = None,
    priority: int = Priority.NORMAL,
    checklist: list[dict] | None = None,
    duration_minutes: int = 60,
    required_skills: Iterable[Skill] = (),
    default_crew: Iterable[Member] = (),
    price: Decimal = Decimal("0.00"),
) -> MaintenancePlan:
    """Create an active plan; its work is raised by a background run after the commit."""
    skills, crew = list(required_skills), list(default_crew)
    plan = MaintenancePlan(
        organization=organization, customer=customer, site=site, name=name, rrule=rrule,
        start_date=start_date, start_time=start_time, horizon_days=horizon_days,
        end_date=end_date, title=title, instructions=instructions, job_type=job_type,
        priority=priority, checklist=copy.deepcopy(checklist or []),
        duration_minutes=duration_minutes, price=price, created_by=by,
    )
    _validate(plan, skills, crew)
    with transaction.atomic():
        plan.save(force_insert=True)
        plan.required_skills.set(skills)
        plan.default_crew.set(crew)
        audit_record(organization=organization, actor=by, action="plan.create", obj=plan,
                     changes=diff({}, snapshot(plan, AUDIT_FIELDS)))
        _enqueue_generation(plan)
    return plan


def _lock(plan: MaintenancePlan) -> MaintenancePlan:
    return (MaintenancePlan.objects.select_for_update().select_related("organization")
            .get(pk=plan.pk))


def plan_update(*, plan: MaintenancePlan, by: Member | None, **changes) -> MaintenancePlan:
    """Edit the fields in ``PLAN_FIELDS``. Future untouched work follows on the next run,
    which is queued after the commit; started, completed or hand-edited work is left alone."""
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Not editable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = _lock(plan)
        before = snapshot(locked, AUDIT_FIELDS)
        skills = changes.pop("required_skills", None)
        crew = changes.pop("default_crew", None)
        skills = list(skills) if skills is not None else None
        crew = list(crew) if crew is not None else None
        for name, value in changes.items():
            setattr(locked, name, copy.deepcopy(value) if name == "checklist" else value)
        _validate(locked, skills, crew)
        locked.save()
        if skills is not None:
            locked.required_skills.set(skills)
        if crew is not None:
            locked.default_crew.set(crew)
        changed = diff(before, snapshot(locked, AUDIT_FIELDS))
        if changed:
            audit_record(organization=locked.organization, actor=by, action="plan.update",
                         obj=locked, changes=changed)
            _enqueue_generation(locked)
    plan.refresh_from_db()
    return plan


def _set_status(plan: MaintenancePlan, by: Member | None, *, sources: set[str], target: str,
                action: str, error: str, **extra) -> MaintenancePlan:
    with transaction.atomic():
        locked = _lock(plan)
        if locked.status not in sources:
            raise ValidationError(error % {"status": locked.get_status_display().lower()},
                                  code="invalid_status")
        before = snapshot(locked, ("status", "end_date"))
        locked.status = target
        for name, value in extra.items():
            setattr(locked, name, value)
        locked.save(update_fields=["status", *extra, "updated_at"])
        audit_record(organization=locked.organization, actor=by, action=action, obj=locked,
                     changes=diff(before, snapshot(locked, ("status", "end_date"))))
    plan.refresh_from_db()
    return plan


def plan_pause(*, plan: MaintenancePlan, by: Member | None) -> MaintenancePlan:
    """active → paused: no new work is raised; what was raised stays."""
    return _set_status(plan, by, sources={PlanStatus.ACTIVE}, target=PlanStatus.PAUSED,
                       action="plan.pause", error=_("A plan that is %(status)s cannot be "
                                                    "paused."))


def plan_resume(*, plan: MaintenancePlan, by: Member | None) -> MaintenancePlan:
    """paused → active; work from today on is raised by the run queued after the commit."""
    with transaction.atomic():
        plan = _set_status(plan, by, sources={PlanStatus.PAUSED}, target=PlanStatus.ACTIVE,
                           action="plan.resume",
                           error=_("A plan that is %(status)s cannot be resumed."))
        _enqueue_generation(plan)
    return plan


def plan_end(*, plan: MaintenancePlan, by: Member | None,
             today: dt.date | None = None) -> MaintenancePlan:
    """active or paused → ended, from today: future untouched work is cancelled at once."""
    today = today or timezone.localdate(timezone=plan.organization.tzinfo)
    end = today if plan.end_date is None else min(plan.end_date, today)
    with transaction.atomic():
        plan = _set_status(plan, by, sources={PlanStatus.ACTIVE, PlanStatus.PAUSED},
                           target=PlanStatus.ENDED, action="plan.end",
                           error=_("A plan that is %(status)s cannot be ended."),
                           end_date=max(end, plan.start_date))
        plan_generate(plan=plan, today=today)
    return plan


# --- Occurrences -----------------------------------------------------------------------------


def _template(plan: MaintenancePlan) -> dict:
    """What every date's work order and visit get from the plan, except the times."""
    crew = [m for m in plan.default_crew.all() if m.is_active]
    return {
        "customer": plan.customer_id, "site": plan.site_id, "title": plan.title,
        "instructions": plan.instructions, "job_type": plan.job_type_id,
        "priority": plan.priority, "checklist": copy.deepcopy(plan.checklist),
        "estimated_minutes": plan.duration_minutes,
        "required_skills": sorted(s.pk for s in plan.required_skills.all()),
        "crew": sorted(m.pk for m in crew),
    }


def _utc(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def _target(plan: MaintenancePlan, day: dt.date, template: dict) -> dict:
    start = local_start(day, plan.start_time, plan.organization.tzinfo)
    end = start + dt.timedelta(minutes=plan.duration_minutes)
    return {**template, "start": _utc(start), "end": _utc(end)}


def _current(work_order: WorkOrder, visit: Visit) -> dict:
    return {
        "customer": work_order.customer_id, "site": work_order.site_id,
        "title": work_order.title, "instructions": work_order.instructions,
        "job_type": work_order.job_type_id, "priority": work_order.priority,
        "checklist": work_order.checklist, "estimated_minutes": work_order.estimated_minutes,
        "required_skills": sorted(s.pk for s in work_order.required_skills.all()),
        "crew": sorted(m.pk for m in visit.crew.all()),
        "start": _utc(visit.start), "end": _utc(visit.end),
    }


def occurrence_is_untouched(occurrence: PlanOccurrence, *, now: dt.datetime | None = None
                            ) -> bool:
    """Whether the plan may still change or withdraw this date's work (see the module doc)."""
    wo, visit = occurrence.work_order, occurrence.visit
    if occurrence.skipped or wo is None or visit is None or not occurrence.applied:
        return False
    if wo.status not in (Status.NEW, Status.SCHEDULED) or visit.status != VisitStatus.SCHEDULED:
        return False
    if visit.start is None or visit.start <= (now or timezone.now()):
        return False
    if [v.pk for v in wo.visits.all()] != [visit.pk]:
        return False
    return _current(wo, visit) == occurrence.applied


def _occurrences(plan: MaintenancePlan, **filters):
    return (plan.occurrences.filter(**filters)
            .select_related("work_order", "visit")
            .prefetch_related("work_order__required_skills", "work_order__visits",
                              "visit__crew"))


def _visit_add(work_order: WorkOrder, start: dt.datetime, end: dt.datetime,
               crew: list[Member]) -> Visit:
    # Generated visits are placed even over someone else's work: the board shows the conflict
    # and the audit entry records the override.
    return visit_add(work_order=work_order, by=None, start=start, end=end, crew=crew,
                     override=True)


def _write_extras(work_order: WorkOrder, target: dict) -> None:
    """The template fields work_order_create/update do not take: checklist, duration, skills."""
    before = {"checklist": work_order.checklist,
              "estimated_minutes": work_order.estimated_minutes,
              "required_skills": sorted(s.pk for s in work_order.required_skills.all())}
    after = {k: target[k] for k in before}
    if before == after:
        return
    work_order.checklist = copy.deepcopy(target["checklist"])
    work_order.estimated_minutes = target["estimated_minutes"]
    work_order.save(update_fields=["checklist", "estimated_minutes", "updated_at"])
    live.work_order_changed(work_order=work_order)
    work_order.required_skills.set(target["required_skills"])
    audit_record(organization=work_order.organization, actor=None, action="work_order.update",
                 obj=work_order, changes=diff(before, after))


def _visit_set(visit: Visit, target: dict) -> None:
    """Move the plan's own (untouched) visit to the template's time and crew."""
    crew = list(Member.objects.filter(pk__in=target["crew"]).select_related("user"))
    visit_schedule(visit=visit, start=dt.datetime.fromisoformat(target["start"]),
                   end=dt.datetime.fromisoformat(target["end"]), crew=crew, by=None,
                   override=True)


def _raise(plan: MaintenancePlan, day: dt.date, template: dict,
           crew: list[Member]) -> PlanOccurrence:
    target = _target(plan, day, template)
    wo = work_order_create(
        organization=plan.organization, by=None, customer=plan.customer, site=plan.site,
        title=plan.title, kind=WorkOrderKind.CONTRACT, job_type=plan.job_type,
        priority=plan.priority, instructions=plan.instructions, due_date=day,
    )
    _write_extras(wo, target)
    visit = _visit_add(wo, dt.datetime.fromisoformat(target["start"]),
                       dt.datetime.fromisoformat(target["end"]), crew)
    return PlanOccurrence.objects.create(organization_id=plan.organization_id, plan=plan,
                                         date=day, work_order=wo, visit=visit, applied=target)


def _refresh(occurrence: PlanOccurrence, target: dict) -> None:
    wo = occurrence.work_order
    fields = {k: target[k] for k in ("title", "instructions", "priority")}
    if (wo.customer_id, wo.site_id, wo.job_type_id) != (target["customer"], target["site"],
                                                        target["job_type"]):
        fields.update(customer=Customer.objects.get(pk=target["customer"]),
                      site=Site.objects.get(pk=target["site"]),
                      job_type=(JobType.objects.get(pk=target["job_type"])
                                if target["job_type"] else None))
    if any(getattr(wo, k) != v for k, v in fields.items()):
        wo = work_order_update(work_order=wo, by=None, **fields)
    _write_extras(wo, target)
    _visit_set(occurrence.visit, target)
    occurrence.applied = target
    occurrence.save(update_fields=["applied"])


def plan_generate(*, plan: MaintenancePlan, today: dt.date | None = None) -> GenerateResult:
    """Bring the plan's work from ``today`` to ``today`` + horizon in line with the plan.

    Raises a contract work order with one visit (at the preferred local time, with the default
    crew) for each date of the rule that has none yet; brings untouched future work in line with
    the template; cancels untouched future work on dates the plan no longer has (rule changed,
    horizon shortened, plan ended). A paused plan changes nothing. Idempotent: a second run with
    the same plan and day does nothing. ``today`` is the organization's local date by default.
    """
    result = GenerateResult()
    with transaction.atomic():
        plan = _lock(plan)
        org = plan.organization
        today = today or timezone.localdate(timezone=org.tzinfo)
        if plan.status == PlanStatus.PAUSED:
            return result
        wanted: list[dt.date] = []
        if plan.status == PlanStatus.ACTIVE:
            wanted = occurrence_dates(plan.rrule, start=plan.start_date, first=today,
                                      last=today + dt.timedelta(days=plan.horizon_days),
                                      end=plan.end_date, limit=MAX_OCCURRENCES_PER_RUN)
        template = _template(plan)
        existing = {o.date: o for o in _occurrences(plan, date__gte=today)}
        reason = _("Plan ended") if plan.status == PlanStatus.ENDED else _(
            "No longer in the maintenance plan")
        wanted_set = set(wanted)
        for day, occurrence in sorted(existing.items()):
            if not occurrence_is_untouched(occurrence):
                continue
            number = occurrence.work_order.number
            if day not in wanted_set:
                work_order_cancel(work_order=occurrence.work_order, by=None, reason=reason)
                # The date is free again: if the plan has it later (horizon lengthened), the
                # next run raises new work for it.
                occurrence.delete()
                result.cancelled.append(number)
                continue
            target = _target(plan, day, template)
            if target != occurrence.applied:
                _refresh(occurrence, target)
                result.updated.append(number)
        crew = list(Member.objects.filter(pk__in=template["crew"]).select_related("user"))
        for day in wanted:
            if day in existing:
                continue
            occurrence = _raise(plan, day, template, crew)
            result.created.append(occurrence.work_order.number)
        if result.changed:
            audit_record(organization=org, actor=None, action="plan.generate", obj=plan,
                         changes={name: [None, numbers] for name, numbers in
                                  (("created", result.created), ("updated", result.updated),
                                   ("cancelled", result.cancelled)) if numbers})
    return result


def occurrence_skip(*, plan: MaintenancePlan, date: dt.date, by: Member | None
                    ) -> PlanOccurrence:
    """Skip one date of the plan. Its work order, if raised and untouched, is cancelled with
    the reason "Skipped"; work that has been started or changed by hand is refused."""
    with transaction.atomic():
        plan = _lock(plan)
        occurrence = _occurrences(plan, date=date).first()
        if occurrence is not None and occurrence.skipped:
            return occurrence
        if occurrence is None:
            if not occurrence_dates(plan.rrule, start=plan.start_date, first=date, last=date,
                                    end=plan.end_date):
                raise ValidationError({"date": _("%(date)s is not a date of this plan.")
                                       % {"date": date.isoformat()}}, code="not_a_date")
            occurrence = PlanOccurrence(organization_id=plan.organization_id, plan=plan,
                                        date=date)
        wo = occurrence.work_order
        if wo is not None and wo.status != Status.CANCELLED:
            if not occurrence_is_untouched(occurrence):
                raise ValidationError(
                    _("%(ref)s has been started or changed by hand: cancel it on its own page "
                      "if it is not needed.") % {"ref": wo.reference}, code="touched")
            work_order_cancel(work_order=wo, by=by, reason=_("Skipped"))
        occurrence.skipped = True
        occurrence.save()
        audit_record(organization=plan.organization, actor=by, action="plan.skip", obj=plan,
                     changes={"skipped": [None, date.isoformat()],
                              **({"work_order": [None, wo.number]} if wo else {})})
    return occurrence
