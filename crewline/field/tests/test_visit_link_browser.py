"""A link to a visit from outside the technician app (the calendar feed, an email, a push) on
a phone that is not logged in: after the login the app opens that visit, not the day."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from crewline.calendars.ical import job_url
from crewline.conftest import PASSWORD
from crewline.notifications.models import Notification, NotificationKind
from crewline.notifications.tasks import link_path, push_payload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"


def test_the_visit_survives_the_login(chromium, live_server, technician, make_visit, settings):
    make_visit(crew=[technician], title="Annual boiler service")
    visit = make_visit(crew=[technician], hour=13, title="No heat in surgery 2")
    settings.SITE_URL = live_server.url
    note = Notification.objects.create(
        organization=technician.organization, recipient=technician,
        kind=NotificationKind.VISIT_MOVED, title="Moved", data={"visit": visit.pk},
        url="/work-orders/my-visits/")
    # The calendar's event, the email and the push all link the same way.
    link = job_url(visit, for_office=False)
    assert link == f"{live_server.url}/field/?visit={visit.pk}"
    assert link_path(note) == f"/field/?visit={visit.pk}"
    assert push_payload(note)["url"] == link

    context = chromium.new_context(viewport=PHONE, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(link)
    assert "/login/" in page.url
    page.fill("input[name=username]", technician.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/#visit/\d+$"))
    page.wait_for_selector("[data-testid=visit-status]")
    assert page.url.endswith(f"/field/#visit/{visit.pk}")  # the query handed to the route
    assert "No heat in surgery 2" in page.inner_text("#field-app")
    if os.environ.get("CREWLINE_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "field-visit-from-link-360.png"))

    # The app's own routes still work: the day, and a visit by its hash.
    page.evaluate("() => { location.hash = ''; }")
    page.wait_for_selector("[data-visit] .field-visit-link")
    assert "?" not in page.url
    page.goto(f"{live_server.url}/field/#visit/{visit.pk}")
    page.wait_for_selector("[data-testid=visit-status]")
    context.close()
