"""A new contractor in a real browser: sign up (the browser's time zone preselected, the labor
rate asked), land on the getting-started list, and see steps ticked as they are done."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crewline.billing.services import labor_item_for
from crewline.core.models import Organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def calcutta_page(chromium, live_server):
    # Chromium reports this zone by its old name, Asia/Calcutta: the list offers Asia/Kolkata.
    context = chromium.new_context(viewport={"width": 1366, "height": 900},
                                   timezone_id="Asia/Kolkata")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base = live_server.url
    yield page
    context.close()


def test_a_new_contractor_signs_up_and_is_led_through_setting_up(calcutta_page):
    page = calcutta_page
    page.goto(f"{page.base}/signup/")
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") in (
        "Asia/Kolkata", "Asia/Calcutta")
    assert page.input_value("#id_time_zone") == "Asia/Kolkata"
    assert page.locator("#id_time_zone optgroup[label=Asia]").count() == 1
    page.fill("#id_organization_name", "Bright Spark Electric")
    page.fill("#id_labor_rate", "88.50")
    page.fill("#id_full_name", "Sam Spark")
    page.fill("#id_email", "sam@brightspark.example")
    page.fill("#id_password1", "lightning rod 42")
    page.fill("#id_password2", "lightning rod 42")
    page.click("button[type=submit]")
    page.wait_for_url("**/getting-started/")

    org = Organization.objects.get(name="Bright Spark Electric")
    assert org.time_zone == "Asia/Kolkata"
    assert labor_item_for(org).unit_price == Decimal("88.50")

    def done(step: str) -> bool:
        return "done" in page.get_attribute(f"[data-step={step}]", "class")

    assert done("labor_rate") and not done("company") and not done("team")
    page.click("[data-step=company] a")
    page.fill("#id_org-phone", "555-0100")
    page.fill("#id_org-address", "12 Main St\nSpringfield IL 62701")
    page.click("form[action$='/settings/'] button[type=submit]")
    page.goto(f"{page.base}/getting-started/")
    assert done("company")

    page.click("[data-step=team] a")
    page.fill("#id_email", "tara@brightspark.example")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/team/")
    page.goto(f"{page.base}/getting-started/")
    assert done("team")


def test_the_empty_labor_rate_looks_empty_with_its_hint_below(browser_page):
    page = browser_page
    page.goto(f"{page.base}/signup/")
    field = page.get_by_label("Labor rate per hour")
    assert field.input_value() == ""
    # No placeholder a user could take for a rate already filled in; the example is in the
    # hint under the field, which the field is described by.
    assert field.get_attribute("placeholder") in (None, "")
    hint_id = field.get_attribute("aria-describedby")
    hint = page.locator(f"#{hint_id}")
    assert "for example 95.00" in hint.inner_text() and "Optional" in hint.inner_text()
    field_box, hint_box = field.bounding_box(), hint.bounding_box()
    assert hint_box["y"] >= field_box["y"] + field_box["height"]
    if shots := _shots():
        page.locator("form").screenshot(path=str(shots / "signup-labor-rate-1366.png"))
        page.set_viewport_size({"width": 360, "height": 740})
        field.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "signup-labor-rate-360.png"))


def _shots():
    import os
    from pathlib import Path

    if not os.environ.get("CREWLINE_SHOTS"):
        return None
    path = Path(__file__).resolve().parents[3] / "var" / "shots"
    path.mkdir(parents=True, exist_ok=True)
    return path
