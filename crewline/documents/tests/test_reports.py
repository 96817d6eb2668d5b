from __future__ import annotations

import hashlib
import io
import shutil
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader

from crewline.core.models import AuditLog
from crewline.documents.images import MAX_SIDE, scale_image
from crewline.documents.models import JobReport, Rendition
from crewline.documents.rendering import render_pdf
from crewline.documents.services import job_report_create
from crewline.documents.tests.conftest import add_entry, jpeg
from crewline.workorders.models import EntryKind, TimelineEntry, Visibility
from crewline.workorders.services import work_order_complete


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def page_images(content: bytes) -> list:
    return [image for page in PdfReader(io.BytesIO(content)).pages for image in page.images]


@pytest.fixture
def report(completed_job, office):
    return job_report_create(work_order=completed_job, by=office)


def test_it_shows_what_the_customer_should_see(report, completed_job, technician):
    text = pdf_text(report.file.read())
    wo = completed_job
    # Header, title and contact details.
    for expected in ("Northside Heating & Air", "48 Foundry Lane", "847-555-0100",
                     "hello@northside.example", f"Job report {wo.reference}", "Version 1"):
        assert expected in text
    # Customer and site, with their accents.
    for expected in ("José Müller-Peña Straße", "jose@example.com", "Clinic annex",
                     "1200 Maple St", "Chicago, IL 60601"):
        assert expected in text
    # What was done, the visit and its technician.
    assert "No heat in the waiting room" in text
    assert "Replaced the zone valve; heat is back." in text
    assert technician.name in text
    # Labor of each member, with the total; parts; checklist answers.
    assert "Diagnosis and repair" in text and "1 h 35 min" in text
    assert "Clean-up" in text and "1 h 55 min" in text
    assert "ZV-075" in text and "Copper pipe" in text and "2.5" in text
    assert "Carbon monoxide test passed" in text and "Yes" in text and "182" in text
    # Photo captions and the signer.
    assert "Old zone valve" in text and "New valve fitted" in text
    assert "Renée Ñúñez" in text
    assert "Page 1 of" in text


def test_it_leaves_internal_notes_and_photos_out(report):
    text = pdf_text(report.file.read())
    assert "Secret" not in text
    assert "owes us" not in text
    assert "meter reading" not in text
    # Access notes and the work order's instructions are for the crew, not the customer.
    assert "4471" not in text
    assert "Check the boiler and the zone valves." not in text
    assert "Work requested" not in text


def test_it_embeds_the_customer_photos_and_the_signature(report):
    images = page_images(report.file.read())
    # Two customer-visible photos and the signature; the internal photo is not there.
    assert len(images) == 3
    sizes = sorted(image.image.size for image in images)
    assert (600, 200) in sizes
    assert sizes.count((640, 480)) == 2


def test_it_keeps_every_version(completed_job, office):
    first = job_report_create(work_order=completed_job, by=office)
    second = job_report_create(work_order=completed_job, by=None)
    assert (first.version, second.version) == (1, 2)
    assert first.file.name != second.file.name
    for report in (first, second):
        content = report.file.read()
        assert content.startswith(b"%PDF")
        assert report.size == len(content)
        assert report.sha256 == hashlib.sha256(content).hexdigest()
    assert "Version 2" in pdf_text(second.file.open("rb").read())
    assert second.created_by is None
    assert list(JobReport.objects.filter(work_order=completed_job)
                .values_list("version", flat=True)) == [2, 1]
    logs = AuditLog.objects.filter(action="job_report.create").order_by("seq")
    assert [log.changes["version"] for log in logs] == [[None, 1], [None, 2]]
    assert logs[0].actor == office and logs[1].actor is None
    assert TimelineEntry.objects.filter(work_order=completed_job, kind=EntryKind.SYSTEM,
                                        body="Job report v2 created").exists()


def test_it_makes_a_report_when_the_work_order_is_completed(job, office,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        work_order_complete(work_order=job, by=office)
    report = JobReport.objects.get(work_order=job)
    assert report.version == 1 and report.created_by is None
    assert "José Müller-Peña Straße" in pdf_text(report.file.read())


def test_it_treats_what_people_typed_as_text_not_as_typst(org, job, office, technician):
    hostile = '#set page(fill: red) *bold* $x^2$ @ref <label> #panic("boom") \\ ] ) }'
    job.customer.name = hostile
    job.customer.save()
    add_entry(job, kind=EntryKind.NOTE, by=technician, body='#import "/etc/passwd": *',
              visibility=Visibility.CUSTOMER)
    report = job_report_create(work_order=job, by=office)
    text = pdf_text(report.file.read())
    assert '#panic("boom")' in text
    assert '#import "/etc/passwd": *' in text


def test_it_refuses_files_outside_the_document():
    with pytest.raises(ValueError, match="outside"):
        render_pdf("job_report.typ", {}, {"../escape.txt": b"x"}, paper="a4")


def test_it_shows_the_organization_logo(org, completed_job, office):
    from django.core.files.base import ContentFile

    org.logo.save("logo.png", ContentFile(_png(800, 300)), save=True)
    completed_job.organization.refresh_from_db()
    report = job_report_create(work_order=completed_job, by=office)
    sizes = [image.image.size for image in page_images(report.file.read())]
    assert (600, 225) in sizes  # scaled down to 600 px


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (20, 80, 160, 255)).save(out, "PNG")
    return out.getvalue()


def test_it_scales_a_large_photo_down_once_and_upright(job, technician,
                                                      django_capture_on_commit_callbacks):
    image = Image.new("RGB", (4000, 3000), (120, 60, 30))
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to show": the phone was held upright
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    with django_capture_on_commit_callbacks(execute=True):
        entry = add_entry(job, kind=EntryKind.PHOTO, by=technician, body="Upright",
                          visibility=Visibility.CUSTOMER,
                          file=("big.jpg", out.getvalue(), "image/jpeg"))
    rendition = Rendition.objects.get(entry=entry)
    assert (rendition.width, rendition.height) == (900, MAX_SIDE)
    with Image.open(rendition.file.open("rb")) as scaled:
        assert scaled.size == (900, 1200)
    # A render reuses it rather than scaling again.
    job_report_create(work_order=job, by=None)
    assert Rendition.objects.filter(entry=entry).count() == 1


def test_it_skips_a_photo_it_cannot_read(job, technician, office):
    add_entry(job, kind=EntryKind.PHOTO, by=technician, body="Broken upload",
              visibility=Visibility.CUSTOMER, file=("broken.jpg", b"not a jpeg", "image/jpeg"))
    report = job_report_create(work_order=job, by=office)
    text = pdf_text(report.file.read())
    assert "Broken upload" not in text
    assert "Old zone valve" in text


def test_it_keeps_transparency_for_signatures_only():
    content, ext, width, height = scale_image(_png(2400, 800), keep_alpha=True)
    assert (ext, width, height) == ("png", 1200, 400)
    content, ext, *_ = scale_image(_png(100, 50))
    assert ext == "jpg"
    with pytest.raises(ValueError):
        scale_image(b"nonsense")
    assert scale_image(jpeg(300, 200))[2:] == (300, 200)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_it_renders_pages_to_images(report, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report.file.read())
    subprocess.run([shutil.which("pdftoppm"), "-r", "40", "-png", str(pdf),  # noqa: S603
                    str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(str(pdf)).pages) >= 1
    with Image.open(pages[0]) as first:
        # Not blank: the header rule and the text darken part of the page.
        assert first.convert("L").getextrema()[0] < 100
