"""A site photo taken on the phone reaches the customer's job report: pushed through the real
push endpoint, rendered by the documents app (Typst), found among the PDF's images; the office
taking it back (or sharing one) makes a new report version."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from crewline.core.models import AuditLog
from crewline.documents.models import JobReport
from crewline.field.tests.conftest import b64, new_id, sha
from crewline.workorders.models import EntryKind, Status, TimelineEntry, Visibility

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def photo(size, colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def image_sizes(report: JobReport) -> list[tuple[int, int]]:
    with report.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return sorted(image.image.size for page in reader.pages for image in page.images)


def test_a_photo_from_the_phone_is_in_the_report_until_the_office_takes_it_back(
        phone, visit, office_client, django_capture_on_commit_callbacks):
    site_photo = photo((320, 240), (30, 140, 60))
    with django_capture_on_commit_callbacks(execute=True):
        response = phone.push(
            phone.mutation("visit_arrive", visit_id=visit.pk),
            # No visibility: the organization's choice, shared with the customer by default.
            phone.mutation("photo_add", visit_id=visit.pk, client_id=new_id(),
                           data=b64(site_photo), sha256=sha(site_photo),
                           caption="New valve fitted"),
            phone.mutation("visit_complete", visit_id=visit.pk, outcome="job_complete"))
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * 3
    wo = visit.work_order
    wo.refresh_from_db()
    assert wo.status == Status.COMPLETED
    entry = TimelineEntry.objects.get(visit=visit, kind=EntryKind.PHOTO)
    assert entry.visibility == Visibility.CUSTOMER
    first = JobReport.objects.get(work_order=wo)
    assert first.version == 1
    assert image_sizes(first) == [(320, 240)]

    # The office makes it internal on the work order page: a new version without it.
    url = reverse("workorders:entry_visibility", args=[entry.pk])
    with django_capture_on_commit_callbacks(execute=True):
        answer = office_client.post(url, {"visibility": "internal"},
                                    headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert 'data-testid="share"' in answer.content.decode()  # offered back
    entry.refresh_from_db()
    assert entry.visibility == Visibility.INTERNAL
    second = JobReport.objects.filter(work_order=wo).order_by("-version").first()
    assert second.version == 2
    assert image_sizes(second) == []
    change = TimelineEntry.objects.get(work_order=wo, kind=EntryKind.SYSTEM,
                                       data__event="visibility")
    assert change.data == {"event": "visibility", "entry": entry.pk, "kind": "photo",
                           "from": "customer", "to": "internal"}
    assert AuditLog.objects.filter(action="timeline.visibility").get().changes[
        "visibility"] == ["customer", "internal"]

    # Shared again (the form without htmx): a third version, the photo back in it.
    with django_capture_on_commit_callbacks(execute=True):
        back = office_client.post(url, {"visibility": "customer"})
    assert back.status_code == 302 and back["Location"].endswith(f"#entry-{entry.pk}")
    third = JobReport.objects.filter(work_order=wo).order_by("-version").first()
    assert third.version == 3 and image_sizes(third) == [(320, 240)]
    # Setting what it already is makes nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        office_client.post(url, {"visibility": "customer"})
    assert JobReport.objects.filter(work_order=wo).count() == 3


def test_an_open_job_gets_no_report_until_it_is_completed(visit, office, office_client,
                                                          django_capture_on_commit_callbacks):
    from crewline.workorders.services import note_add

    note = note_add(work_order=visit.work_order, by=office, body="Gate code 1234")
    with django_capture_on_commit_callbacks(execute=True):
        office_client.post(reverse("workorders:entry_visibility", args=[note.pk]),
                           {"visibility": "customer"})
    note.refresh_from_db()
    assert note.visibility == Visibility.CUSTOMER
    assert not JobReport.objects.exists()


def test_only_notes_photos_and_files_change_audience(phone, visit, office_client, tech_client,
                                                     outsider_client):
    from crewline.field.tests.conftest import png_bytes

    phone.send("signature_add", visit_id=visit.pk, client_id=new_id(), signer_name="Rosa",
               png=b64(png_bytes()))
    signature = TimelineEntry.objects.get(kind=EntryKind.SIGNATURE)
    url = reverse("workorders:entry_visibility", args=[signature.pk])
    response = office_client.post(url, {"visibility": "internal"}, follow=True)
    assert "Only notes, photos and files" in response.content.decode()
    signature.refresh_from_db()
    assert signature.visibility == Visibility.CUSTOMER
    note = TimelineEntry.objects.create(organization=visit.organization,
                                        work_order=visit.work_order, kind=EntryKind.NOTE,
                                        body="x")
    note_url = reverse("workorders:entry_visibility", args=[note.pk])
    assert office_client.post(note_url, {"visibility": "everyone"},
                              headers={"HX-Request": "true"}).status_code == 400
    assert tech_client.post(note_url, {"visibility": "customer"}).status_code == 403
    assert outsider_client.post(note_url, {"visibility": "customer"}).status_code == 404
    note.refresh_from_db()
    assert note.visibility == Visibility.INTERNAL
