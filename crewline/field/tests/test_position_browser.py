"""The technician app in Chromium at phone size: "On my way" sends where the phone is (the
position asked for then), the app sends it again on the way, and arriving forgets it."""

from __future__ import annotations

import re
import time

import pytest

from crewline.conftest import PASSWORD
from crewline.field.models import TravelPosition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("Timed out")


def test_on_my_way_sends_the_position_and_arriving_forgets_it(
        chromium, live_server, technician, make_visit):
    visit = make_visit(crew=[technician], title="No heat in surgery 2")
    context = chromium.new_context(viewport={"width": 360, "height": 740}, has_touch=True,
                                   geolocation={"latitude": 41.95, "longitude": -87.63})
    context.grant_permissions(["geolocation"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", technician.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/$"))
    page.wait_for_selector("body[data-ready='1']")
    page.click(f"[data-visit='{visit.pk}'] .field-visit-link")
    page.wait_for_selector("[data-testid=visit-status]")
    assert not TravelPosition.objects.exists()

    page.click("[data-do=visit_en_route]")
    page.wait_for_selector("[data-testid=visit-status]:has-text('On the way')")
    kept = wait_for(lambda: TravelPosition.objects.filter(visit=visit).first())
    assert (kept.latitude, kept.longitude) == (41.95, -87.63)

    # On the way: the next position replaces it (the app sends one every half minute; the
    # test asks for it at once).
    context.set_geolocation({"latitude": 41.92, "longitude": -87.631})
    page.evaluate("() => window.CrewlineField.positions()")
    wait_for(lambda: TravelPosition.objects.filter(visit=visit, latitude=41.92).exists())
    kept.refresh_from_db()
    assert (kept.start_latitude, kept.start_longitude) == (41.95, -87.63)

    page.click("[data-do=visit_arrive]")
    page.wait_for_selector("[data-testid=visit-status]:has-text('On site')")
    wait_for(lambda: not TravelPosition.objects.exists())
    # Not on the way: nothing is sent.
    page.evaluate("() => window.CrewlineField.positions()")
    page.wait_for_timeout(1000)
    assert not TravelPosition.objects.exists()
    context.close()
