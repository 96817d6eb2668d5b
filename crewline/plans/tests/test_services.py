import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from crewline.core.models import AuditLog
from crewline.factories import CustomerFactory, SiteFactory
from crewline.plans.models import PlanOccurrence, PlanStatus
from crewline.plans.services import (
    occurrence_skip,
    plan_create,
    plan_end,
    plan_generate,
    plan_pause,
    plan_resume,
    plan_update,
)
from crewline.workorders.models import Status, Visit, VisitStatus, WorkOrder, WorkOrderKind
from crewline.workorders.services import visit_add, work_order_start, work_order_update

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
TODAY = dt.date(2025, 1, 2)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(dt.datetime(2025, 1, 2, 8, 0, tzinfo=CHICAGO), tick=False)


def local_times(plan):
    return [(o.date, o.visit.start.astimezone(CHICAGO).time())
            for o in plan.occurrences.select_related("visit")]


def test_it_creates_a_plan_with_its_template_and_an_audit_entry(make_plan, office, skill,
                                                                 technician):
    plan = make_plan(rrule="rrule:freq=monthly;interval=3", required_skills=[skill],
                     default_crew=[technician],
                     checklist=[{"label": "Filters changed", "kind": "yes_no",
                                 "required": True}])
    assert plan.rrule == "FREQ=MONTHLY;INTERVAL=3"
    assert plan.title == "Quarterly HVAC service"  # the name when no title is given
    assert plan.status == PlanStatus.ACTIVE
    entry = AuditLog.objects.get(action="plan.create")
    assert entry.actor == office and entry.changes["rrule"] == [None, "FREQ=MONTHLY;INTERVAL=3"]


def test_it_refuses_a_bad_rule_another_customers_site_and_an_end_before_the_start(
        make_plan, org):
    with pytest.raises(ValidationError) as exc:
        make_plan(rrule="FREQ=SOMETIMES")
    assert "rrule" in exc.value.error_dict
    other_site = SiteFactory(customer=CustomerFactory(organization=org))
    with pytest.raises(ValidationError) as exc:
        make_plan(site=other_site)
    assert "site" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        make_plan(end_date=dt.date(2024, 12, 1))
    assert "end_date" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        make_plan(checklist=[{"label": "", "kind": "yes_no", "required": True}])
    assert "checklist" in exc.value.error_dict


def test_it_refuses_another_organizations_customer(make_plan, other_org):
    stranger = CustomerFactory(organization=other_org)
    with pytest.raises(ValidationError) as exc:
        make_plan(customer=stranger, site=SiteFactory(customer=stranger))
    assert "customer" in exc.value.error_dict


def test_it_raises_contract_work_orders_with_the_template_and_a_visit(make_plan, skill,
                                                                      technician):
    checklist = [{"label": "Pressure (bar)", "kind": "number", "required": True}]
    plan = make_plan(rrule="FREQ=MONTHLY;BYDAY=1MO", start_date=TODAY, horizon_days=60,
                     instructions="Key at reception", required_skills=[skill],
                     default_crew=[technician], checklist=checklist)
    result = plan_generate(plan=plan, today=TODAY)
    assert len(result.created) == 3
    occurrences = list(plan.occurrences.select_related("work_order", "visit"))
    assert [o.date for o in occurrences] == [dt.date(2025, 1, 6), dt.date(2025, 2, 3),
                                             dt.date(2025, 3, 3)]
    wo = occurrences[0].work_order
    assert wo.kind == WorkOrderKind.CONTRACT
    assert wo.status == Status.SCHEDULED
    assert (wo.title, wo.instructions, wo.checklist, wo.estimated_minutes) == (
        "Quarterly HVAC service", "Key at reception", checklist, 90)
    assert list(wo.required_skills.all()) == [skill]
    assert wo.due_date == dt.date(2025, 1, 6)
    visit = occurrences[0].visit
    assert visit.start == dt.datetime(2025, 1, 6, 9, 0, tzinfo=CHICAGO)
    assert visit.end - visit.start == dt.timedelta(minutes=90)
    assert list(visit.crew.all()) == [technician]
    assert AuditLog.objects.filter(action="plan.generate").count() == 1


