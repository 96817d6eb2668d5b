"""Planning the day in Chromium, as the dispatcher does it: "Plan the day" on the board, the
proposal, "Apply", then "Undo"; and a suggestion in the schedule dialog taken with a click."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from crewline.factories import SiteFactory
from crewline.workorders.models import Visit
from crewline.workorders.services import visit_add, work_order_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"
LOOP, EVANSTON = (41.8781, -87.6298), (42.0451, -87.6877)


@pytest.fixture
def day(org, office, technician):
    from crewline.core.models import Role
    from crewline.factories import MemberFactory

    far_tech = MemberFactory(organization=org, role=Role.TECHNICIAN,
                             user__full_name="Evan Stone", home_latitude=EVANSTON[0],
                             home_longitude=EVANSTON[1])
    technician.home_latitude, technician.home_longitude = LOOP
    technician.save()
    site = SiteFactory(customer__organization=org, customer__name="Lakeview Deli",
                       latitude=EVANSTON[0], longitude=EVANSTON[1])
    wo = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                           title="Walk-in cooler warm")
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    while tomorrow.weekday() >= 5:
        tomorrow += dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time(9), tzinfo=org.tzinfo)
    visit = visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(hours=1),
                      crew=[technician])
    return tomorrow, visit, far_tech


def test_the_dispatcher_plans_applies_and_undoes_the_day(login, office, technician, day):
    tomorrow, visit, far_tech = day
    page = login(office)
    page.goto(f"{page.base}/schedule/?date={tomorrow}")
    page.get_by_role("button", name="Plan the day").click()
    page.wait_for_url("**/schedule/day-plans/*/")
    row = page.locator("table tbody tr").first
    assert "Walk-in cooler warm" in row.inner_text()
    assert "Evan Stone" in row.inner_text() and technician.name in row.inner_text()
    if os.environ.get("CREWLINE_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "plan-the-day-1366.png"), full_page=True)
    page.get_by_role("button", name="Apply the plan: 1 change").click()
    page.get_by_role("status").filter(has_text="Applied at").wait_for()
    assert list(Visit.objects.get(pk=visit.pk).crew.values_list("pk", flat=True)) == [
        far_tech.pk]
    page.get_by_role("button", name="Undo the plan").click()
    page.wait_for_url(f"**/schedule/?date={tomorrow}")
    assert "back as it was" in page.inner_text("body")
    assert list(Visit.objects.get(pk=visit.pk).crew.values_list("pk", flat=True)) == [
        technician.pk]


def test_a_suggestion_is_taken_with_one_click(login, office, technician, org, day):
    tomorrow, _visit, far_tech = day
    site = SiteFactory(customer__organization=org, customer__name="Evanston Books",
                       latitude=EVANSTON[0] + 0.001, longitude=EVANSTON[1])
    wo = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                           title="No heat upstairs")
    page = login(office)
    page.goto(f"{page.base}/schedule/plan/?work_order={wo.number}&state=date%3D{tomorrow}")
    suggestion = page.locator("button[name=suggested]").first
    # Tara is in Evanston already at 09:00: the visit next door adds least after hers.
    assert technician.name in suggestion.inner_text()
    assert "15 min more driving" in suggestion.inner_text()
    assert page.locator("button[name=suggested]").count() == 2
    if os.environ.get("CREWLINE_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "schedule-suggested-1366.png"), full_page=True)
    suggestion.click()
    page.wait_for_url("**/schedule/?**")
    placed = Visit.objects.get(work_order=wo)
    assert list(placed.crew.values_list("pk", flat=True)) == [technician.pk]
    start = placed.start.astimezone(org.tzinfo)
    assert (start.date(), f"{start:%H:%M}") == (tomorrow, "10:15")
