"""The office's timesheet review in a real browser: a day with more job labor on visits than
paid (clocked) time is flagged where the office approves the week, and the page passes axe."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from crewline.factories import SiteFactory
from crewline.timesheets.models import TimeKind
from crewline.timesheets.services import time_entry_add
from crewline.workorders.services import labor_set, visit_add, work_order_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"


def local(org, day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=org.tzinfo)


def test_the_review_flags_labor_past_the_paid_time(login, org, owner, office, technician):
    from axe_playwright_python.base import AXE_SCRIPT

    site = SiteFactory(customer__organization=org)
    wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                           title="Boiler service")
    visit = visit_add(work_order=wo, by=owner, start=local(org, "2025-03-04", "09:00"),
                      end=local(org, "2025-03-04", "12:00"), crew=[technician], override=True)
    time_entry_add(member=technician, by=office, kind=TimeKind.SHIFT,
                   start=local(org, "2025-03-04", "08:00"), end=local(org, "2025-03-04", "12:00"))
    labor_set(visit=visit, by=technician, minutes=5 * 60 + 15,
              device_time=local(org, "2025-03-04", "12:00"))

    page = login(office)
    page.goto(f"{page.base}/timesheets/?week=2025-03-03")
    assert page.get_by_text("Labor over paid time").is_visible()
    page.click(f"a[href='/timesheets/{technician.pk}/2025-03-03/']")
    flag = page.locator("[data-testid=labor-over-paid]")
    assert flag.is_visible()
    assert "Tue 4 Mar: job labor 5:15, paid 4:00 (1:15 more)" in flag.inner_text()
    row = page.locator("tr:has([data-testid=labor-over-paid-day])")
    assert row.count() == 1 and "Tue 4 Mar" in row.inner_text()
    assert "labor 1:15 over paid" in row.inner_text()
    for width, height in ((1366, 900), (360, 740)):
        page.set_viewport_size({"width": width, "height": height})
        if os.environ.get("CREWLINE_SHOTS"):
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"timesheet-labor-over-paid-{width}.png"),
                            full_page=True)
        assert flag.is_visible() and row.locator("[data-testid=labor-over-paid-day]").is_visible()
        page.evaluate(AXE_SCRIPT)
        found = page.evaluate(
            "() => axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})")
        assert [(v["id"], v["impact"]) for v in found["violations"]
                if v["impact"] in ("serious", "critical")] == [], width
