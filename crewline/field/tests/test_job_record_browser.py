"""The technician app at 360x740 on the job record: times written as the office writes them, a
"moved" notice opened in full and marked read, a part the office added after login picked from
the price book after a sync, photos shared or kept internal one by one, and the last visit
finished with "job complete" or "needs another visit"."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from crewline.conftest import PASSWORD
from crewline.field.tests.conftest import today_at
from crewline.notifications.models import Notification
from crewline.workorders.models import (
    EntryKind,
    Status,
    TimelineEntry,
    Visibility,
    VisitOutcome,
    VisitStatus,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"


def jpeg(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), color).save(out, "JPEG", quality=80)
    return out.getvalue()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"field-{name}.png"), full_page=False)


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True,
                                   locale="en-US", timezone_id="America/New_York")
    context.base = live_server.url
    yield context
    context.close()


def log_in(context, member):
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(context.base + "/login/")
    page.fill("input[name=username]", member.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/$"))
    page.wait_for_selector("body[data-ready='1']")
    return page


def scroll_to(page, selector: str) -> None:
    # The app redraws after each sync: scroll to whichever copy of the element is there now.
    page.wait_for_selector(selector)
    page.evaluate("(s) => document.querySelector(s).scrollIntoView()", selector)


def synced(page) -> None:
    page.evaluate("window.CrewlineField.sync()")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=pending]').textContent === 'All sent'")


def test_a_day_on_the_phone_keeps_the_job_record(phone, technician, office, owner,
                                                 make_visit):
    from crewline.billing.services import price_item_create
    from crewline.workorders.services import visit_schedule

    first = make_visit(crew=[technician], hour=9, title="No heat in surgery 2")
    second = make_visit(crew=[technician], hour=13, title="Radiator leaking")
    from django.utils import timezone

    Notification.objects.update(read_at=timezone.now())  # "new visit": seen yesterday
    # The office moves the afternoon visit: the technician is told.
    visit_schedule(visit=second, start=today_at(14), end=today_at(15) + dt.timedelta(
        minutes=30), by=office, override=True)
    notice = Notification.objects.get(recipient=technician, read_at__isnull=True)
    assert notice.kind == "visit_moved"

    page = log_in(phone, technician)
    page.wait_for_selector(f"[data-visit='{first.pk}']")
    # Times as on every office page (the phone's own locale would say "9:00 AM").
    assert page.inner_text(f"[data-visit='{first.pk}'] .field-window") == "09:00–10:00"
    assert page.inner_text(f"[data-visit='{second.pk}'] .field-window") == "14:00–15:30"
    page.wait_for_selector("[data-testid=notifications]")
    shot(page, "notice-on-my-day")

    # The notice in full, then read.
    page.click(f"[data-notice='{notice.pk}'] a")
    page.wait_for_selector("[data-testid=notice]")
    text = page.inner_text("[data-testid=notice]")
    assert notice.title in text and notice.body in text
    assert "14:00" in notice.body  # the server's words, in the same format
    shot(page, "notice-open")
    page.click("[data-do=notice_read]")
    page.wait_for_selector("[data-testid=clock]")
    # Gone from my day once read (a sync under way may draw the day once more meanwhile),
    # and still gone when the phone has synced.
    page.wait_for_selector("[data-testid=notifications]", state="detached", timeout=5_000)
    synced(page)
    assert page.locator("[data-testid=notifications]").count() == 0
    notice.refresh_from_db()
    assert notice.read_at is not None

    # A part the office adds now reaches the phone with the next sync.
    price_item_create(organization=technician.organization, by=owner, code="TRV-15",
                      name="Thermostatic radiator valve 15mm", unit="each",
                      unit_price=Decimal("24"))
    synced(page)
    assert "Thermostatic radiator valve 15mm" in page.evaluate(
        "window.CrewlineField.state().kv.price_book.map((i) => i.name)")

    # The morning visit: one photo shared (the default), one kept internal, the part from the
    # price book, one typed by hand; "job complete" completes the job.
    page.click(f"[data-visit='{first.pk}'] .field-visit-link")
    page.click("[data-do=visit_arrive]")
    page.wait_for_selector("[data-testid=visit-status]:has-text('On site')")
    assert page.is_checked("[data-testid=photo-customer]")
    page.set_input_files("[data-testid=gallery]", [
        {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg("green")}])
    page.wait_for_selector("[data-testid=photos] [data-visibility=customer]")
    page.uncheck("[data-testid=photo-customer]")
    page.set_input_files("[data-testid=gallery]", [
        {"name": "meter.jpg", "mimeType": "image/jpeg", "buffer": jpeg("red")}])
    page.wait_for_selector("[data-testid=photos] [data-visibility=internal]")
    for n, name in enumerate(("trv-15", "Copper elbow 15mm"), start=1):
        page.fill("form[data-form=part] input[name=name]", name)
        page.click("form[data-form=part] button")
        page.wait_for_function(
            f"() => document.querySelectorAll('[data-testid=parts] li').length === {n}")
    assert "not in the price book" in page.inner_text("[data-testid=parts] li:last-child")
    assert "not in the price book" not in page.inner_text("[data-testid=parts] li:first-child")
    synced(page)
    scroll_to(page, "[data-testid=photos]")
    shot(page, "photos-and-parts")
    scroll_to(page, "[data-do=visit_complete]")
    shot(page, "last-visit-choices")
    assert page.inner_text("[data-do=visit_complete]") == "Job complete"
    page.click("[data-do=visit_complete]")
    page.wait_for_selector("[data-testid=visit-status]:has-text('Done')")
    synced(page)
    first.refresh_from_db()
    assert first.status == VisitStatus.DONE and first.outcome == VisitOutcome.JOB_COMPLETE
    assert first.work_order.status == Status.COMPLETED
    photos = TimelineEntry.objects.filter(visit=first, kind=EntryKind.PHOTO).order_by("id")
    assert [p.visibility for p in photos] == [Visibility.CUSTOMER, Visibility.INTERNAL]
    parts = TimelineEntry.objects.filter(visit=first, kind=EntryKind.PART).order_by("id")
    assert [p.data["price_book_item_id"] is not None for p in parts] == [True, False]
    assert parts[0].data["name"] == "Thermostatic radiator valve 15mm"
    assert page.inner_text("[data-testid=outcome]") == "Job complete"
    shot(page, "job-complete")

    # The afternoon visit needs another trip.
    page.click("a[href='#']:has-text('My day')")
    page.click(f"[data-visit='{second.pk}'] .field-visit-link")
    page.click("[data-do=visit_arrive]")
    page.wait_for_selector("[data-testid=visit-status]:has-text('On site')")
    page.click("summary:has-text('Needs another visit')")
    page.fill("form[data-form=another] textarea", "Valve seized, bring a 22 mm spare")
    scroll_to(page, "[data-testid=visit-status]")
    shot(page, "another-visit")
    page.click("form[data-form=another] button")
    page.wait_for_selector("[data-testid=visit-status]:has-text('Done')")
    synced(page)
    second.refresh_from_db()
    assert second.outcome == VisitOutcome.ANOTHER_VISIT
    assert second.outcome_reason == "Valve seized, bring a 22 mm spare"
    assert second.work_order.status == Status.IN_PROGRESS
    assert "needs another visit" in page.inner_text("[data-testid=timeline]")
    assert "bring a 22 mm spare" in page.inner_text("[data-testid=outcome]")
    scroll_to(page, "[data-testid=timeline]")
    shot(page, "another-visit-timeline")
    page.wait_for_load_state("networkidle")
    page.close()
