"""Push: each mutation applied once through the office's services, duplicates skipped, gaps
refused with the expected seq, rule breaks kept as rejected with their reason."""

from __future__ import annotations

import json
import uuid

import pytest

from crewline.core.models import AuditLog, Role
from crewline.factories import MemberFactory
from crewline.field.models import Device, RejectedMutation
from crewline.field.tests.conftest import Phone, b64, jpeg_bytes, new_id, png_bytes, sha
from crewline.notifications.models import Notification
from crewline.timesheets.models import TimeEntry, TimeKind, TimeSource
from crewline.workorders.models import EntryKind, Status, TimelineEntry, VisitStatus
from crewline.workorders.services import visit_cancel

pytestmark = pytest.mark.django_db


def _entries(visit, kind):
    return list(TimelineEntry.objects.filter(visit=visit, kind=kind).order_by("id"))


def test_it_registers_a_device_once_and_hides_other_peoples(tech_client, technician, office):
    device_id = str(uuid.uuid4())
    response = tech_client.post("/field/api/devices/", json.dumps(
        {"device_id": device_id, "name": "Pixel 8"}), content_type="application/json")
    assert response.status_code == 201
    assert response.json() == {"device_id": device_id, "last_seq": 0, "name": "Pixel 8"}
    again = tech_client.post("/field/api/devices/", json.dumps({"device_id": device_id}),
                             content_type="application/json")
    assert again.status_code == 201 and Device.objects.filter(pk=device_id).count() == 1
    assert Device.objects.get(pk=device_id).member == technician
    assert AuditLog.objects.filter(action="device.register").count() == 1
    # Someone else claiming that id learns nothing.
    from django.test import Client

    other = Client()
    other.force_login(office.user)
    claim = other.post("/field/api/devices/", json.dumps({"device_id": device_id}),
                       content_type="application/json")
    assert claim.status_code == 404
    bad = tech_client.post("/field/api/devices/", json.dumps({"device_id": "nope"}),
                           content_type="application/json")
    assert bad.status_code == 400


def test_it_refuses_a_device_of_another_member_or_organization(
        phone, device, office_client, outsider_client, visit):
    for client in (office_client, outsider_client):
        other = Phone(client, device)
        response = other.push(other.mutation("note_add", visit_id=visit.pk,
                                             client_id=new_id(), body="x"))
        assert response.status_code == 404
        assert other.pull().status_code == 404
    assert phone.push(phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(),
                                     body="x"), device_id=uuid.uuid4()).status_code == 404
    device.refresh_from_db()
    assert device.last_seq == 0
    assert not TimelineEntry.objects.filter(kind=EntryKind.NOTE).exists()


def test_it_refuses_a_revoked_device(phone, device, visit):
    from django.utils import timezone

    Device.objects.filter(pk=device.pk).update(revoked_at=timezone.now())
    assert phone.push(phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(),
                                     body="x")).status_code == 404
    assert phone.pull().status_code == 404


def test_it_applies_a_note_once_however_often_it_is_delivered(phone, device, visit):
    note = phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="Boiler OK",
                          visibility="customer", client_time="2026-01-05T09:15:00-06:00")
    first = phone.push(note)
    assert first.status_code == 200
    assert first.json() == {"last_seq": 1, "results": [{"seq": 1, "status": "applied"}]}
    second = phone.push(note)
    assert second.json() == {"last_seq": 1, "results": [{"seq": 1, "status": "duplicate"}]}
    [entry] = _entries(visit, EntryKind.NOTE)
    assert entry.body == "Boiler OK" and entry.visibility == "customer"
    assert entry.device_time.isoformat() == "2026-01-05T15:15:00+00:00"
    assert entry.created_at > entry.device_time
    device.refresh_from_db()
    assert device.last_seq == 1 and device.last_seen_at is not None


def test_it_refuses_a_gap_with_the_expected_seq(phone, device, visit):
    one = phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="one")
    two = phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="two")
    three = phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="three")
    response = phone.push(two, three)
    assert response.status_code == 409
    assert response.json()["expected_seq"] == 1 and response.json()["last_seq"] == 0
    assert not _entries(visit, EntryKind.NOTE)
    # A batch that starts with what was applied and runs past it applies the rest.
    assert phone.push(one).status_code == 200
    response = phone.push(one, two, three)
    assert [r["status"] for r in response.json()["results"]] == ["duplicate", "applied",
                                                                 "applied"]
    assert [e.body for e in _entries(visit, EntryKind.NOTE)] == ["one", "two", "three"]


