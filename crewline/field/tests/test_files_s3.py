"""Files in an S3-compatible bucket (``MEDIA_STORAGE=s3``), against a local S3 server the tests
start (moto's): a photo uploaded by the phone and pushed, the job report made from it, and a
file the office attaches all land in the bucket, nothing on the disk; the office gets them back
(streamed, or through a signed URL that expires) and another organization gets 404s."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from crewline.api.export import organization_export
from crewline.documents.models import JobReport
from crewline.field.tests.conftest import jpeg_bytes, new_id, sha
from crewline.storage import media_storage
from crewline.workorders.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db


def keys(s3) -> list[str]:
    listed = s3.list_objects_v2(Bucket=s3.bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def body(s3, key: str) -> bytes:
    return s3.get_object(Bucket=s3.bucket, Key=key)["Body"].read()


def fetch(url: str):
    """The status, headers (any case) and body of a plain GET, as a browser would send it."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (the test's server)
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def test_it_keeps_the_phones_photo_and_the_report_in_the_bucket_behind_the_access_checks(
        s3_media, settings, phone, visit, tech_client, office_client, outsider_client,
        django_capture_on_commit_callbacks):
    s3 = s3_media
    site_photo = jpeg_bytes((320, 240), (30, 140, 60))
    upload_id = new_id()
    sent = tech_client.post("/field/api/uploads", {
        "client_id": upload_id, "sha256": sha(site_photo),
        "file": SimpleUploadedFile("valve.jpg", site_photo, content_type="image/jpeg")})
    assert sent.status_code == 201, sent.content
    wo = visit.work_order
    with django_capture_on_commit_callbacks(execute=True):
        results = phone.push(
            phone.mutation("visit_arrive", visit_id=visit.pk),
            phone.mutation("photo_add", visit_id=visit.pk, client_id=new_id(),
                           upload_id=upload_id, caption="New valve fitted"),
            phone.mutation("visit_complete", visit_id=visit.pk, outcome="job_complete"),
        ).json()["results"]
    assert [r["status"] for r in results] == ["applied"] * 3

    entry = TimelineEntry.objects.get(visit=visit, kind=EntryKind.PHOTO)
    report = JobReport.objects.get(work_order=wo)
    org = wo.organization_id
    stored = keys(s3)
    # The upload (the photo's file, as stored), the report and the photo scaled for it.
    assert entry.attachment.name in stored
    assert entry.attachment.name.startswith(f"org/{org}/uploads/")
    assert report.file.name in stored
    assert any(k.startswith(f"org/{org}/") and k not in (entry.attachment.name,
                                                          report.file.name) for k in stored)
    assert not (settings.MEDIA_ROOT).exists() or not any(settings.MEDIA_ROOT.rglob("*.*"))
    # The report was rendered from the bucket's copy of the photo.
    pdf = body(s3, report.file.name)
    reader = PdfReader(io.BytesIO(pdf))
    assert [im.image.size for page in reader.pages for im in page.images] == [(320, 240)]

    # The office downloads the report: a redirect to a signed URL of that object, short-lived.
    answer = office_client.get(reverse("documents:report_download", args=[report.pk]))
    assert answer.status_code == 302
    assert answer["Cache-Control"] == "private, no-store"
    url = answer["Location"]
    assert url.startswith(f"{settings.STORAGES['default']['OPTIONS']['endpoint_url']}/")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == [str(settings.MEDIA_SIGNED_URL_SECONDS)]
    assert query["X-Amz-Signature"]
    status, headers, content = fetch(url)
    assert status == 200 and content == pdf, headers
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == f'attachment; filename="{report.filename}"'
    # The object itself, unsigned, is refused: the bucket is not public.
    assert fetch(url.split("?")[0])[0] == 403
    # Opened in a tab rather than saved.
    inline = office_client.get(reverse("documents:report_download", args=[report.pk]),
                               {"inline": "1"})
    assert fetch(inline["Location"])[1]["Content-Disposition"].startswith("inline;")

    # The photo, shown in the office's timeline and in the phone's app: streamed from here.
    photo = body(s3, entry.attachment.name)
    shown = office_client.get(reverse("workorders:attachment", args=[entry.pk]))
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert streamed(shown) == photo
    on_phone = tech_client.get(reverse("field:file", args=[entry.pk]))
    assert on_phone.status_code == 200 and streamed(on_phone) == photo

    # Another organization's owner finds none of it.
    for url_name, pk in [("documents:report_download", report.pk),
                         ("workorders:attachment", entry.pk), ("field:file", entry.pk)]:
        assert outsider_client.get(reverse(url_name, args=[pk])).status_code == 404, url_name


