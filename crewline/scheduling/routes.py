"""A day's route plan: the planner's problem read from what the board knows, a proposal kept
for the office to look at, applied in one transaction through the visit services (each crew
told as for a move by hand) and undone within ``UNDO_WINDOW``.

What is planned: the day's visits that are scheduled and not under way, and the work in the
queue (work orders waiting for a visit; visits without a time or a crew). What stays where it
is: visits en route or on site, visits already finished, and visits the office keeps in place
(``Visit.locked``). A technician's day is
their working hours (or the organization's business hours) less time off; today, nothing is
planned before now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core.audit import audit_record, organization_write_lock
from crewline.core.models import Member, Organization
from crewline.scheduling import planning
from crewline.scheduling.board import business_hours_of, local_at, local_midnight
from crewline.scheduling.models import RoutePlan, TimeOff, WorkingHours
from crewline.scheduling.selectors import estimated_minutes, queue_entries, technicians
from crewline.scheduling.travel import organization_travel, travel_matrix
from crewline.workorders.models import Visit, VisitStatus, WorkOrder

UNDO_WINDOW = dt.timedelta(minutes=10)
# Planned times fall on this step (seconds): drives are rounded up to it and the day starts
# on it, so a visit starts at 08:15 or 08:20, never 08:11.
STEP = 5 * 60
MAX_DAYS = 7
QUEUE_LIMIT = 200


@dataclass
class DayProblem:
    """The planner's problem for a day, and what its ids and seconds stand for."""

    day: dt.date
    origin: dt.datetime  # local midnight of the day (UTC), second 0 of the problem
    problem: planning.Problem
    members: dict[int, Member]
    # Job id -> (visit id or None, work order id, visit sequence or None): jobs of visits have
    # the visit's id, jobs of work orders waiting in the queue minus the work order's.
    jobs: dict[int, tuple[int | None, int, int | None]] = field(default_factory=dict)
    # The current plan: job id -> (start, end, crew ids) of the visits on the board.
    current: dict[int, tuple[int, int, list[int]]] = field(default_factory=dict)

    def at(self, second: int) -> dt.datetime:
        return self.origin + dt.timedelta(seconds=int(second))

    def second(self, moment: dt.datetime) -> int:
        return round((moment - self.origin).total_seconds())


def _point(lat, lng) -> tuple[float, float] | None:
    return (float(lat), float(lng)) if lat is not None and lng is not None else None


