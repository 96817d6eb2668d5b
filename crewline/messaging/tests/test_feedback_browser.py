"""The feedback page in Chromium at a phone's and a desktop's size: no serious accessibility
violation, nothing the Content-Security-Policy blocks, and a rating given with taps. Its
screenshots are kept in var/shots/ (feedback-<size>-<state>.png)."""

from __future__ import annotations

import pytest

from crewline.core.tests.test_accessibility_browser import SHOTS, VIEWPORTS, Audit, new_page
from crewline.messaging.models import Feedback
from crewline.portal.services import portal_link_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_feedback_page_works_on_a_phone_and_a_desktop(chromium, live_server, wo, size):
    type(wo).objects.filter(pk=wo.pk).update(status="completed")
    token = portal_link_issue(customer=wo.customer, by=None, sent_to="")[1]
    audit = Audit(size)
    context, page = new_page(chromium, live_server.url, VIEWPORTS[size])
    try:
        response = page.goto(f"{page.base}/p/{token}/feedback/{wo.number}/")
        assert response.status == 200
        audit.check(page, "feedback")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"feedback-{size}-form.png"), full_page=True)
        # A star button is at least 44 x 44 px (WCAG 2.5.5), and all five fit in one row.
        boxes = [page.locator(f"label[for=rating-{n}]").bounding_box() for n in range(1, 6)]
        assert all(b["width"] >= 44 and b["height"] >= 44 for b in boxes), boxes
        assert len({round(b["y"]) for b in boxes}) == 1, boxes
        page.click("label[for=rating-4]")
        page.fill("textarea[name=comment]", "Quick and tidy, thank you.")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=feedback-thanks]")
        audit.check(page, "feedback given")
        page.screenshot(path=str(SHOTS / f"feedback-{size}-thanks.png"), full_page=True)
    finally:
        context.close()
    assert not audit.blocking(), audit.blocking()
    assert not audit.csp(), audit.csp()
    given = Feedback.objects.get()
    assert (given.rating, given.comment) == (4, "Quick and tidy, thank you.")
