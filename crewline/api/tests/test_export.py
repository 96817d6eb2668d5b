"""The full export: one zip of every table of the organization as JSON Lines and its files,
through the API (scope export) and the owner's button; nothing of another organization, no
secrets."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crewline.api import export
from crewline.core.models import AuditLog
from crewline.factories import SiteFactory
from crewline.workorders import timeline
from crewline.workorders.services import work_order_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(org, owner, other_org, outsider):
    site = SiteFactory(customer__organization=org, customer__name="Maple Dental")
    wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                           title="Boiler service")
    entry = timeline.attachment_add(work_order=wo, by=owner,
                                    file=SimpleUploadedFile("plan.txt", b"the plan",
                                                            "text/plain"))
    other = SiteFactory(customer__organization=other_org, customer__name="Not ours")
    work_order_create(organization=other_org, by=outsider, customer=other.customer,
                      site=other, title="Elsewhere")
    return {"wo": wo, "entry": entry}


def _open(content: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(content))


def _lines(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return [json.loads(line) for line in archive.read(name).decode().splitlines()]


def test_an_export_key_gets_everything_of_its_organization(data, api, org, make_key):
    response = api("export").get("/api/v1/export")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive = _open(b"".join(response.streaming_content))
    names = set(archive.namelist())
    for table in export._tables():
        assert f"{table._meta.label_lower}.jsonl" in names
    assert {"manifest.json", "core.organization.jsonl", "core.user.jsonl"} <= names
    customers = _lines(archive, "customers.customer.jsonl")
    assert [c["name"] for c in customers] == ["Maple Dental"]
    [wo] = _lines(archive, "workorders.workorder.jsonl")
    assert wo["title"] == "Boiler service" and wo["organization_id"] == org.pk
    assert isinstance(wo["tags"], list)
    [entry] = [e for e in _lines(archive, "workorders.timelineentry.jsonl")
               if e["kind"] == "file"]
    assert archive.read(f"files/{entry['attachment']}") == b"the plan"
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["tables"]["customers.customer.jsonl"] == 1
    assert manifest["files"] == 1 and manifest["missing_files"] == []
    users = _lines(archive, "core.user.jsonl")
    assert users and all("password" not in u for u in users)
    keys = _lines(archive, "api.apikey.jsonl")
    assert keys and all("hash" not in k for k in keys)
    text = b"".join(archive.read(n) for n in names if n.endswith(".jsonl"))
    assert b"Not ours" not in text and b"Elsewhere" not in text
    assert "live.change.jsonl" not in names
    assert AuditLog.objects.filter(action="organization.export").exists()


def test_the_export_needs_its_scope(data, api, other_org):
    response = api("read:customers", "read:work_orders", "read:team", "read:billing"
                   ).get("/api/v1/export")
    assert response.status_code == 403
    outsider = _open(b"".join(api("export", organization=other_org).get(
        "/api/v1/export").streaming_content))
    assert [c["name"] for c in _lines(outsider, "customers.customer.jsonl")] == ["Not ours"]


def test_an_owner_downloads_it_with_a_button(data, owner_client, office_client, tech_client):
    page = owner_client.get(reverse("api:keys")).content.decode()
    assert reverse("api:export") in page
    response = owner_client.post(reverse("api:export"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = _open(b"".join(response.streaming_content))
    assert _lines(archive, "workorders.workorder.jsonl")[0]["title"] == "Boiler service"
    assert office_client.post(reverse("api:export")).status_code == 403
    assert tech_client.post(reverse("api:export")).status_code == 403
    assert owner_client.get(reverse("api:export")).status_code == 405


def test_a_missing_file_is_listed_not_fatal(data, api):
    entry = data["entry"]
    entry.attachment.storage.delete(entry.attachment.name)
    archive = _open(b"".join(api("export").get("/api/v1/export").streaming_content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["missing_files"] == [entry.attachment.name]
