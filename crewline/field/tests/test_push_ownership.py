"""A change's client id is the phone's own: another member who sends it (a crew mate, a copy of
someone's outbox) is refused, never answered with the first member's entry, photo or clock."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from crewline.factories import MemberFactory
from crewline.field.models import Device
from crewline.field.tests.conftest import Phone, jpeg_bytes, new_id, sha
from crewline.timesheets.models import TimeEntry
from crewline.workorders.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def mate(org):
    from crewline.core.models import Role

    return MemberFactory(organization=org, role=Role.TECHNICIAN)


@pytest.fixture
def mate_phone(mate):
    client = Client()
    client.force_login(mate.user)
    device = Device.objects.create(id=uuid.uuid4(), organization=mate.organization,
                                   member=mate, name="Mate's phone")
    return Phone(client, device)


def test_it_refuses_a_crew_mates_client_ids(phone, mate_phone, make_visit, technician, mate):
    visit = make_visit(crew=[technician, mate])
    note_id, part_id, clock_id = new_id(), new_id(), new_id()
    assert phone.send("note_add", visit_id=visit.pk, client_id=note_id,
                      body="Mine")["status"] == "applied"
    assert phone.send("part_add", visit_id=visit.pk, client_id=part_id, name="Valve",
                      quantity="1", unit="each")["status"] == "applied"
    assert phone.send("clock_in", client_id=clock_id)["status"] == "applied"

    for name, args in [
        ("note_add", {"visit_id": visit.pk, "client_id": note_id, "body": "Theirs"}),
        ("part_add", {"visit_id": visit.pk, "client_id": part_id, "name": "Valve",
                      "quantity": "1", "unit": "each"}),
        ("clock_in", {"client_id": clock_id}),
    ]:
        result = mate_phone.send(name, **args)
        assert result["status"] == "rejected", name
        assert "already used" in result["reason"], name
    assert [e.author for e in TimelineEntry.objects.filter(
        kind__in=[EntryKind.NOTE, EntryKind.PART])] == [technician, technician]
    assert not TimeEntry.objects.filter(member=mate).exists()


def test_it_does_not_let_a_crew_mate_attach_someone_elses_upload(
        tech_client, phone, mate_phone, make_visit, technician, mate):
    visit = make_visit(crew=[technician, mate])
    data = jpeg_bytes()
    upload_id = str(uuid.uuid4())
    stored = tech_client.post("/field/api/uploads", {
        "client_id": upload_id, "sha256": sha(data),
        "file": _file(data)})
    assert stored.status_code == 201
    result = mate_phone.send("photo_add", visit_id=visit.pk, client_id=new_id(),
                             upload_id=upload_id)
    assert result["status"] == "rejected"
    assert "not uploaded" in result["reason"]  # as for an id never uploaded
    assert not TimelineEntry.objects.filter(kind=EntryKind.PHOTO).exists()
    # The owner attaches it as usual.
    assert phone.send("photo_add", visit_id=visit.pk, client_id=new_id(),
                      upload_id=upload_id)["status"] == "applied"
    photo = TimelineEntry.objects.get(kind=EntryKind.PHOTO)
    assert (photo.author, photo.visit) == (technician, visit)


def _file(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")
