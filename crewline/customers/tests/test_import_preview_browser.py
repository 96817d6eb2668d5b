"""The customer import's preview on a phone: its tables scroll sideways, so each scrolling
region takes the keyboard's focus and is named by its heading (axe: scrollable-region-focusable)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crewline.customers import importing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"
# Long words that do not wrap: the tables are wider than a phone.
ROWS = [
    ",".join(importing.COLUMNS),
    "Maple-Dental-Springfield-Incorporated,commercial,office@maple.test,555-0100,,ACC-1,"
    "Rosa-Maria-Diaz-Fernandez-Accounts,rosa@maple.test,555-0101,Main-Clinic-Building-A-North,"
    "12 Maple Ave,,Springfield,IL,62701,US,39.781721,-89.650148,Gate 4412",
    "Bad Email,residential,not-an-email-address-at-all-nope-nope,,,,,,,,1 B St,,Town,,,,,,",
]


def test_the_preview_tables_take_the_keyboard_focus_and_have_names(chromium, live_server,
                                                                    office):
    from axe_playwright_python.base import AXE_SCRIPT

    from crewline.conftest import PASSWORD

    context = chromium.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", office.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(live_server.url + "/customers/import/")
    page.set_input_files("input[type=file]", files=[{
        "name": "customers.csv", "mimeType": "text/csv",
        "buffer": ("\n".join(ROWS) + "\n").encode()}])
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url("**/customers/import/preview/")

    regions = page.locator(".table-responsive")
    assert regions.count() == 2
    names = []
    for i in range(regions.count()):
        region = regions.nth(i)
        assert region.get_attribute("tabindex") == "0"
        assert region.get_attribute("role") == "region"
        labelled = page.locator(f"#{region.get_attribute('aria-labelledby')}")
        names.append(labelled.inner_text().strip())
    assert names == ["1 row has errors and will be skipped", "What will be imported"]
    plan = regions.nth(1)
    assert plan.evaluate("(el) => el.scrollWidth > el.clientWidth")  # it does scroll
    plan.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelectorAll('.table-responsive')[1].scrollLeft > 0")
    if os.environ.get("CREWLINE_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "customer-import-preview-360.png"), full_page=True)

    page.evaluate(AXE_SCRIPT)
    found = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'rule', values: "
        "['scrollable-region-focusable', 'aria-allowed-role', 'region']}})")
    assert [v["id"] for v in found["violations"]] == []
    context.close()