def test_it_refuses_malformed_batches(phone, visit):
    m1 = phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="a")
    m3 = {**m1, "seq": 3}
    assert phone.push(m1, m3).status_code == 400  # not consecutive
    assert phone.push({**m1, "seq": 0}).status_code == 400
    assert phone.push({**m1, "seq": "1"}).status_code == 400
    response = phone.client.post("/field/api/push", "{", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(("name", "args", "reason"), [
    ("note_add", {"body": "  "}, "Write something"),
    ("note_add", {"body": "x", "visibility": "everyone"}, "Choose who may see"),
    ("note_add", {"body": "x", "client_id": "not-a-uuid"}, "must be a UUID"),
    ("part_add", {"name": "Valve", "quantity": 0}, "more than zero"),
    ("part_add", {"name": "Valve", "quantity": "lots"}, "must be a number"),
    ("part_add", {"name": "", "quantity": 1}, "Name the part"),
    ("labor_set", {"minutes": -5}, "between 0 and 24 hours"),
    ("labor_set", {"minutes": "an hour"}, "whole number"),
    ("checklist_answer", {"index": 7, "answer": True}, "no such item"),
    ("signature_add", {"signer_name": "Ann", "png": b64(b"not a png")}, "could not be read"),
    ("signature_add", {"signer_name": "", "png": b64(png_bytes())}, "name of the person"),
    ("photo_add", {"data": b64(jpeg_bytes()), "sha256": "0" * 64}, "checksum"),
    ("photo_add", {"data": b64(b"GIF89a nonsense"), "sha256": sha(b"GIF89a nonsense")},
     "could not be read"),
    ("photo_add", {"upload_id": new_id()}, "not uploaded"),
    ("visit_complete", {}, "cannot be marked completed"),
    ("visit_incomplete", {"reason": ""}, "Give a reason"),
    ("no_such_thing", {}, "Unknown change"),
])
def test_it_rejects_bad_arguments_with_a_reason(phone, device, visit, office, name, args,
                                                 reason):
    args = {"visit_id": visit.pk, "client_id": new_id(), **args}
    result = phone.send(name, **args)
    assert result["status"] == "rejected" and reason in result["reason"], result
    device.refresh_from_db()
    assert device.last_seq == 1
    rejected = RejectedMutation.objects.get(device=device, seq=1)
    assert rejected.name == name and reason in rejected.reason
    assert rejected.work_order_id == visit.work_order_id
    assert Notification.objects.filter(recipient=office, kind="sync_rejected").count() == 1
    assert not TimelineEntry.objects.filter(visit=visit).exclude(kind=EntryKind.SCHEDULE
                                                                 ).exists()


def test_it_rejects_changes_to_a_visit_cancelled_meanwhile(phone, device, visit, office):
    visit_cancel(visit=visit, by=office, reason="Customer called off")
    result = phone.send("note_add", visit_id=visit.pk, client_id=new_id(), body="Done")
    assert result == {"seq": 1, "status": "rejected", "reason": "This visit was cancelled."}
    assert phone.send("visit_arrive", visit_id=visit.pk)["status"] == "rejected"
    assert list(RejectedMutation.objects.filter(device=device).order_by("seq")
                .values_list("seq", flat=True)) == [1, 2]
    payload = phone.pull().json()
    assert [r["seq"] for r in payload["rejected"]] == [1, 2]
    assert payload["rejected"][0]["reason"] == "This visit was cancelled."


def test_it_rejects_changes_to_a_visit_the_technician_is_not_on(phone, make_visit, org):
    someone = MemberFactory(organization=org, role=Role.TECHNICIAN)
    theirs = make_visit(crew=[someone])
    result = phone.send("note_add", visit_id=theirs.pk, client_id=new_id(), body="Hi")
    assert result["status"] == "rejected" and "not on this visit" in result["reason"]
    assert phone.send("visit_en_route", visit_id=theirs.pk)["status"] == "rejected"
    theirs.refresh_from_db()
    assert theirs.status == VisitStatus.SCHEDULED


def test_it_rejects_a_visit_of_another_organization(phone, outsider):
    from crewline.factories import CustomerFactory, SiteFactory
    from crewline.workorders.services import visit_add, work_order_create

    site = SiteFactory(customer=CustomerFactory(organization=outsider.organization))
    wo = work_order_create(organization=outsider.organization, by=outsider,
                           customer=site.customer, site=site, title="Theirs")
    theirs = visit_add(work_order=wo, by=outsider, start=None, end=None)
    result = phone.send("note_add", visit_id=theirs.pk, client_id=new_id(), body="Hi")
    assert result["status"] == "rejected" and "does not exist" in result["reason"]
    assert RejectedMutation.objects.get().work_order is None


def test_it_runs_a_visit_through_its_statuses_with_device_times(phone, visit):
    times = ["2026-01-05T08:00:00+00:00", "2026-01-05T08:30:00+00:00",
             "2026-01-05T09:00:00+00:00", "2026-01-05T09:10:00+00:00",
             "2026-01-05T10:00:00+00:00"]
    for name, at in zip(["visit_en_route", "visit_arrive", "visit_pause", "visit_resume",
                         "visit_complete"], times, strict=True):
        assert phone.push(phone.mutation(name, client_time=at, visit_id=visit.pk)).json()[
            "results"][0]["status"] == "applied", name
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE
    assert visit.arrived_at.isoformat() == times[1]
    assert visit.finished_at.isoformat() == times[4]
    entries = _entries(visit, EntryKind.VISIT_STATUS)
    assert [e.data["event"] for e in entries] == ["en_route", "arrive", "pause", "resume",
                                                  "complete"]
    assert [e.device_time.isoformat() for e in entries] == times
    assert visit.work_order.status == Status.IN_PROGRESS
    # Pausing twice, resuming when not paused, completing twice: refused with reasons.
    assert phone.send("visit_pause", visit_id=visit.pk)["status"] == "rejected"


def test_it_enforces_pause_and_resume_order(phone, visit):
    phone.send("visit_arrive", visit_id=visit.pk)
    assert "not paused" in phone.send("visit_resume", visit_id=visit.pk)["reason"]
    assert phone.send("visit_pause", visit_id=visit.pk)["status"] == "applied"
    assert "already paused" in phone.send("visit_pause", visit_id=visit.pk)["reason"]


def test_it_records_could_not_complete_as_a_follow_up(phone, visit, office):
    phone.send("visit_arrive", visit_id=visit.pk)
    result = phone.send("visit_incomplete", visit_id=visit.pk, reason="Part on order")
    assert result["status"] == "applied"
    visit.refresh_from_db()
    wo = visit.work_order
    wo.refresh_from_db()
    assert visit.status == VisitStatus.INCOMPLETE
    assert wo.status == Status.ON_HOLD and wo.status_reason == "Part on order"
    assert TimelineEntry.objects.filter(work_order=wo, kind=EntryKind.SYSTEM,
                                        data__event="follow_up", body="Part on order").exists()


def test_it_enforces_checklist_and_signature_before_completion(phone, make_visit, technician,
                                                                org):
    from crewline.field.models import FieldSettings

    FieldSettings.objects.create(organization=org, require_signature=True)
    visit = make_visit(crew=[technician], checklist=[
        {"label": "Filters changed", "kind": "yes_no", "required": True},
        {"label": "Pressure", "kind": "number", "required": True},
        {"label": "Comments", "kind": "text", "required": False}])
    phone.send("visit_arrive", visit_id=visit.pk)
    refused = phone.send("visit_complete", visit_id=visit.pk)
    assert refused["status"] == "rejected"
    assert "Filters changed, Pressure" in refused["reason"] and "signature" in refused["reason"]
    assert phone.send("checklist_answer", visit_id=visit.pk, client_id=new_id(), index=0,
                      answer=False)["status"] == "applied"
    assert "needs a number" in phone.send("checklist_answer", visit_id=visit.pk,
                                          client_id=new_id(), label="Pressure",
                                          answer="high")["reason"]
    assert phone.send("checklist_answer", visit_id=visit.pk, client_id=new_id(),
                      label="Pressure", answer=1.4)["status"] == "applied"
    still = phone.send("visit_complete", visit_id=visit.pk)
    assert still["status"] == "rejected" and "Filters" not in still["reason"]
    assert phone.send("signature_add", visit_id=visit.pk, client_id=new_id(),
                      signer_name="Ann Lee", png=b64(png_bytes()))["status"] == "applied"
    assert phone.send("visit_complete", visit_id=visit.pk)["status"] == "applied"
    [signature] = _entries(visit, EntryKind.SIGNATURE)
    assert signature.data == {"signer_name": "Ann Lee"}
    assert signature.attachment.read().startswith(b"\x89PNG")


def test_it_keeps_appends_and_their_client_ids_once(phone, visit):
    part_id, labor_id, photo_id = new_id(), new_id(), new_id()
    data = jpeg_bytes()
    batch = [
        phone.mutation("part_add", visit_id=visit.pk, client_id=part_id, name="Valve",
                       quantity="2.5", unit="m"),
        phone.mutation("labor_set", visit_id=visit.pk, client_id=labor_id, minutes=75,
                       description="Replaced valve"),
        phone.mutation("photo_add", visit_id=visit.pk, client_id=photo_id, data=b64(data),
                       sha256=sha(data), caption="Before"),
    ]
    assert [r["status"] for r in phone.push(*batch).json()["results"]] == ["applied"] * 3
    assert [r["status"] for r in phone.push(*batch).json()["results"]] == ["duplicate"] * 3
    [part] = _entries(visit, EntryKind.PART)
    assert part.data == {"name": "Valve", "quantity": "2.5", "unit": "m",
                         "price_book_item_id": None, "code": ""}
    [labor] = _entries(visit, EntryKind.LABOR)
    assert labor.data["minutes"] == 75 and labor.body == "Replaced valve"
    [photo] = _entries(visit, EntryKind.PHOTO)
    assert photo.attachment.read() == data and photo.body == "Before"
    # The same client id resent under a new seq (the phone lost its counter) is not doubled.
    again = phone.send("part_add", visit_id=visit.pk, client_id=part_id, name="Valve",
                       quantity="2.5", unit="m")
    assert again["status"] == "duplicate"
    assert len(_entries(visit, EntryKind.PART)) == 1
    # A client id already used for another kind of entry is refused.
    clash = phone.send("note_add", visit_id=visit.pk, client_id=part_id, body="x")
    assert clash["status"] == "rejected" and "already used" in clash["reason"]


def test_it_converts_heic_photos_to_jpeg(phone, visit):
    import io

    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(out, "HEIF")
    heic = out.getvalue()
    result = phone.send("photo_add", visit_id=visit.pk, client_id=new_id(), data=b64(heic),
                        sha256=sha(heic))
    assert result["status"] == "applied"
    [photo] = _entries(visit, EntryKind.PHOTO)
    assert photo.attachment_type == "image/jpeg"
    assert Image.open(photo.attachment.open("rb")).format == "JPEG"


def test_it_takes_photos_uploaded_first(phone, visit, tech_client, device):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = jpeg_bytes()
    upload_id = new_id()

    def send(checksum=None):
        return tech_client.post("/field/api/uploads", {
            "client_id": upload_id, "sha256": checksum or sha(data),
            "file": SimpleUploadedFile("p.jpg", data, "image/jpeg")})

    assert send().status_code == 201
    assert send().status_code == 201  # idempotent
    assert send(checksum="f" * 64).status_code == 409
    bad = tech_client.post("/field/api/uploads", {
        "client_id": new_id(), "sha256": "0" * 64,
        "file": SimpleUploadedFile("p.jpg", data, "image/jpeg")})
    assert bad.status_code == 400 and "checksum" in bad.json()["error"]
    result = phone.send("photo_add", visit_id=visit.pk, client_id=new_id(), upload_id=upload_id)
    assert result["status"] == "applied"
    [photo] = _entries(visit, EntryKind.PHOTO)
    assert photo.attachment.read() == data


def test_it_clocks_in_and_out_with_location(phone, technician):
    shift, brk = new_id(), new_id()
    assert phone.send("clock_in", client_id=shift, lat=41.88, lng=-87.63)["status"] == "applied"
    assert "already clocked in" in phone.send("clock_in", client_id=new_id())["reason"]
    assert phone.send("break_start", client_id=brk)["status"] == "applied"
    assert phone.send("break_end", client_id=new_id())["status"] == "applied"
    assert "not on a break" in phone.send("break_end", client_id=new_id())["reason"]
    assert phone.send("clock_out", client_id=new_id(), lat=41.9, lng=-87.6)["status"] == \
        "applied"
    entries = list(TimeEntry.objects.filter(member=technician).order_by("id"))
    assert [(e.kind, e.end is not None, e.source) for e in entries] == [
        (TimeKind.SHIFT, True, TimeSource.DEVICE), (TimeKind.BREAK, True, TimeSource.DEVICE)]
    assert str(entries[0].client_id) == shift and float(entries[0].latitude) == 41.88
    assert "latitude and longitude" in phone.send("clock_in", client_id=new_id(),
                                                  lat=41.0)["reason"]


def test_it_takes_parts_from_the_price_book_when_there_is_one(phone, visit):
    from django.apps import apps

    if not apps.is_installed("crewline.billing"):
        pytest.skip("no price book in this build")
    result = phone.send("part_add", visit_id=visit.pk, client_id=new_id(), name="Valve",
                        quantity=1, price_book_item_id=999999)
    assert result["status"] == "rejected" and "price book" in result["reason"]