@pytest.mark.parametrize(("rule", "expected"), [
    ("FREQ=WEEKLY;BYDAY=MO,TH", 18),       # 9 weeks, two days each
    ("FREQ=MONTHLY;INTERVAL=3", 1),        # Jan 2 only; next is April
    ("FREQ=DAILY;INTERVAL=7", 9),
    ("FREQ=MONTHLY;BYMONTHDAY=15", 2),
    ("FREQ=YEARLY", 1),
    ("FREQ=WEEKLY;COUNT=3", 3),
])
def test_it_raises_one_work_order_per_date_within_the_horizon(make_plan, rule, expected):
    plan = make_plan(rrule=rule, start_date=TODAY, horizon_days=60)
    plan_generate(plan=plan, today=TODAY)
    dates = list(plan.occurrences.values_list("date", flat=True))
    assert len(dates) == expected
    assert all(TODAY <= d <= TODAY + dt.timedelta(days=60) for d in dates)
    assert WorkOrder.objects.filter(kind=WorkOrderKind.CONTRACT).count() == expected


def test_it_keeps_nine_oclock_local_across_both_daylight_saving_changes(make_plan, org,
                                                                        time_machine):
    assert org.time_zone == "America/Chicago"
    time_machine.move_to(dt.datetime(2025, 2, 1, 8, tzinfo=CHICAGO), tick=False)
    plan = make_plan(rrule="FREQ=MONTHLY;BYMONTHDAY=5", start_date=dt.date(2025, 2, 1),
                     horizon_days=320)
    plan_generate(plan=plan, today=dt.date(2025, 2, 1))
    times = local_times(plan)
    # Clocks go forward on 9 March 2025 and back on 2 November 2025.
    assert [d for d, _t in times][:2] == [dt.date(2025, 2, 5), dt.date(2025, 3, 5)]
    assert dt.date(2025, 11, 5) in [d for d, _t in times]
    assert {t for _d, t in times} == {dt.time(9, 0)}
    starts = {o.date: o.visit.start for o in plan.occurrences.select_related("visit")}
    assert starts[dt.date(2025, 3, 5)].astimezone(dt.UTC).hour == 15   # CST, UTC-6
    assert starts[dt.date(2025, 4, 5)].astimezone(dt.UTC).hour == 14   # CDT, UTC-5
    assert starts[dt.date(2025, 11, 5)].astimezone(dt.UTC).hour == 15  # CST again


def test_it_keeps_the_local_time_on_the_days_the_clocks_change(make_plan, time_machine):
    time_machine.move_to(dt.datetime(2025, 3, 1, 8, tzinfo=CHICAGO), tick=False)
    plan = make_plan(rrule="FREQ=DAILY", start_date=dt.date(2025, 3, 8), horizon_days=3,
                     start_time=dt.time(9, 0))
    plan_generate(plan=plan, today=dt.date(2025, 3, 7))
    starts = [o.visit.start for o in plan.occurrences.select_related("visit")]
    assert [s.astimezone(CHICAGO).hour for s in starts] == [9, 9, 9]
    assert starts[1] - starts[0] == dt.timedelta(hours=23)  # the short Sunday


def test_it_is_idempotent(make_plan):
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=TODAY)
    first = plan_generate(plan=plan, today=TODAY)
    audit_count = AuditLog.objects.count()
    second = plan_generate(plan=plan, today=TODAY)
    assert first.created and not second.changed
    assert WorkOrder.objects.count() == len(first.created)
    assert AuditLog.objects.count() == audit_count
    # A day later only the new date at the far end of the horizon is added.
    later = plan_generate(plan=plan, today=TODAY + dt.timedelta(days=7))
    assert len(later.created) == 1


def test_an_edit_updates_untouched_future_work_and_leaves_the_rest_alone(
        make_plan, office, technician, tech2):
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=TODAY, horizon_days=28)
    plan_generate(plan=plan, today=TODAY)
    occ = list(plan.occurrences.select_related("work_order", "visit"))
    assert len(occ) == 5
    started, edited, moved = occ[0], occ[1], occ[2]
    work_order_start(work_order=started.work_order, by=office)
    work_order_update(work_order=edited.work_order, by=office, title="Customer asked: roof")
    Visit.objects.filter(pk=moved.visit.pk).update(
        start=moved.visit.start + dt.timedelta(hours=2),
        end=moved.visit.end + dt.timedelta(hours=2))

    plan_update(plan=plan, by=office, title="HVAC service (new filters)",
                start_time=dt.time(13, 30), default_crew=[tech2], duration_minutes=120)
    result = plan_generate(plan=plan, today=TODAY)

    assert len(result.updated) == 2 and not result.created and not result.cancelled
    for o in occ:
        o.refresh_from_db()
        o.work_order.refresh_from_db()
        o.visit.refresh_from_db()
    assert started.work_order.title == "Quarterly HVAC service"
    assert started.visit.start.astimezone(CHICAGO).time() == dt.time(9, 0)
    assert edited.work_order.title == "Customer asked: roof"
    assert moved.visit.start.astimezone(CHICAGO).time() == dt.time(11, 0)
    for untouched in occ[3:]:
        wo, visit = untouched.work_order, untouched.visit
        assert wo.title == "HVAC service (new filters)"
        assert wo.estimated_minutes == 120
        assert visit.start.astimezone(CHICAGO).time() == dt.time(13, 30)
        assert visit.end - visit.start == dt.timedelta(minutes=120)
        assert list(visit.crew.all()) == [tech2]
        assert visit.sequence == 1
    # Updated work stays untouched: a second edit reaches it again, a rerun changes nothing.
    assert not plan_generate(plan=plan, today=TODAY).changed


