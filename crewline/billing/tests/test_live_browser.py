"""Office pages that follow what happens elsewhere, in a real browser over the live stream:
the open quote page when the customer approves it on the public page, and a work order's
report list when a new version is made. Uvicorn on a SQLite file of its own, as in
crewline/live/tests/test_browser.py."""

from __future__ import annotations

import json

import pytest

from crewline.live.tests.servers import (
    _manage,
    server_env,
    sqlite_database,
    start_servers,
    stop_servers,
)

pytestmark = pytest.mark.browser

SETUP = """
import json
from decimal import Decimal
from django.contrib.sessions.backends.db import SessionStore
from crewline.billing import services
from crewline.core.models import Role
from crewline.factories import MemberFactory, OrganizationFactory, SiteFactory
from crewline.workorders.services import work_order_create
org = OrganizationFactory(slug="quotelive")
office = MemberFactory(organization=org, role=Role.OFFICE, user__email="ql@example.com")
site = SiteFactory(customer__organization=org, customer__name="Maple Dental")
wo = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                       title="Boiler service")
quote = services.quote_create(organization=org, by=office, customer=site.customer,
                              title="New boiler")
services.quote_line_add(quote=quote, by=office, description="Boiler", unit_price=Decimal(900))
services.quote_send(quote=quote, by=office, to="rosa@maple.example")
token = services.quote_link_token(quote=quote)
session = SessionStore()
session["_auth_user_id"] = str(office.user.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = office.user.get_session_auth_hash()
session.create()
print(json.dumps({"quote": quote.pk, "token": token, "number": wo.number,
                  "session": session.session_key}))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("billing-live")
    env = server_env(tmp_path, LIVE_BROKER="memory")
    sqlite_database(env, tmp_path)
    data = json.loads(_manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
    [port], servers = start_servers(env, 1, "crewline.live.tests.asgi_static:application")
    try:
        yield f"http://127.0.0.1:{port}", data
    finally:
        stop_servers(servers)


def _page(chromium, base: str, session: str | None = None):
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    if session:
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_the_open_quote_page_shows_the_customers_approval_without_reload(chromium, site):
    base, data = site
    office = _page(chromium, base, data["session"])
    customer = _page(chromium, base)
    try:
        office.goto(f"{base}/billing/quotes/{data['quote']}/")
        office.wait_for_function("() => document.documentElement.dataset.live === 'open'")
        office.evaluate("window.notReloaded = true")
        assert office.locator("#quote-side :text('Approved')").count() == 0
        fetched = []
        office.on("request", lambda r: fetched.append(r.url) if "/billing/" in r.url else None)

        customer.goto(f"{base}/q/{data['token']}/")
        customer.fill("input[name=approve-name]", "Rosa Diaz")
        box = customer.locator("#signature-pad").bounding_box()
        customer.mouse.move(box["x"] + 20, box["y"] + 100)
        customer.mouse.down()
        for x, y in ((80, 40), (140, 120), (220, 50), (300, 110)):
            customer.mouse.move(box["x"] + x, box["y"] + y, steps=5)
        customer.mouse.up()
        customer.click("button[value=approve]")
        customer.wait_for_selector("#quote-state")

        office.wait_for_selector("#quote-side :text('Rosa Diaz')", timeout=3_000)
        office.wait_for_selector("#quote-head button:text('Make work order')", timeout=3_000)
        assert office.evaluate("window.notReloaded") is True
        # Only the quote's parts were asked for, not the page.
        assert fetched and all(f"/billing/quotes/{data['quote']}/live/?what=quote" in u
                               for u in fetched)
    finally:
        office.context.close()
        customer.context.close()


def test_the_report_list_shows_a_new_version_without_reload(chromium, site):
    base, data = site
    url = f"{base}/work-orders/{data['number']}/"
    watcher = _page(chromium, base, data["session"])
    writer = _page(chromium, base, data["session"])
    try:
        watcher.goto(url)
        watcher.wait_for_function("() => document.documentElement.dataset.live === 'open'")
        watcher.wait_for_selector("#job-report-rows :text('A report is made when')")
        watcher.evaluate("window.notReloaded = true")
        writer.goto(url)
        writer.click("#job-reports button[type=submit]")
        writer.wait_for_selector("#job-report-rows :text('Version 1')")
        watcher.wait_for_selector("#job-report-rows :text('Version 1')", timeout=5_000)
        assert watcher.evaluate("window.notReloaded") is True
    finally:
        watcher.context.close()
        writer.context.close()
