"""The interactive docs at /api/v1/docs load in Chromium with nothing but this site (no CDN:
every other address is refused) and break nothing of the Content-Security-Policy; the owner's
API keys page makes a key, shows it once and revokes it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from crewline.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


def _offline(page):
    """Refuse every request that is not to the test server; returns what was refused."""
    refused: list[str] = []

    def handle(route):
        if route.request.url.startswith(page.base):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    page.add_init_script(CSP_LISTENER)
    return refused


def _shot(page, name):
    if os.environ.get("CREWLINE_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_docs_load_from_this_site_under_its_policy(browser_page):
    page = browser_page
    refused = _offline(page)
    response = page.goto(page.base + "/api/v1/docs")
    assert response.status == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert page.locator(".swagger-ui .opblock").count() >= 10
    assert "Crewline API" in page.locator(".swagger-ui .info .title").inner_text()
    # Opening an operation renders its parameters and the problem details it may answer.
    page.locator(".opblock-summary", has_text="/api/v1/changes").first.click()
    page.wait_for_selector(".opblock.is-open .parameters")
    _shot(page, "api-docs")
    assert refused == []
    assert page.evaluate("() => window.__cspViolations") == []


def test_the_owner_makes_a_key_sees_it_once_and_revokes_it(browser_page, owner):
    page = browser_page
    refused = _offline(page)
    page.goto(page.base + "/login/")
    page.fill("input[name=username]", owner.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(page.base + "/settings/api-keys/")
    page.fill("input[name=name]", "Accounting sync")
    page.check("input[value='read:customers']")
    page.check("input[value='write:work_orders']")
    page.click("button:has-text('Create key')")
    key = page.input_value("#new-key")
    assert re.fullmatch(r"cl_[0-9a-f]{12}_\S+", key)
    _shot(page, "api-keys-desktop")
    page.set_viewport_size({"width": 360, "height": 740})
    _shot(page, "api-keys-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.reload()  # asks to send the form again: go to the page instead
    page.goto(page.base + "/settings/api-keys/")
    assert key not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Revoke')")
    page.wait_for_selector("text=is revoked")
    assert page.locator(".badge", has_text="Revoked").count() == 1
    assert refused == []
    assert page.evaluate("() => window.__cspViolations") == []
