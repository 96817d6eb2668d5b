"""The owner's messaging settings, a work order's messages card and the customer's text
message card in Chromium: no serious accessibility violation, nothing the policy blocks.
Screenshots in var/shots/ (messages-<size>-<page>.png)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crewline.conftest import PASSWORD
from crewline.core.tests.test_accessibility_browser import SHOTS, VIEWPORTS, Audit, new_page
from crewline.messaging.models import Feedback, Message
from crewline.messaging.services import opt_out_set

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_office_sees_messages_settings_and_opt_outs(chromium, live_server, wo, owner,
                                                        size):
    now = timezone.now()
    for kind, status in (("confirmation", "delivered"), ("reminder", "queued"),
                         ("feedback", "sent")):
        Message.objects.create(organization=wo.organization, kind=kind, work_order=wo,
                               customer=wo.customer, channel="sms", to="+13125550123",
                               scheduled_for=now, status=status,
                               sent_at=now if status != "queued" else None)
    Feedback.objects.create(organization=wo.organization, work_order=wo, customer=wo.customer,
                            rating=5, comment="Spotless.")
    opt_out_set(organization_id=wo.organization_id, number="+13125550123", out=True,
                keyword="STOP")
    audit = Audit(size)
    context, page = new_page(chromium, live_server.url, VIEWPORTS[size])
    try:
        page.goto(page.base + "/login/")
        page.fill("input[name=username]", owner.user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        SHOTS.mkdir(parents=True, exist_ok=True)
        for name, path in (("settings", "/settings/messages/"),
                           ("work-order", f"/work-orders/{wo.number}/"),
                           ("customer", f"/customers/{wo.customer.pk}/")):
            assert page.goto(page.base + path).status == 200, path
            audit.check(page, name)
            page.screenshot(path=str(SHOTS / f"messages-{size}-{name}.png"), full_page=True)
    finally:
        context.close()
    assert not audit.blocking(), audit.blocking()
    assert not audit.csp(), audit.csp()
