"""The office's "Plan the day" pages: propose from the board, look, apply, undo; a technician
may not (403) and another organization's office does not see the plan (404)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from crewline.scheduling.models import RoutePlan
from crewline.scheduling.tests.conftest import EVANSTON, LOOP, at
from crewline.workorders.models import Visit

pytestmark = pytest.mark.django_db

TUE = (2025, 6, 3)


@pytest.fixture
def day(org, tara, sam, make_visit, evanston_site):
    tara.home_latitude, tara.home_longitude = LOOP
    tara.save()
    sam.home_latitude, sam.home_longitude = EVANSTON
    sam.save()
    return make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara], site=evanston_site)


@time_machine.travel(at(*TUE, 7), tick=False)
def test_the_office_plans_applies_and_undoes_the_day(office_client, day, sam, tara):
    board = office_client.get(reverse("scheduling:board"), {"date": "2025-06-03"})
    assert reverse("scheduling:route_plan_propose") in board.content.decode()
    response = office_client.post(reverse("scheduling:route_plan_propose"),
                                  {"date": "2025-06-03"})
    plan = RoutePlan.objects.get()
    assert response.url == reverse("scheduling:route_plan", args=[plan.pk])
    page = office_client.get(response.url).content.decode()
    assert f"WO-{day.work_order.number}" in page
    assert "09:00–10:00 · Tara Nguyen" in page and "Sam Lee" in page
    assert "Apply the plan: 1 change" in page

    response = office_client.post(reverse("scheduling:route_plan_apply", args=[plan.pk]))
    assert response.status_code == 302
    day.refresh_from_db()
    assert list(day.crew.values_list("pk", flat=True)) == [sam.pk]
    page = office_client.get(reverse("scheduling:route_plan", args=[plan.pk])).content.decode()
    assert "Undo the plan" in page and "Apply the plan" not in page

    office_client.post(reverse("scheduling:route_plan_undo", args=[plan.pk]))
    day.refresh_from_db()
    assert list(day.crew.values_list("pk", flat=True)) == [tara.pk]
    page = office_client.get(reverse("scheduling:route_plan", args=[plan.pk])).content.decode()
    assert "applied and then undone" in page and "Undo the plan" not in page


def test_a_bad_day_is_refused_with_a_message(office_client):
    response = office_client.post(reverse("scheduling:route_plan_propose"), {"date": "soon"},
                                  follow=True)
    assert "Choose the day to plan." in response.content.decode()
    assert not RoutePlan.objects.exists()


@time_machine.travel(at(*TUE, 7), tick=False)
def test_a_technician_may_not_and_another_organization_sees_nothing(
        office, tech_client, outsider_client, org, day):
    from crewline.scheduling import routes

    plan = routes.route_plan_propose(organization=org, day=dt.date(*TUE), by=office,
                                     seconds=0.2)
    for name in ("scheduling:route_plan", "scheduling:route_plan_apply",
                 "scheduling:route_plan_undo"):
        url = reverse(name, args=[plan.pk])
        method = tech_client.get if name == "scheduling:route_plan" else tech_client.post
        assert method(url).status_code == 403
        method = (outsider_client.get if name == "scheduling:route_plan"
                  else outsider_client.post)
        assert method(url).status_code == 404
    assert tech_client.post(reverse("scheduling:route_plan_propose"),
                            {"date": "2025-06-03"}).status_code == 403
    plan.refresh_from_db()
    assert plan.applied_at is None
    assert list(Visit.objects.get(pk=day.pk).crew.values_list("pk", flat=True)) == [
        day.crew.get().pk]


@time_machine.travel(at(*TUE, 7), tick=False)
def test_the_schedule_dialog_suggests_the_best_technicians_and_schedules_one(
        office_client, org, day, sam, tara, evanston_site):
    from crewline.factories import WorkOrderFactory

    waiting = WorkOrderFactory(organization=org, customer=evanston_site.customer,
                               site=evanston_site, estimated_minutes=60)
    url = reverse("scheduling:schedule")
    page = office_client.get(url, {"work_order": waiting.number,
                                   "state": "date=2025-06-03"}).content.decode()
    assert "Suggested" in page
    # Sam lives in Evanston, where the job is: first, no drive added beyond the way there.
    first = page.index('name="suggested"')
    assert f'value="{sam.pk},2025-06-03,08:' in page[first:first + 200]
    assert page.count('name="suggested"') == 2  # two technicians in all
    value = page[first:].split('value="', 1)[1].split('"', 1)[0]
    response = office_client.post(url, {"work_order": waiting.number, "suggested": value,
                                        "minutes": "60", "date": "2025-06-09",
                                        "start": "13:00", "state": "date=2025-06-03"})
    assert response.status_code == 302
    visit = Visit.objects.get(work_order=waiting)
    assert list(visit.crew.values_list("pk", flat=True)) == [sam.pk]
    start = visit.start.astimezone(org.tzinfo)
    assert (start.date().isoformat(), f"{start:%H:%M}") == ("2025-06-03", value.split(",")[2])
    assert visit.end - visit.start == dt.timedelta(hours=1)


def test_suggestions_respect_skills_and_say_when_a_window_is_bent(org, tara, sam,
                                                                  evanston_site):
    from crewline.factories import SkillFactory, WorkOrderFactory
    from crewline.scheduling import routes

    gas = SkillFactory(organization=org, name="Gas")
    tara.skills.add(gas)
    job = WorkOrderFactory(organization=org, customer=evanston_site.customer,
                           site=evanston_site, estimated_minutes=60,
                           requested_start=at(*TUE, 6), requested_end=at(*TUE, 7))
    job.required_skills.add(gas)
    found = routes.suggestions(organization=org, day=dt.date(*TUE), work_order=job,
                               now=at(*TUE, 5))
    assert [s.member for s in found] == [tara]
    # The window (06:00-07:00) is before anyone's day: offered outside it, and said so.
    assert found[0].bent == ("window",)


def test_the_schedule_dialog_keeps_a_visit_in_place(office_client, org, day, tara):
    url = reverse("scheduling:schedule")
    page = office_client.get(url, {"visit": day.pk}).content.decode()
    assert 'name="locked"' in page and "Keep in place when the day is planned" in page
    office_client.post(url, {"visit": day.pk, "crew": [tara.pk], "date": "2025-06-03",
                             "start": "09:00", "minutes": "60", "locked": "on"})
    day.refresh_from_db()
    assert day.locked
    office_client.post(url, {"visit": day.pk, "crew": [tara.pk], "date": "2025-06-03",
                             "start": "09:00", "minutes": "60"})
    day.refresh_from_db()
    assert not day.locked


@time_machine.travel(at(*TUE, 18), tick=False)
def test_work_from_the_queue_after_the_day_is_over_is_suggested_on_the_next_day(
        office_client, org, day, sam, evanston_site):
    from crewline.factories import WorkOrderFactory

    waiting = WorkOrderFactory(organization=org, customer=evanston_site.customer,
                               site=evanston_site, estimated_minutes=60)
    page = office_client.get(reverse("scheduling:schedule"),
                             {"work_order": waiting.number,
                              "state": "date=2025-06-03"}).content.decode()
    first = page.index('name="suggested"')
    # 18:00 on Tuesday: the working day is over, so Wednesday morning, Sam first (Evanston).
    assert f'value="{sam.pk},2025-06-04,08:' in page[first:first + 200]
    assert "Wed 4 Jun" in page


@time_machine.travel(at(*TUE, 7), tick=False)
def test_work_no_one_can_do_says_so_in_the_dialog(office_client, org, day, evanston_site):
    from crewline.factories import SkillFactory, WorkOrderFactory

    job = WorkOrderFactory(organization=org, customer=evanston_site.customer,
                           site=evanston_site, estimated_minutes=60)
    job.required_skills.add(SkillFactory(organization=org, name="Welding"))
    page = office_client.get(reverse("scheduling:schedule"),
                             {"work_order": job.number,
                              "state": "date=2025-06-03"}).content.decode()
    assert 'name="suggested"' not in page
    assert "No technician has room for this job in the next 7 days." in page
