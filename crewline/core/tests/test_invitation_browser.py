"""Accepting an invitation in a real browser: the address invited is shown in a field whose
visible label names it, and the account is made with it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.core import mail

from crewline.core.models import Member, Role
from crewline.core.services import invitation_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"


def invitation_token(org, owner, email: str) -> str:
    invitation_create(organization=org, email=email, role=Role.TECHNICIAN, by=owner)
    return re.search(r"/invite/([^/\s]+)/", mail.outbox[-1].body).group(1)


def test_the_invited_address_has_a_visible_label_tied_to_it(browser_page, org, owner):
    token = invitation_token(org, owner, "new.tech@example.com")
    page = browser_page
    page.goto(f"{page.base}/invite/{token}/")
    field = page.get_by_label("Email address", exact=True)
    assert field.input_value() == "new.tech@example.com"
    assert field.get_attribute("readonly") is not None
    assert field.get_attribute("autocomplete") == "username"
    assert page.locator("label[for=invite-email]").is_visible()
    # Reachable with the keyboard (a disabled field is skipped), and described.
    field.focus()
    assert page.evaluate("() => document.activeElement.id") == "invite-email"
    assert "you log in with it" in page.inner_text("#invite-email-help")
    if os.environ.get("CREWLINE_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "invite-accept-1366.png"), full_page=True)
        page.set_viewport_size({"width": 360, "height": 740})
        page.screenshot(path=str(SHOTS / "invite-accept-360.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})

    page.get_by_label("Your name").fill("Nia New")
    page.fill("input[name=password1]", "a long enough passphrase 42")
    page.fill("input[name=password2]", "a long enough passphrase 42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/invite/).*$"))
    assert Member.objects.get(organization=org, user__email="new.tech@example.com").role == \
        Role.TECHNICIAN