def day_problem(*, organization: Organization, day: dt.date, days: int = 1,
                now: dt.datetime | None = None, with_queue: bool = True,
                waiting: list[tuple[int, int | None]] | None = None) -> DayProblem:
    """The problem of planning ``day`` and the ``days - 1`` after it (see the module's
    docstring). ``waiting``: the work to place, as ``(work order id, visit id or None)``,
    instead of the queue's."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(_("Plan from one day to %(n)d days at a time.") % {"n": MAX_DAYS})
    tz = organization.tzinfo
    now = now or timezone.now()
    dates = [day + dt.timedelta(days=i) for i in range(days)]
    origin, end_of_day = local_midnight(day, tz), local_midnight(dates[-1] + dt.timedelta(1), tz)
    earliest = max(origin, now) if origin <= now < end_of_day else origin
    earliest = origin + dt.timedelta(
        seconds=-(-int((earliest - origin).total_seconds()) // STEP) * STEP)
    members = {m.pk: m for m in technicians(organization=organization)
               .prefetch_related("skills")}
    points: list[tuple[float, float]] = []
    point_of: dict[tuple[float, float], int] = {}

    def index(point: tuple[float, float] | None) -> int | None:
        if point is None:
            return None
        if point not in point_of:
            point_of[point] = len(points)
            points.append(point)
        return point_of[point]

    def second(moment: dt.datetime) -> int:
        return round((moment - origin).total_seconds())

    hours: dict[tuple[int, int], list[tuple[dt.time, dt.time]]] = {}
    has_hours: set[int] = set()
    for member_id, weekday, start, end in (
            WorkingHours.objects.filter(organization=organization, member_id__in=members)
            .values_list("member_id", "weekday", "start", "end")):
        hours.setdefault((member_id, weekday), []).append((start, end))
        has_hours.add(member_id)
    away: dict[int, list[tuple[int, int]]] = {}
    for member_id, start, end in (TimeOff.objects
                                  .filter(organization=organization, member_id__in=members,
                                          start__lt=end_of_day, end__gt=origin)
                                  .values_list("member_id", "start", "end")):
        away.setdefault(member_id, []).append((second(start), second(end)))

    def spans_of(member: Member) -> tuple[tuple[int, int], ...]:
        spans = []
        for date in dates:
            spans.extend(spans_on(member, date))
        return tuple(sorted(spans))

    def spans_on(member: Member, date: dt.date) -> list[tuple[int, int]]:
        own = (hours.get((member.pk, date.weekday()), []) if member.pk in has_hours
               else business_hours_of(organization, date))
        spans = []
        for start, end in own:
            lo = max(second(local_at(date, start, tz)), second(earliest))
            hi = second(local_at(date, end, tz))
            pieces = [(lo, hi)]
            for off_start, off_end in sorted(away.get(member.pk, [])):
                pieces = [p for a, b in pieces for p in ((a, min(b, off_start)),
                                                         (max(a, off_end), b)) if p[0] < p[1]]
            spans.extend(p for p in pieces if p[0] < p[1])
        return spans

    techs = [planning.Technician(
        id=m.pk, spans=spans_of(m), home=index(_point(m.home_latitude, m.home_longitude)),
        skills=frozenset(s.pk for s in m.skills.all())) for m in members.values()]

    result = DayProblem(day=day, origin=origin, problem=planning.Problem([], [], None),
                        members=members)
    jobs: list[planning.Job] = []
    fixed: list[planning.Fixed] = []
    visits = (Visit.objects.filter(organization=organization, start__lt=end_of_day,
                                   end__gt=origin)
              .exclude(status__in=[VisitStatus.CANCELLED])
              .select_related("work_order__site")
              .prefetch_related("crew", "work_order__required_skills"))
    for visit in visits:
        wo = visit.work_order
        site = _point(wo.site.latitude, wo.site.longitude) if wo.site_id else None
        crew = sorted(m.pk for m in visit.crew.all())
        if not crew:
            continue
        start, end = second(visit.start), second(visit.end)
        if visit.status != VisitStatus.SCHEDULED or visit.start < earliest or visit.locked:
            # Under way, finished, begun before now, or kept in place by the office: it stays.
            fixed.extend(planning.Fixed(visit.pk, technician=m, point=index(site), start=start,
                                        end=end) for m in crew if m in members)
            continue
        jobs.append(planning.Job(id=visit.pk, point=index(site), duration=end - start,
                                 window=_window(wo, origin, end_of_day, second),
                                 skills=frozenset(s.pk for s in wo.required_skills.all()),
                                 crew_size=len(crew), assigned=frozenset(crew)))
        result.jobs[visit.pk] = (visit.pk, wo.pk, visit.sequence)
        result.current[visit.pk] = (start, end, crew)
    if waiting is None and with_queue:
        waiting = list(queue_entries(organization=organization)
                       .values_list("pk", "open_visit__id")[:QUEUE_LIMIT])
    if waiting:
        by_id = {wo.pk: wo for wo in WorkOrder.objects.filter(
            organization=organization, pk__in=[pk for pk, _v in waiting])
            .select_related("site", "job_type").prefetch_related("required_skills")}
        sequences = dict(Visit.objects.filter(organization=organization,
                                              pk__in=[v for _p, v in waiting if v])
                         .values_list("pk", "sequence"))
        for wo_pk, visit_id in waiting:
            wo = by_id[wo_pk]
            job_id = visit_id if visit_id else -wo.pk
            if job_id in result.jobs:
                continue
            site = _point(wo.site.latitude, wo.site.longitude) if wo.site_id else None
            minutes = -(-estimated_minutes(wo) // (STEP // 60)) * (STEP // 60)
            jobs.append(planning.Job(id=job_id, point=index(site), duration=minutes * 60,
                                     window=_window(wo, origin, end_of_day, second),
                                     skills=frozenset(s.pk for s in wo.required_skills.all())))
            result.jobs[job_id] = (visit_id, wo.pk, sequences.get(visit_id))
    matrix = travel_matrix(points or [(0.0, 0.0)], **organization_travel(organization))
    # The schedule keeps drives rounded up to the step; the solver makes the exact drive least.
    drives = -(-matrix.seconds // STEP) * STEP
    result.problem = planning.Problem(technicians=techs, jobs=jobs, seconds=drives,
                                      metres=matrix.metres, fixed=fixed, cost=matrix.seconds)
    return result


def _window(wo: WorkOrder, origin: dt.datetime, end_of_day: dt.datetime, second
            ) -> tuple[int, int] | None:
    """The customer's window on the day, as the seconds a visit may start in (its start no
    later than the window's end); None without one, or when it is on another day."""
    if not (wo.requested_start and wo.requested_end):
        return None
    if wo.requested_end <= origin or wo.requested_start >= end_of_day:
        return None
    return (max(0, second(wo.requested_start)), second(min(wo.requested_end, end_of_day)))


