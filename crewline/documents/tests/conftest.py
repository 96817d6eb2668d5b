from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from crewline.billing.services import price_item_create
from crewline.factories import ContactFactory, CustomerFactory, SiteFactory
from crewline.workorders import timeline
from crewline.workorders.models import EntryKind, TimelineEntry, Visibility
from crewline.workorders.services import (
    note_add,
    visit_add,
    work_order_complete,
    work_order_create,
    work_order_start,
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def jpeg(width: int = 640, height: int = 480, colour=(40, 120, 200)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 4, height // 4, width * 3 // 4, height * 3 // 4),
                   fill=(230, 180, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def signature_png() -> bytes:
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(20, 150), (120, 60), (200, 140), (320, 40), (450, 150), (580, 80)],
              fill=(10, 20, 80, 255), width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def add_entry(wo, *, kind, by=None, data=None, body="", visibility=Visibility.INTERNAL,
              file: tuple[str, bytes, str] | None = None, when=None) -> TimelineEntry:
    """An entry written as the services write it (``timeline.append``), ``data`` in the kind's
    schema."""
    name, content, content_type = file if file is not None else ("", None, "")
    return timeline.append(
        work_order=wo, kind=kind, data=timeline.SCHEMAS[kind].model_validate(data or {}),
        by=by, body=body, visibility=visibility, device_time=when,
        file=ContentFile(content) if content is not None else None, file_name=name,
        content_type=content_type)


@pytest.fixture
def customer(org):
    org.address = "48 Foundry Lane\nEvanston, IL 60201"
    org.phone = "847-555-0100"
    org.email = "hello@northside.example"
    org.save()
    return CustomerFactory(organization=org, name="José Müller-Peña Straße",
                           email="jose@example.com", phone="312-555-0142")


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="Renée Ñúñez", email="renee@example.com",
                          role="Facilities manager", is_primary=True)


@pytest.fixture
def site(customer):
    return SiteFactory(customer=customer, name="Clinic annex", address_line1="1200 Maple St",
                       city="Chicago", region="IL", postal_code="60601",
                       access_notes="Key safe code 4471")


@pytest.fixture
def job(org, office, technician, customer, site):
    """A work order with a visit and everything a technician records, not yet completed."""
    wo = work_order_create(organization=org, by=office, customer=customer, site=site,
                           title="No heat in the waiting room",
                           instructions="Check the boiler and the zone valves.")
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(hours=2),
              crew=[technician], override=True)
    work_order_start(work_order=wo, by=office)
    note_add(work_order=wo, by=technician, body="Replaced the zone valve; heat is back.",
             visibility=Visibility.CUSTOMER)
    note_add(work_order=wo, by=office, body="Secret: customer still owes us for March.")
    visit = wo.visits.get()
    timeline.labor_set(visit=visit, by=technician, minutes=95,
                       description="Diagnosis and repair")
    timeline.labor_set(visit=visit, by=office, member=office, minutes=20,
                       description="Clean-up")
    zone_valve = price_item_create(organization=org, by=office, code="ZV-075",
                                   name="Zone valve 3/4\"", unit="ea", unit_price=Decimal("38"))
    timeline.part_add(visit=visit, by=technician, price_book_item_id=zone_valve.pk,
                      quantity=Decimal(1))
    timeline.part_add(visit=visit, by=technician, name="Copper pipe", quantity=Decimal("2.5"),
                      unit="m")
    wo.checklist = [{"label": "Carbon monoxide test passed", "kind": "yes_no"},
                    {"label": "Flue gas temperature (°C)", "kind": "number"}]
    wo.save(update_fields=["checklist"])
    timeline.checklist_answer_add(visit=visit, by=technician, client_id=None, index=0,
                                  answer=True)
    timeline.checklist_answer_add(visit=visit, by=technician, client_id=None, index=1,
                                  answer=182)
    add_entry(wo, kind=EntryKind.PHOTO, by=technician, body="Old zone valve",
              visibility=Visibility.CUSTOMER, file=("before.jpg", jpeg(), "image/jpeg"))
    add_entry(wo, kind=EntryKind.PHOTO, by=technician, body="New valve fitted",
              visibility=Visibility.CUSTOMER,
              file=("after.jpg", jpeg(colour=(90, 160, 90)), "image/jpeg"))
    add_entry(wo, kind=EntryKind.PHOTO, by=technician, body="Internal: meter reading",
              file=("meter.jpg", jpeg(colour=(200, 40, 40)), "image/jpeg"))
    add_entry(wo, kind=EntryKind.SIGNATURE, by=technician, data={"signer_name": "Renée Ñúñez"},
              file=("signature.png", signature_png(), "image/png"))
    return wo


@pytest.fixture
def completed_job(job, office):
    return work_order_complete(work_order=job, by=office)
