"""Chromium reads the Permissions-Policy header of every page and names in the console any
feature it does not know; the header lists only features it recognises."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _policy_messages(page, url: str) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(url)
    page.wait_for_load_state("load")
    return [m for m in messages if "Permissions-Policy" in m or "Permissions Policy" in m]


def test_it_names_no_feature_chromium_does_not_recognise(browser_page):
    response_policy = None
    page = browser_page

    def keep(response):
        nonlocal response_policy
        if response.url.endswith("/login/"):
            response_policy = response.headers.get("permissions-policy")

    page.on("response", keep)
    assert _policy_messages(page, page.base + "/login/") == []
    assert response_policy and "camera=()" in response_policy


def test_the_technician_app_header_is_clean_too(login, technician):
    page = login(technician)
    assert _policy_messages(page, page.base + "/field/") == []