# --- Proposals, applied and undone ------------------------------------------------------------

def route_plan_propose(*, organization: Organization, day: dt.date, by: Member,
                       days: int = 1, seconds: float | None = None,
                       now: dt.datetime | None = None) -> RoutePlan:
    """Plan ``day`` (and the ``days - 1`` after it) and keep the proposal (not applied) for the
    office to look at; the search takes ``seconds`` (``ROUTE_PLAN_TENTHS`` by default)."""
    if seconds is None:
        seconds = settings.ROUTE_PLAN_TENTHS / 10
    if by.organization_id != organization.pk or not by.is_office:
        raise ValidationError(_("Only the office plans the day."))
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(_("Plan from one day to %(n)d days at a time.") % {"n": MAX_DAYS})
    _geocode_missing(organization, day, days, by=by)
    problem = day_problem(organization=organization, day=day, days=days, now=now)
    result = planning.plan(problem.problem, seconds=seconds)
    broken = planning.plan_problems(problem.problem, result)
    if broken:
        raise ValidationError(_("The plan could not be made: %(why)s") % {"why": broken[0]})
    stops: dict[int, dict] = {}
    for tech_id, day_stops in result.routes.items():
        for stop in day_stops:
            if stop.fixed:
                continue
            entry = stops.setdefault(stop.job, {"start": problem.at(stop.start).isoformat(),
                                                "end": problem.at(stop.end).isoformat(),
                                                "crew": []})
            entry["crew"].append(tech_id)
    moves = []
    for job_id, (visit_id, wo_id, sequence) in problem.jobs.items():
        proposal = stops.get(job_id)
        if proposal is None:
            continue
        now_at = problem.current.get(job_id)
        before = ({"start": problem.at(now_at[0]).isoformat(),
                   "end": problem.at(now_at[1]).isoformat(), "crew": now_at[2]}
                  if now_at else None)
        after = {**proposal, "crew": sorted(proposal["crew"])}
        if before == after:
            continue
        moves.append({"job": job_id, "visit": visit_id, "work_order": wo_id,
                      "sequence": sequence, "before": before, "after": after})
    drive_before, drive_after = _current_drive(problem), _current_drive(problem, result)
    return RoutePlan.objects.create(
        organization=organization, day=day, days=days, created_by=by,
        moves=moves, unplaced=[{"job": j, "work_order": problem.jobs[j][1], "reason": r}
                               for j, r in result.unplaced],
        drive_before_seconds=drive_before[0], drive_before_metres=drive_before[1],
        drive_after_seconds=drive_after[0], drive_after_metres=drive_after[1])


GEOCODE_LIMIT = 25


def _geocode_missing(organization: Organization, day: dt.date, days: int, *,
                     by: Member) -> int:
    """Geocode (when a geocoder is configured) the sites without a map position of the day's
    visits and of the work waiting, at most ``GEOCODE_LIMIT`` a plan; how many got one."""
    from crewline.customers.geocoding import geocoder_configured
    from crewline.customers.models import Site
    from crewline.customers.services import site_geocode

    if not geocoder_configured():
        return 0
    tz = organization.tzinfo
    start, end = local_midnight(day, tz), local_midnight(day + dt.timedelta(days=days), tz)
    on_day = Visit.objects.filter(organization=organization, start__lt=end, end__gt=start)
    waiting = queue_entries(organization=organization).values("site_id")
    sites = (Site.objects.filter(organization=organization, latitude__isnull=True)
             .filter(Q(pk__in=on_day.values("work_order__site_id")) | Q(pk__in=waiting))
             .order_by("pk")[:GEOCODE_LIMIT])
    return sum(site_geocode(site=site, by=by) for site in sites)


