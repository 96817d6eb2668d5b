"""``crewline media-to-s3`` moves an install's files from its disk to a bucket (a local S3
server): every file a row refers to, under its own name, once; the office's downloads work from
the bucket afterwards."""

from __future__ import annotations

import io
import urllib.request

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from crewline.factories import CustomerFactory, WorkOrderFactory
from crewline.workorders.timeline import attachment_add

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("media_to_s3", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


def bucket_files(s3) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=s3.bucket).get("Contents", [])
    return {item["Key"]: s3.get_object(Bucket=s3.bucket, Key=item["Key"])["Body"].read()
            for item in listed}


def test_it_copies_every_stored_file_once_and_the_downloads_work_from_the_bucket(
        s3_media, settings, org, office, office_client, outsider_client):
    s3 = s3_media
    bucket_storage = settings.STORAGES["default"]
    # The install as it was: files on the disk, under MEDIA_ROOT.
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    wo = WorkOrderFactory(organization=org, customer=CustomerFactory(organization=org))
    manual = attachment_add(work_order=wo, by=office, file=SimpleUploadedFile(
        "manual.pdf", b"%PDF-1.4 boiler manual\n", content_type="application/pdf"))
    terms = attachment_add(work_order=wo, by=office, file=SimpleUploadedFile(
        "terms.txt", b"Payment within 30 days.\n", content_type="text/plain"))
    gone = attachment_add(work_order=wo, by=office, file=SimpleUploadedFile(
        "lost.txt", b"deleted from the disk by hand\n", content_type="text/plain"))
    org.logo.save("logo.png", ContentFile(b"\x89PNG logo bytes"), save=True)
    (settings.MEDIA_ROOT / gone.attachment.name).unlink()
    on_disk = {name: (settings.MEDIA_ROOT / name).read_bytes()
               for name in (manual.attachment.name, terms.attachment.name, org.logo.name)}

    settings.STORAGES = {**settings.STORAGES, "default": bucket_storage}
    out, err = run("--dry-run")
    assert "would copy 3," in out and "1 missing" in out
    assert bucket_files(s3) == {}

    out, err = run()
    assert out.endswith(f"copied 3, replaced 0 of another size, 0 already in the bucket, "
                        f"1 missing from {settings.MEDIA_ROOT}")
    assert err == f"missing: {gone.attachment.name}"
    assert bucket_files(s3) == on_disk

    # Again: nothing to do. A copy cut short in the bucket is replaced by the disk's.
    assert "copied 0, replaced 0 of another size, 3 already" in run()[0]
    s3.put_object(Bucket=s3.bucket, Key=terms.attachment.name, Body=b"Payment wi")
    assert "copied 0, replaced 1 of another size, 2 already" in run()[0]
    assert bucket_files(s3) == on_disk

    # The office downloads the file from the bucket now; another organization still cannot.
    url = reverse("workorders:attachment", args=[manual.pk])
    answer = office_client.get(url)
    assert answer.status_code == 302
    with urllib.request.urlopen(answer["Location"], timeout=10) as fetched:  # noqa: S310
        assert fetched.read() == b"%PDF-1.4 boiler manual\n"
    assert outsider_client.get(url).status_code == 404


def test_it_refuses_to_run_without_a_bucket(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(CommandError, match="MEDIA_STORAGE=s3"):
        run()