def test_a_second_visit_added_by_hand_makes_the_work_touched(make_plan, office):
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=TODAY, horizon_days=6)
    plan_generate(plan=plan, today=TODAY)
    occ = plan.occurrences.select_related("work_order").get()
    visit_add(work_order=occ.work_order, by=office, start=None, end=None)
    plan_update(plan=plan, by=office, title="Changed")
    assert not plan_generate(plan=plan, today=TODAY).changed


def test_shortening_the_horizon_cancels_untouched_work_beyond_it(make_plan, office):
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=TODAY, horizon_days=60)
    plan_generate(plan=plan, today=TODAY)
    far = plan.occurrences.select_related("work_order").last()
    plan_update(plan=plan, by=office, horizon_days=20)
    result = plan_generate(plan=plan, today=TODAY)
    assert len(result.cancelled) == 6
    far.work_order.refresh_from_db()
    assert far.work_order.status == Status.CANCELLED
    assert far.work_order.status_reason == "No longer in the maintenance plan"
    assert not Visit.objects.filter(work_order=far.work_order,
                                    status=VisitStatus.SCHEDULED).exists()
    assert plan.occurrences.count() == 3
    # Lengthening it again raises new work for those dates.
    plan_update(plan=plan, by=office, horizon_days=60)
    assert len(plan_generate(plan=plan, today=TODAY).created) == 6


def test_changing_the_rule_moves_untouched_work_to_the_new_dates(make_plan, office):
    plan = make_plan(rrule="FREQ=WEEKLY;BYDAY=TH", start_date=TODAY, horizon_days=13)
    plan_generate(plan=plan, today=TODAY)
    assert list(plan.occurrences.values_list("date", flat=True)) == [
        dt.date(2025, 1, 2), dt.date(2025, 1, 9)]
    plan_update(plan=plan, by=office, rrule="FREQ=WEEKLY;BYDAY=FR")
    result = plan_generate(plan=plan, today=TODAY)
    assert len(result.cancelled) == 2 and len(result.created) == 2
    assert list(plan.occurrences.values_list("date", flat=True)) == [
        dt.date(2025, 1, 3), dt.date(2025, 1, 10)]


def test_pausing_stops_generation_and_keeps_what_exists(make_plan, office):
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=TODAY, horizon_days=14)
    plan_generate(plan=plan, today=TODAY)
    plan_pause(plan=plan, by=office)
    assert plan.status == PlanStatus.PAUSED
    assert not plan_generate(plan=plan, today=TODAY + dt.timedelta(days=30)).changed
    assert WorkOrder.objects.filter(status=Status.SCHEDULED).count() == 3
    with pytest.raises(ValidationError):
        plan_pause(plan=plan, by=office)
    plan_resume(plan=plan, by=office)
    assert plan.status == PlanStatus.ACTIVE
    assert plan_generate(plan=plan, today=TODAY + dt.timedelta(days=7)).created
    assert AuditLog.objects.filter(action__in=["plan.pause", "plan.resume"]).count() == 2


def test_ending_cancels_future_untouched_work_and_keeps_started_work(make_plan, office):
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=TODAY, horizon_days=21)
    plan_generate(plan=plan, today=TODAY)
    occ = list(plan.occurrences.select_related("work_order"))
    work_order_start(work_order=occ[1].work_order, by=office)
    plan = plan_end(plan=plan, by=office, today=TODAY)
    assert plan.status == PlanStatus.ENDED and plan.end_date == TODAY
    statuses = list(WorkOrder.objects.order_by("due_date").values_list("status", "status_reason"))
    assert statuses[1] == (Status.IN_PROGRESS, "")
    assert [s for i, s in enumerate(statuses) if i != 1] == [(Status.CANCELLED, "Plan ended")] * 3
    assert not plan_generate(plan=plan, today=TODAY).changed
    with pytest.raises(ValidationError):
        plan_resume(plan=plan, by=office)
    assert AuditLog.objects.filter(action="plan.end", actor=office).exists()