def _current_drive(problem: DayProblem, result: planning.Plan | None = None
                   ) -> tuple[int, int]:
    """The drive (exact seconds, metres) of the day as it stands on the board, or as
    ``result`` plans it: each technician's visits in order, from home and back."""
    routes: dict[int, list[tuple[int, int | None]]] = {}
    points = {j.id: j.point for j in problem.problem.jobs}
    if result is None:
        for job_id, (start, _end, crew) in problem.current.items():
            for member_id in crew:
                routes.setdefault(member_id, []).append((start, points.get(job_id)))
    else:
        for member_id, stops in result.routes.items():
            routes[member_id] = [(s.start, points[s.job]) for s in stops if not s.fixed]
    for f in problem.problem.fixed:
        routes.setdefault(f.technician, []).append((f.start, f.point))
    homes = {t.id: t.home for t in problem.problem.technicians}
    seconds = metres = 0
    for member_id, stops in routes.items():
        path = [homes.get(member_id), *(p for _s, p in sorted(stops, key=lambda s: s[0])),
                homes.get(member_id)]
        for a, b in zip(path, path[1:], strict=False):
            if a is not None and b is not None:
                seconds += int(problem.problem.cost[a, b])
                metres += int(problem.problem.metres[a, b])
    return seconds, metres


def _stale(organization: Organization, plan: RoutePlan) -> list[str]:
    """What changed on the board since the plan was made (empty: nothing)."""
    changed = []
    visit_ids = [m["visit"] for m in plan.moves if m["visit"]]
    now = dict(Visit.objects.filter(organization=organization, pk__in=visit_ids,
                                    status=VisitStatus.SCHEDULED)
               .values_list("pk", "sequence"))
    numbers = dict(WorkOrder.objects.filter(organization=organization,
                                            pk__in=[m["work_order"] for m in plan.moves])
                   .values_list("pk", "number"))
    waiting = set(queue_entries(organization=organization)
                  .filter(open_visit__isnull=True).values_list("pk", flat=True))
    for move in plan.moves:
        ref = f"WO-{numbers.get(move['work_order'], '?')}"
        if move["visit"] and now.get(move["visit"]) != move["sequence"]:
            changed.append(_("%(ref)s: its visit changed since the plan was made.")
                           % {"ref": ref})
        elif not move["visit"] and move["work_order"] not in waiting:
            changed.append(_("%(ref)s: it is no longer waiting to be scheduled.")
                           % {"ref": ref})
    return changed


def route_plan_apply(*, plan: RoutePlan, by: Member) -> RoutePlan:
    """Apply a proposal in one transaction through ``visit_schedule`` and ``visit_add``; a
    plan some of whose visits changed meanwhile, or that breaks a scheduling rule now, is
    refused whole with what changed."""
    from crewline.workorders.services import ConflictError, visit_add, visit_schedule

    organization = plan.organization
    if by.organization_id != plan.organization_id or not by.is_office:
        raise ValidationError(_("Only the office applies a plan."))
    with transaction.atomic():
        organization_write_lock(organization.pk)
        plan = RoutePlan.objects.select_for_update().get(pk=plan.pk)
        if plan.applied_at is not None:
            raise ValidationError(_("This plan has already been applied."))
        changed = _stale(organization, plan)
        if changed:
            raise ValidationError(changed)
        members = {m.pk: m for m in Member.objects.for_org(organization)}
        created = []
        for move in plan.moves:
            after = move["after"]
            start, end = (dt.datetime.fromisoformat(after["start"]),
                          dt.datetime.fromisoformat(after["end"]))
            crew = [members[m] for m in after["crew"]]
            try:
                if move["visit"]:
                    visit_schedule(visit=Visit.objects.get(pk=move["visit"]), start=start,
                                   end=end, crew=crew, by=by)
                else:
                    wo = WorkOrder.objects.get(organization=organization,
                                               pk=move["work_order"])
                    visit = visit_add(work_order=wo, by=by, start=start, end=end, crew=crew)
                    created.append(visit.pk)
            except ConflictError as exc:
                raise ValidationError(
                    _("WO-%(number)s: %(why)s") % {
                        "number": WorkOrder.objects.get(pk=move["work_order"]).number,
                        "why": "; ".join(str(c.message) for c in exc.conflicts)}) from exc
        plan.applied_at, plan.applied_by, plan.created_visits = timezone.now(), by, created
        plan.save(update_fields=["applied_at", "applied_by", "created_visits"])
        audit_record(organization=organization, actor=by, action="route_plan.apply", obj=plan,
                     changes={"moves": [None, len(plan.moves)]})
    return plan


