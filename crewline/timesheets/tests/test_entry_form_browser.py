"""Correcting a time entry in a real browser: an error is shown at the field it is about, not
at the top of the form."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from crewline.timesheets.models import TimeKind
from crewline.timesheets.services import time_entry_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"


def _local(value: dt.datetime, tz) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def test_it_shows_each_error_at_its_field(login, office, technician):
    tz = office.organization.tzinfo
    start = timezone.now().astimezone(tz).replace(second=0, microsecond=0) - dt.timedelta(
        hours=5)
    entry = time_entry_add(member=technician, by=office, kind=TimeKind.SHIFT, start=start,
                           end=start + dt.timedelta(hours=4))
    page = login(office)
    page.goto(f"{page.base}/timesheets/entries/{entry.pk}/edit/")

    # An end tomorrow is in the future: the message is under End, and End is marked invalid.
    page.get_by_label("End").fill(_local(start + dt.timedelta(days=1), tz))
    page.get_by_role("button", name="Save").click()
    end = page.get_by_label("End")
    assert "is-invalid" in end.get_attribute("class")
    # Told next to the field, and by it to a screen reader.
    assert "id_end_error" in end.get_attribute("aria-describedby")
    assert page.inner_text("#id_end_error").strip() == "That time is in the future."
    assert page.locator("form .alert-danger").count() == 0
    assert "is-invalid" not in page.get_by_label("Start").get_attribute("class")
    if os.environ.get("CREWLINE_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "time-entry-error-1366.png"), full_page=True)
        page.set_viewport_size({"width": 360, "height": 740})
        page.screenshot(path=str(SHOTS / "time-entry-error-360.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})

    # A start in the future is told at Start.
    page.get_by_label("Start").fill(_local(start + dt.timedelta(days=2), tz))
    page.get_by_label("End").fill("")
    page.get_by_role("button", name="Save").click()
    assert "is-invalid" in page.get_by_label("Start").get_attribute("class")
    assert page.inner_text("#id_start_error").strip() == "That time is in the future."
    assert page.locator("form .alert-danger").count() == 0

    # More than 24 hours is about the end.
    page.get_by_label("Start").fill(_local(start - dt.timedelta(days=2), tz))
    page.get_by_label("End").fill(_local(start, tz))
    page.get_by_role("button", name="Save").click()
    assert page.inner_text("#id_end_error").strip() == "An entry cannot be longer than 24 hours."
    entry.refresh_from_db()
    assert entry.end == start + dt.timedelta(hours=4)