def test_skipping_a_date_cancels_its_untouched_work_order(make_plan, office):
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=TODAY, horizon_days=14)
    plan_generate(plan=plan, today=TODAY)
    day = dt.date(2025, 1, 9)
    occ = occurrence_skip(plan=plan, date=day, by=office)
    assert occ.skipped
    occ.work_order.refresh_from_db()
    assert (occ.work_order.status, occ.work_order.status_reason) == (Status.CANCELLED, "Skipped")
    # Skipping again is harmless, and the date is not raised again.
    occurrence_skip(plan=plan, date=day, by=office)
    assert not plan_generate(plan=plan, today=TODAY).changed
    assert AuditLog.objects.filter(action="plan.skip").count() == 1


def test_skipping_a_date_beyond_the_horizon_keeps_it_from_being_raised(make_plan, office):
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=TODAY, horizon_days=7)
    occurrence_skip(plan=plan, date=dt.date(2025, 1, 16), by=office)
    plan_update(plan=plan, by=office, horizon_days=21)
    plan_generate(plan=plan, today=TODAY)
    raised = PlanOccurrence.objects.filter(plan=plan, skipped=False)
    assert list(raised.values_list("date", flat=True)) == [
        dt.date(2025, 1, 2), dt.date(2025, 1, 9), dt.date(2025, 1, 23)]


def test_skipping_refuses_started_work_and_dates_not_in_the_plan(make_plan, office):
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=TODAY, horizon_days=7)
    plan_generate(plan=plan, today=TODAY)
    occ = plan.occurrences.select_related("work_order").first()
    work_order_start(work_order=occ.work_order, by=office)
    with pytest.raises(ValidationError, match="started or changed by hand"):
        occurrence_skip(plan=plan, date=occ.date, by=office)
    with pytest.raises(ValidationError) as exc:
        occurrence_skip(plan=plan, date=dt.date(2025, 1, 3), by=office)
    assert "date" in exc.value.error_dict


def test_a_plan_never_touches_another_plans_work(make_plan, office):
    mine = make_plan(rrule="FREQ=WEEKLY", start_date=TODAY, horizon_days=6)
    theirs = make_plan(name="Other", rrule="FREQ=WEEKLY", start_date=TODAY, horizon_days=6)
    plan_generate(plan=mine, today=TODAY)
    plan_generate(plan=theirs, today=TODAY)
    plan_end(plan=mine, by=office, today=TODAY)
    assert theirs.occurrences.get().work_order.status == Status.SCHEDULED


def test_generation_runs_after_the_commit_when_a_plan_is_saved(
        org, office, customer, site, django_capture_on_commit_callbacks, time_machine):
    with django_capture_on_commit_callbacks(execute=True):
        plan = plan_create(organization=org, by=office, customer=customer, site=site,
                           name="Monthly", rrule="FREQ=MONTHLY", start_date=TODAY)
    assert plan.occurrences.count() == 3  # 2 Jan, 2 Feb and 2 Mar: 60 days ahead


def test_generated_visits_land_over_other_work_and_the_override_is_recorded(
        make_plan, office, technician, customer, site, org):
    from crewline.workorders.services import work_order_create

    busy = work_order_create(organization=org, by=office, customer=customer, site=site,
                             title="Emergency leak")
    visit_add(work_order=busy, by=office, crew=[technician],
              start=dt.datetime(2025, 1, 9, 8, 30, tzinfo=CHICAGO),
              end=dt.datetime(2025, 1, 9, 10, 30, tzinfo=CHICAGO))
    plan = make_plan(rrule="FREQ=WEEKLY;BYDAY=TH", start_date=TODAY, horizon_days=8,
                     default_crew=[technician])
    assert len(plan_generate(plan=plan, today=TODAY).created) == 2
    clash = plan.occurrences.get(date=dt.date(2025, 1, 9)).visit
    assert list(clash.crew.all()) == [technician]
    entry = AuditLog.objects.get(action="visit.add", object_id=str(clash.pk))
    assert entry.changes["override"] == [None, True] and entry.changes["conflicts"][1]