def test_a_file_the_office_attaches_is_in_the_bucket_and_downloads_through_a_signed_url(
        s3_media, visit, office_client, tech_client, outsider_client):
    s3 = s3_media
    wo = visit.work_order
    content = b"%PDF-1.4 warranty terms\n"
    added = office_client.post(reverse("workorders:attachment_add", args=[wo.number]), {
        "file": SimpleUploadedFile("warranty.pdf", content, content_type="application/pdf"),
        "caption": "Warranty", "visibility": "internal"})
    assert added.status_code == 302
    entry = TimelineEntry.objects.get(work_order=wo, kind=EntryKind.FILE)
    assert body(s3, entry.attachment.name) == content

    url = reverse("workorders:attachment", args=[entry.pk])
    answer = office_client.get(url)
    assert answer.status_code == 302
    status, headers, fetched = fetch(answer["Location"])
    assert status == 200 and fetched == content
    assert headers["Content-Disposition"] == 'attachment; filename="warranty.pdf"'
    assert outsider_client.get(url).status_code == 404
    assert tech_client.get(url).status_code == 403  # an office page; the app has its own

    # Leaving with the data: the export zip carries the file, read from the bucket.
    import zipfile

    with zipfile.ZipFile(organization_export(organization=wo.organization, by=None,
                                             label="test")) as archive:
        assert archive.read(f"files/{entry.attachment.name}") == content


def test_without_signed_urls_the_download_is_streamed_from_the_bucket(
        s3_media, settings, visit, office_client, outsider_client):
    settings.MEDIA_SIGNED_URLS = False
    wo = visit.work_order
    office_client.post(reverse("workorders:attachment_add", args=[wo.number]), {
        "file": SimpleUploadedFile("notes.txt", b"Filter size 16x25", content_type="text/plain"),
        "visibility": "internal"})
    entry = TimelineEntry.objects.exclude(attachment="").get(work_order=wo)
    url = reverse("workorders:attachment", args=[entry.pk])
    answer = office_client.get(url)
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert streamed(answer) == body(s3_media, entry.attachment.name) == b"Filter size 16x25"
    assert outsider_client.get(url).status_code == 404


def test_a_missing_object_is_a_404_not_an_error(s3_media, visit, office_client, tech_client):
    wo = visit.work_order
    office_client.post(reverse("workorders:attachment_add", args=[wo.number]), {
        "file": SimpleUploadedFile("p.png", b"\x89PNG....", content_type="image/png"),
        "visibility": "customer"})
    entry = TimelineEntry.objects.exclude(attachment="").get(work_order=wo)
    s3_media.delete_object(Bucket=s3_media.bucket, Key=entry.attachment.name)
    assert office_client.get(reverse("workorders:attachment", args=[entry.pk])).status_code == 404


@pytest.mark.parametrize(("env", "message"), [
    ({}, "AWS_STORAGE_BUCKET_NAME"),
    ({"AWS_STORAGE_BUCKET_NAME": "b", "AWS_S3_ADDRESSING_STYLE": "sideways"},
     "AWS_S3_ADDRESSING_STYLE"),
])
def test_it_refuses_an_s3_setting_it_cannot_use(monkeypatch, env, message):
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        media_storage("s3", signed_url_seconds=60)
    with pytest.raises(ImproperlyConfigured, match="MEDIA_STORAGE"):
        media_storage("bucket", signed_url_seconds=60)