def route_plan_undo(*, plan: RoutePlan, by: Member, now: dt.datetime | None = None
                    ) -> RoutePlan:
    """Put the day back as it was before ``plan`` was applied, within ``UNDO_WINDOW``: moved
    visits go back, visits the plan added are cancelled. Refused once a visit of it changed
    again."""
    from crewline.workorders.services import visit_cancel, visit_schedule

    organization = plan.organization
    if by.organization_id != plan.organization_id or not by.is_office:
        raise ValidationError(_("Only the office undoes a plan."))
    now = now or timezone.now()
    with transaction.atomic():
        organization_write_lock(organization.pk)
        plan = RoutePlan.objects.select_for_update().get(pk=plan.pk)
        if plan.applied_at is None or plan.undone_at is not None:
            raise ValidationError(_("Only a plan that was applied can be undone, once."))
        if now - plan.applied_at > UNDO_WINDOW:
            raise ValidationError(_("A plan can be undone for %(minutes)d minutes after it is "
                                    "applied.") % {"minutes": UNDO_WINDOW.seconds // 60})
        members = {m.pk: m for m in Member.objects.for_org(organization)}
        created = iter(plan.created_visits)
        for move in plan.moves:
            if move["visit"]:
                visit = Visit.objects.get(organization=organization, pk=move["visit"])
                # Applying raised the sequence by one; more means someone moved it since.
                if visit.sequence != move["sequence"] + 1:
                    raise ValidationError(_("WO-%(number)s changed after the plan was applied;"
                                            " undo it by hand.")
                                          % {"number": visit.work_order.number})
                before = move["before"]
                visit_schedule(visit=visit, start=dt.datetime.fromisoformat(before["start"]),
                               end=dt.datetime.fromisoformat(before["end"]),
                               crew=[members[m] for m in before["crew"]], by=by,
                               override=True)
            else:
                visit = Visit.objects.get(organization=organization, pk=next(created))
                visit_cancel(visit=visit, by=by, reason=_("The day's plan was undone."))
        plan.undone_at = now
        plan.save(update_fields=["undone_at"])
        audit_record(organization=organization, actor=by, action="route_plan.undo", obj=plan,
                     changes={"moves": [len(plan.moves), 0]})
    return plan


# --- Suggestions -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Suggested:
    member: Member
    start: dt.datetime
    end: dt.datetime
    added_minutes: int
    bent: tuple[str, ...]


def suggestions(*, organization: Organization, day: dt.date, work_order: WorkOrder,
                visit: Visit | None = None, now: dt.datetime | None = None,
                limit: int = 3, days: int = 1) -> list[Suggested]:
    """Where ``work_order`` (or its ``visit``, to move it) fits best into ``day`` as it stands:
    the ``limit`` best technicians and times, with the drive each adds. With ``days`` past
    one, the first of that many days from ``day`` where it fits (a day that is over or full
    gives the next one's)."""
    for offset in range(max(days, 1)):
        found = _suggestions_on(organization=organization, day=day + dt.timedelta(days=offset),
                                work_order=work_order, visit=visit, now=now, limit=limit)
        if found:
            return found
    return []


def _suggestions_on(*, organization: Organization, day: dt.date, work_order: WorkOrder,
                    visit: Visit | None, now: dt.datetime | None, limit: int
                    ) -> list[Suggested]:
    problem = day_problem(organization=organization, day=day, now=now,
                          waiting=[(work_order.pk, visit.pk if visit else None)])
    job_id = visit.pk if visit else -work_order.pk
    job = next((j for j in problem.problem.jobs if j.id == job_id), None)
    if job is None:
        return []
    if visit is not None and visit.start and visit.end:
        job = planning.Job(id=job.id, point=job.point, skills=job.skills, window=job.window,
                           duration=round((visit.end - visit.start).total_seconds()))
    # Every other visit of the day stays where it is.
    fixed = list(problem.problem.fixed)
    points = {j.id: j.point for j in problem.problem.jobs}
    for other, (start, end, crew) in problem.current.items():
        if other == job_id:
            continue
        fixed.extend(planning.Fixed(other, technician=m, point=points[other], start=start,
                                    end=end) for m in crew)
    day_as_it_is = planning.Problem(technicians=problem.problem.technicians, jobs=[],
                                    seconds=problem.problem.seconds, fixed=fixed)
    return [Suggested(member=problem.members[s.technician], start=problem.at(s.start),
                      end=problem.at(s.start + job.duration),
                      added_minutes=round(s.added_drive / 60), bent=s.bent)
            for s in planning.suggest(day_as_it_is, job, limit=limit)]
