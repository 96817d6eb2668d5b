"""Planning a day from the board's data: what is planned and what stays, a proposal applied in
one transaction through the visit services (audited, the crew told), refused whole when the
board changed meanwhile, and undone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from crewline.core.models import AuditLog
from crewline.factories import SkillFactory, WorkOrderFactory
from crewline.notifications.models import Notification, NotificationKind
from crewline.scheduling import planning, routes
from crewline.scheduling.models import RoutePlan, TimeOff
from crewline.scheduling.tests.conftest import EVANSTON, LOOP, at
from crewline.workorders.models import Visit, VisitStatus
from crewline.workorders.services import visit_schedule

pytestmark = pytest.mark.django_db

TUE = (2025, 6, 3)
DAY = dt.date(*TUE)
MORNING = at(*TUE, 7)  # "now", before the working day


@pytest.fixture
def homes(tara, sam):
    tara.home_latitude, tara.home_longitude = LOOP
    tara.save()
    sam.home_latitude, sam.home_longitude = EVANSTON
    sam.save()
    return tara, sam


def propose(org, office, **kwargs):
    return routes.route_plan_propose(organization=org, day=DAY, by=office, seconds=0.3,
                                     now=kwargs.pop("now", MORNING), **kwargs)


def test_the_day_is_read_as_the_board_knows_it(org, homes, make_visit, evanston_site):
    tara, sam = homes
    TimeOff.objects.create(organization=org, member=sam, start=at(*TUE, 12),
                           end=at(*TUE, 13))
    on_site = make_visit(at(*TUE, 8), at(*TUE, 9), crew=[tara], status=VisitStatus.ON_SITE)
    planned = make_visit(at(*TUE, 10), at(*TUE, 11), crew=[sam], site=evanston_site)
    waiting = WorkOrderFactory(organization=org, customer=planned.work_order.customer,
                               site=evanston_site, estimated_minutes=90)
    problem = routes.day_problem(organization=org, day=DAY, now=MORNING)
    jobs = {j.id: j for j in problem.problem.jobs}
    assert [f.id for f in problem.problem.fixed] == [on_site.pk]
    assert jobs[planned.pk].duration == 3600 and jobs[planned.pk].crew_size == 1
    assert jobs[-waiting.pk].duration == 90 * 60
    techs = {t.id: t for t in problem.problem.technicians}
    # Business hours 08-17 in Chicago, Sam's hour off cut out.
    assert techs[tara.pk].spans == ((problem.second(at(*TUE, 8)),
                                     problem.second(at(*TUE, 17))),)
    assert techs[sam.pk].spans == ((problem.second(at(*TUE, 8)), problem.second(at(*TUE, 12))),
                                   (problem.second(at(*TUE, 13)), problem.second(at(*TUE, 17))))
    assert problem.at(problem.second(at(*TUE, 10))) == at(*TUE, 10)


def test_today_nothing_is_planned_before_now(org, homes, make_visit):
    tara, _sam = homes
    problem = routes.day_problem(organization=org, day=DAY, now=at(*TUE, 14, 30))
    techs = {t.id: t for t in problem.problem.technicians}
    assert techs[tara.pk].spans[0][0] == problem.second(at(*TUE, 14, 30))


def test_a_plan_is_applied_through_the_visit_services_and_undone(
        org, office, homes, make_visit, evanston_site, django_capture_on_commit_callbacks):
    tara, sam = homes
    # On Tara's day, but in Evanston, where Sam lives.
    far = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara], site=evanston_site)
    waiting = WorkOrderFactory(organization=org, customer=far.work_order.customer,
                               site=evanston_site, estimated_minutes=60)
    plan = propose(org, office)
    assert plan.applied_at is None and plan.drive_after_seconds < plan.drive_before_seconds
    moves = {m["job"]: m for m in plan.moves}
    assert moves[far.pk]["after"]["crew"] == [sam.pk]
    assert moves[-waiting.pk]["before"] is None

    with django_capture_on_commit_callbacks(execute=True):
        routes.route_plan_apply(plan=plan, by=office)
    far.refresh_from_db()
    assert list(far.crew.values_list("pk", flat=True)) == [sam.pk]
    # Each crew is told as for a move by hand: Sam of two visits, Tara that one left her.
    told = {(n.recipient_id, n.kind) for n in Notification.objects.all()}
    assert (sam.pk, NotificationKind.VISIT_ASSIGNED) in told
    assert (tara.pk, NotificationKind.VISIT_UNASSIGNED) in told
    added = Visit.objects.get(work_order=waiting)
    assert list(added.crew.values_list("pk", flat=True)) == [sam.pk]
    assert AuditLog.objects.filter(action="visit.schedule", object_id=str(far.pk)).exists()
    assert AuditLog.objects.filter(action="route_plan.apply").count() == 1
    with pytest.raises(ValidationError):
        routes.route_plan_apply(plan=plan, by=office)

    routes.route_plan_undo(plan=plan, by=office)
    far.refresh_from_db()
    added.refresh_from_db()
    assert list(far.crew.values_list("pk", flat=True)) == [tara.pk]
    assert (far.start, far.end) == (at(*TUE, 9), at(*TUE, 10))
    assert added.status == VisitStatus.CANCELLED


def test_a_plan_on_a_board_that_changed_is_refused_whole(org, office, homes, make_visit,
                                                         evanston_site):
    tara, sam = homes
    far = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara], site=evanston_site)
    other = make_visit(at(*TUE, 11), at(*TUE, 12), crew=[tara], site=evanston_site)
    plan = propose(org, office)
    assert {m["job"] for m in plan.moves} >= {far.pk, other.pk}
    visit_schedule(visit=other, start=at(*TUE, 14), end=at(*TUE, 15), by=office)
    with pytest.raises(ValidationError) as caught:
        routes.route_plan_apply(plan=plan, by=office)
    assert caught.value.messages == [
        f"WO-{other.work_order.number}: its visit changed since the plan was made."]
    far.refresh_from_db()
    # Nothing of the plan was applied.
    assert list(far.crew.values_list("pk", flat=True)) == [tara.pk]
    assert RoutePlan.objects.get(pk=plan.pk).applied_at is None


def test_undo_is_refused_late_and_after_a_visit_moved_again(org, office, homes, make_visit,
                                                            evanston_site):
    tara, sam = homes
    far = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara], site=evanston_site)
    plan = routes.route_plan_apply(plan=propose(org, office), by=office)
    with pytest.raises(ValidationError):
        routes.route_plan_undo(plan=plan, by=office,
                               now=plan.applied_at + routes.UNDO_WINDOW + dt.timedelta(1))
    far.refresh_from_db()
    visit_schedule(visit=far, start=at(*TUE, 15), end=at(*TUE, 16), by=office)
    with pytest.raises(ValidationError) as caught:
        routes.route_plan_undo(plan=plan, by=office)
    assert "changed after the plan was applied" in caught.value.messages[0]


def test_skills_and_under_way_visits_are_respected(org, office, homes, make_visit,
                                                   evanston_site):
    tara, sam = homes
    gas = SkillFactory(organization=org, name="Gas")
    tara.skills.add(gas)
    needs_gas = WorkOrderFactory(organization=org, customer=evanston_site.customer,
                                 site=evanston_site, estimated_minutes=60)
    needs_gas.required_skills.add(gas)
    under_way = make_visit(at(*TUE, 8), at(*TUE, 10), crew=[sam], site=evanston_site,
                           status=VisitStatus.EN_ROUTE)
    plan = propose(org, office)
    move = next(m for m in plan.moves if m["work_order"] == needs_gas.pk)
    assert move["after"]["crew"] == [tara.pk]
    assert under_way.pk not in {m["job"] for m in plan.moves}


def test_what_cannot_be_placed_says_why(org, office, homes, customer):
    WorkOrderFactory(organization=org, customer=customer, site=None, estimated_minutes=60)
    plan = propose(org, office)
    assert [u["reason"] for u in plan.unplaced] == [planning.NO_LOCATION]


def test_only_the_office_plans_applies_and_undoes(org, office, technician, outsider, homes,
                                                  make_visit, evanston_site):
    tara, _sam = homes
    make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara], site=evanston_site)
    for who in (technician, outsider):
        with pytest.raises(ValidationError):
            routes.route_plan_propose(organization=org, day=DAY, by=who, seconds=0.1)
    plan = propose(org, office)
    for who in (technician, outsider):
        with pytest.raises(ValidationError):
            routes.route_plan_apply(plan=plan, by=who)
    assert RoutePlan.objects.get(pk=plan.pk).applied_at is None


def test_a_visit_kept_in_place_stays_where_it_is(org, office, technician, homes, make_visit,
                                                evanston_site):
    from django.core.exceptions import PermissionDenied

    from crewline.workorders.services import visit_lock_set

    tara, _sam = homes
    far = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara], site=evanston_site)
    with pytest.raises(PermissionDenied):
        visit_lock_set(visit=far, locked=True, by=technician)
    visit_lock_set(visit=far, locked=True, by=office)
    assert AuditLog.objects.filter(action="visit.lock", object_id=str(far.pk)).count() == 1
    plan = propose(org, office)
    assert far.pk not in {m["job"] for m in plan.moves}
    problem = routes.day_problem(organization=org, day=DAY, now=MORNING)
    assert [(f.id, f.technician) for f in problem.problem.fixed] == [(far.pk, tara.pk)]
    visit_lock_set(visit=far, locked=False, by=office)
    assert far.pk in {m["job"] for m in propose(org, office).moves}


def test_a_range_of_days_places_work_on_the_day_someone_is_free(org, office, homes, customer,
                                                               loop_site):
    tara, sam = homes
    # Both away all Tuesday: the work goes to Wednesday.
    for member in (tara, sam):
        TimeOff.objects.create(organization=org, member=member, start=at(*TUE, 0),
                               end=at(2025, 6, 4, 0))
    waiting = WorkOrderFactory(organization=org, customer=customer, site=loop_site,
                               estimated_minutes=60)
    one_day = propose(org, office)
    assert [u["work_order"] for u in one_day.unplaced] == [waiting.pk]
    two_days = propose(org, office, days=2)
    (move,) = two_days.moves
    start = dt.datetime.fromisoformat(move["after"]["start"]).astimezone(org.tzinfo)
    assert start.date() == dt.date(2025, 6, 4) and move["after"]["crew"] == [tara.pk]
    assert two_days.days == 2
    with pytest.raises(ValidationError):
        propose(org, office, days=8)
