"""The office in Spanish: an owner who chose Spanish sees the demo company's main screens in
Spanish at desktop (1366x900) and phone (360x740) size. Each is photographed
(``var/shots/office-es-<size>-<screen>.png``) and checked for words that overflow or are cut:
no button, badge, tab or label wider than its box, nothing past the right edge."""

from __future__ import annotations

import re

import pytest

from crewline.core.tests.test_accessibility_browser import (  # noqa: F401 - the fixture
    SHOTS,
    VIEWPORTS,
    office_screens,
    public_screens,
    scene,
)
from crewline.demo.seed import DEMO_PASSWORD
from crewline.field.tests.test_app_spanish_browser import OVERFLOWING

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = ("dashboard", "work order list", "work order detail", "new work order",
           "customer detail", "board day", "quote", "invoice", "timesheet week", "team",
           "settings", "profile")
# English that would show the page was not translated (each is translated on these screens).
ENGLISH = re.compile(r">\s*(Work orders|Customers|Save|Cancel|Edit|Dashboard|Schedule)\s*<")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_office_reads_in_spanish(chromium, live_server, scene, size):  # noqa: F811
    scene.owner.language = "es"
    scene.owner.save(update_fields=["language"])
    context = chromium.new_context(viewport=VIEWPORTS[size], locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", scene.owner.user.email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    screens = dict(office_screens(scene)) | dict(public_screens(scene))
    public_names = set(dict(public_screens(scene)))
    problems = {}
    for name in SCREENS:
        page.goto(live_server.url + screens[name])
        page.wait_for_load_state("networkidle")
        assert page.get_attribute("html", "lang") == "es", name
        page.screenshot(path=str(SHOTS / f"office-es-{size}-{name.replace(' ', '-')}.png"),
                        full_page=True)
        cut = page.evaluate(OVERFLOWING)
        english = ENGLISH.findall(page.content())
        if name not in public_names and "Órdenes de trabajo" not in page.text_content("nav.navbar"):
            english.append("the menu is not in Spanish")
        if cut or english:
            problems[name] = cut + english
    context.close()
    assert problems == {}, problems
