"""What the crew did, as the office sees it on the work order page and the customer in the job
report: labor with its minutes (a corrected time counted once), parts with quantity and unit,
the signature as an image with the signer's name, and the day the work happened."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from crewline.billing.services import (
    default_labor_rate_set,
    invoice_draft_from_work_order,
    price_item_create,
)
from crewline.documents.services import job_report_create
from crewline.field.tests.conftest import b64, new_id, png_bytes, today_at
from crewline.workorders.models import EntryKind, TimelineEntry
from crewline.workorders.services import work_order_complete

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def worked(phone, visit, org, owner):
    """A visit the technician worked: labor corrected from 30 to 45 minutes, a part from the
    price book, one typed by hand, the customer's signature."""
    valve = price_item_create(organization=org, by=owner, code="ZV-34", name="Zone valve 3/4in",
                              unit="each", unit_price=Decimal("38"))
    default_labor_rate_set(organization=org, hourly_rate=Decimal("90"), by=owner)
    results = [phone.send(name, **args) for name, args in [
        ("visit_arrive", {"visit_id": visit.pk}),
        ("labor_set", {"visit_id": visit.pk, "client_id": new_id(), "minutes": 30,
                       "description": ""}),
        ("part_add", {"visit_id": visit.pk, "client_id": new_id(), "name": "",
                      "quantity": "2", "unit": "", "price_book_item_id": valve.pk}),
        ("part_add", {"visit_id": visit.pk, "client_id": new_id(), "name": "Copper pipe 15mm",
                      "quantity": "2.5", "unit": "m"}),
        ("labor_set", {"visit_id": visit.pk, "client_id": new_id(), "minutes": 45,
                       "description": "Replaced the valve"}),
        ("signature_add", {"visit_id": visit.pk, "client_id": new_id(),
                           "signer_name": "Rosa Diaz", "png": b64(png_bytes((300, 100)))}),
    ]]
    assert {r["status"] for r in results} == {"applied"}
    return visit


def test_the_work_order_page_shows_what_was_done(worked, office_client):
    wo = worked.work_order
    html = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    card = html.split('id="work-done"', 1)[1].split('id="timeline-tab"', 1)[0]
    labor = card.split('id="work-labor"', 1)[1].split("</table>", 1)[0]
    # The corrected time only, and the total.
    assert "45 min" in labor and "30 min" not in labor and "Replaced the valve" in labor
    parts = card.split('id="work-parts"', 1)[1].split("</table>", 1)[0]
    # From the price book: its code, no badge.
    assert re.search(r"Zone valve 3/4in</a> <span[^>]*>ZV-34</span>\s*<div", parts)
    assert re.search(r"Copper pipe 15mm</a> <span[^>]*>not in the price book", parts)
    assert ">2.5</td>" in parts and "<td>m</td>" in parts and "<td>each</td>" in parts
    signature = TimelineEntry.objects.get(visit=worked, kind=EntryKind.SIGNATURE)
    file_url = reverse("workorders:attachment", args=[signature.pk])
    assert f'<a href="{file_url}"' in card
    assert f'<img class="work-signature" src="{file_url}"' in card
    assert "Rosa Diaz" in card
    # The timeline says the same of each entry.
    timeline = html.split('id="timeline"', 1)[1]
    assert "logged <strong>45 min</strong> of labor" in timeline
    assert "used <strong>2.5 m</strong> × Copper pipe 15mm" in timeline
    assert "<span class=\"fw-semibold\">Rosa Diaz</span> signed for the work" in timeline
    assert f'class="timeline-signature mt-1" src="{file_url}"' in timeline
    # The signature opens inline, as an image.
    response = office_client.get(file_url)
    assert response["Content-Type"] == "image/png"


def test_the_report_and_the_invoice_count_corrected_labor_once(worked, office):
    wo = worked.work_order
    work_order_complete(work_order=wo, by=office)
    report = job_report_create(work_order=wo, by=office)
    with report.file.open("rb") as handle:
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages)
    assert "45 min" in text and "1 h 15 min" not in text
    invoice = invoice_draft_from_work_order(work_order=wo, by=office)
    labor = [line for line in invoice.lines.all() if line.source == "labor"]
    assert [line.quantity for line in labor] == [Decimal("0.7500")]


def test_the_invoice_draft_marks_a_part_typed_on_site(worked, office, office_client):
    wo = worked.work_order
    work_order_complete(work_order=wo, by=office)
    invoice = invoice_draft_from_work_order(work_order=wo, by=office)
    html = office_client.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    rows = {m.group(1).strip(): m.group(0) for m in re.finditer(
        r'<tr id="line-\d+">\s*<td>([^<]+).*?</tr>', html, re.S)}
    assert 'data-testid="free-text-part"' in rows["Copper pipe 15mm"]
    assert 'data-testid="free-text-part"' not in rows["Zone valve 3/4in"]


def test_the_report_prints_the_day_the_work_happened(phone, make_visit, technician, office):
    """Booked for tomorrow, done today: the visit's row says today, and when it was booked."""
    visit = make_visit(crew=[technician], days=1, hour=9)
    arrived = today_at(14)
    phone.send("visit_arrive", visit_id=visit.pk, client_time=arrived.isoformat())
    phone.push(phone.mutation("visit_complete", visit_id=visit.pk,
                              client_time=(arrived + dt.timedelta(minutes=50)).isoformat()))
    wo = visit.work_order
    work_order_complete(work_order=wo, by=office)
    from crewline.documents.reports import job_report_data

    data, _files = job_report_data(wo, version=1, generated_at=arrived)
    (row,) = data["visits"]
    from django.utils.formats import date_format

    assert row["date"] == date_format(arrived, "D j M Y")
    assert row["window"] == f"{date_format(visit.start.astimezone(arrived.tzinfo), 'D j M')} " \
                            "09:00–10:00"
    assert row["on_site"] == "14:00–14:50"
