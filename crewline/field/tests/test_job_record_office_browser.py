"""The office's side of the job record in Chromium at 1366x900: the work order page shows what
was done and changes who may see a photo in place (htmx), a new report version follows; the
dashboard and the board show the jobs ready to close apart from the work to schedule."""

from __future__ import annotations

import io
import shutil
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from crewline.documents.models import JobReport
from crewline.field.models import FieldSettings, JobsClosedBy
from crewline.field.tests.conftest import today_at
from crewline.workorders.models import EntryKind, TimelineEntry, Visibility, VisitOutcome

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"


def jpeg(colour) -> bytes:
    image = Image.new("RGB", (1200, 900), colour)
    ImageDraw.Draw(image).rectangle((300, 220, 900, 680), fill=(235, 190, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def signature() -> bytes:
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 150), (120, 60), (200, 140), (320, 40), (450, 150),
                                (580, 80)], fill=(10, 20, 80, 255), width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def shot(page, name: str, full: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"office-{name}.png"), full_page=full)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_office_sees_and_shares_what_the_crew_did(login, technician, office, owner, org,
                                                      make_visit):
    from crewline.billing.services import default_labor_rate_set, price_item_create
    from crewline.workorders import timeline as field
    from crewline.workorders.services import visit_arrive, visit_complete

    FieldSettings.objects.create(organization=org, jobs_closed_by=JobsClosedBy.OFFICE)
    valve = price_item_create(organization=org, by=owner, code="TRV-15",
                              name="Thermostatic radiator valve 15mm", unit="each",
                              unit_price=Decimal("24"))
    default_labor_rate_set(organization=org, hourly_rate=Decimal("90"), by=owner)
    visit = make_visit(crew=[technician], days=-1, hour=9, title="No heat in surgery 2")
    visit_arrive(visit=visit, by=technician, device_time=today_at(9, -1))
    field.photo_add(visit=visit, by=technician, client_id=uuid.uuid4(),
                    jpeg=jpeg((40, 120, 200)), caption="New valve fitted",
                    visibility=Visibility.CUSTOMER)
    field.photo_add(visit=visit, by=technician, client_id=uuid.uuid4(),
                    jpeg=jpeg((200, 40, 40)), caption="Meter reading",
                    visibility=Visibility.INTERNAL)
    field.part_add(visit=visit, by=technician, client_id=uuid.uuid4(),
                   quantity=Decimal(2), price_book_item_id=valve.pk)
    field.part_add(visit=visit, by=technician, client_id=uuid.uuid4(),
                   name="Copper elbow 15mm", quantity=Decimal("2.5"), unit="m")
    field.labor_set(visit=visit, by=technician, client_id=uuid.uuid4(), minutes=30)
    field.labor_set(visit=visit, by=technician, client_id=uuid.uuid4(), minutes=95,
                    description="Drained the loop and replaced the valve")
    field.signature_add(visit=visit, by=technician, client_id=uuid.uuid4(),
                        signer_name="Rosa Diaz", png=signature())
    visit_complete(visit=visit, by=technician, device_time=today_at(11, -1),
                   outcome=VisitOutcome.JOB_COMPLETE)
    other = make_visit(crew=[technician], days=-1, hour=13, title="Radiator leaking")
    visit_arrive(visit=other, by=technician)
    visit_complete(visit=other, by=technician, outcome=VisitOutcome.ANOTHER_VISIT,
                   reason="Valve seized, bring a 22 mm spare")
    wo = visit.work_order

    page = login(office)
    page.goto(f"{page.base}/dashboard/")
    page.wait_for_selector("#ready-to-close")
    assert wo.reference in page.inner_text("#ready-to-close")
    assert "Valve seized" in page.inner_text("section[aria-labelledby=h-wait]")
    shot(page, "dashboard-ready-to-close")
    page.goto(f"{page.base}/schedule/?date={today_at(9, -1).date().isoformat()}")
    page.wait_for_selector("#board-ready")
    assert wo.reference in page.inner_text("#board-ready")
    assert "Needs another visit: Valve seized" in page.inner_text("#board-queue")
    shot(page, "board-ready-to-close")
    # The work order's page says it is ready and leads with Complete; the labor corrected by
    # a later entry shows as not counted.
    page.goto(f"{page.base}/work-orders/{wo.number}/")
    assert "Every visit is done" in page.inner_text("#wo-status")
    assert page.locator("#wo-actions > form .btn-primary").inner_text() == "Complete"
    assert page.locator("#timeline .labor-replaced").count() == 1
    assert "30 min" in page.inner_text("#timeline .labor-replaced")
    shot(page, "work-order-ready-to-close")
    page.set_viewport_size({"width": 360, "height": 740})
    shot(page, "work-order-ready-to-close-phone", full=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    # Completing it from the dashboard makes the report; the page shows the work done.
    page.goto(f"{page.base}/dashboard/")
    page.click(f"#ready-to-close form[action$='/{wo.number}/complete/'] button")
    page.wait_for_url(f"**/work-orders/{wo.number}/")
    card = page.inner_text("#work-done")
    for text in ("1 h 35 min", "Drained the loop", "Thermostatic radiator valve 15mm",
                 "Copper elbow 15mm", "not in the price book", "2.5", "Rosa Diaz"):
        assert text in card
    assert "30 min" not in card  # corrected by the later entry
    assert page.locator("#work-done img.work-signature").evaluate("i => i.naturalWidth") > 0
    page.locator("#work-done").scroll_into_view_if_needed()
    shot(page, "work-order-work-done")
    assert JobReport.objects.filter(work_order=wo).count() == 1

    # The internal photo is shared with the customer in place; a new report version follows.
    meter = TimelineEntry.objects.get(visit=visit, kind=EntryKind.PHOTO, body="Meter reading")
    entry = page.locator(f"#entry-{meter.pk}")
    entry.scroll_into_view_if_needed()
    entry.locator("[data-testid=share]").click()
    page.wait_for_selector(f"#entry-{meter.pk} [data-testid=make-internal]")
    assert "Customer can see" in page.inner_text(f"#entry-{meter.pk}")
    assert "shared a photo with the customer" in page.inner_text("#timeline li:first-child")
    shot(page, "work-order-shared-photo")
    meter.refresh_from_db()
    assert meter.visibility == Visibility.CUSTOMER
    for _ in range(100):
        if JobReport.objects.filter(work_order=wo).count() == 2:
            break
        page.wait_for_timeout(100)
    report = JobReport.objects.filter(work_order=wo).order_by("-version").first()
    assert report.version == 2
    page.reload()
    page.wait_for_selector("#job-reports a:has-text('Version 2')")
    page.locator("#job-reports").scroll_into_view_if_needed()
    shot(page, "work-order-report-versions")
    # The report as a picture, to look at (when poppler-utils is installed).
    pdf = SHOTS / "report-v2.pdf"
    with report.file.open("rb") as handle:
        pdf.write_bytes(handle.read())
    if shutil.which("pdftoppm"):
        subprocess.run([shutil.which("pdftoppm"), "-png", "-r", "60", str(pdf),  # noqa: S603
                        str(SHOTS / "report-v2")], check=True)

    # The invoice draft: the part typed on site is marked for the office to price.
    page.click("form[action$='/invoice/'] button:has-text('Draft invoice'), "
               "button:has-text('Draft invoice')")
    page.wait_for_selector("[data-testid=free-text-part]")
    assert page.locator("[data-testid=free-text-part]").count() == 1
    shot(page, "invoice-free-text-part")

    # The owner's settings for the technician app.
    page.context.clear_cookies()
    login(owner)
    page.goto(f"{page.base}/field/settings/")
    page.wait_for_selector("input[name=jobs_closed_by][value=office]:checked")
    shot(page, "settings-technician-app")


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
