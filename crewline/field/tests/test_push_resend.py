"""Exactly once across devices: a phone whose answer was lost, then revoked, registers a new
device and pushes the same outbox again under new numbers (PROTOCOL.md, "Devices"). Every
mutation carries a client id that the server keeps once it is settled, so each comes back
``duplicate`` and nothing happens twice: status changes (a pause and a resume were applied
again before), clock and break changes and every append alike.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crewline.core.models import AuditLog
from crewline.field.models import Device, RejectedMutation, SettledMutation
from crewline.field.services import device_revoke
from crewline.field.tests.conftest import Phone, b64, jpeg_bytes, new_id, png_bytes, sha
from crewline.timesheets.models import TimeEntry
from crewline.workorders.models import EntryKind, TimelineEntry, Visit

pytestmark = pytest.mark.django_db

CHECKLIST = [{"label": "Gas tightness test", "kind": "yes_no", "required": True}]
PHOTO, SIGNATURE = jpeg_bytes(), png_bytes()


def _args(name: str, visit_id: int, upload_id: str | None = None) -> dict:
    """Arguments of a valid ``name`` on the visit, with a fresh client id."""
    base = {"visit_id": visit_id, "client_id": new_id()}
    return {
        "visit_en_route": base, "visit_arrive": base, "visit_pause": base,
        "visit_resume": base, "visit_complete": base,
        "visit_incomplete": {**base, "reason": "No access to the plant room"},
        "note_add": {**base, "body": "Replaced the valve"},
        "photo_add": ({**base, "upload_id": upload_id} if upload_id else
                      {**base, "data": b64(PHOTO), "sha256": sha(PHOTO)}),
        "checklist_answer": {**base, "index": 0, "answer": True},
        "part_add": {**base, "name": "Valve", "quantity": "2", "unit": "each"},
        "labor_set": {**base, "minutes": 45, "description": "Valve swap"},
        "signature_add": {**base, "signer_name": "Pat Customer", "png": b64(SIGNATURE)},
        "clock_in": {"client_id": new_id()}, "clock_out": {"client_id": new_id()},
        "break_start": {"client_id": new_id()}, "break_end": {"client_id": new_id()},
    }[name]


# Each kind with what must come before it on the phone for it to apply.
CASES = {
    "visit_en_route": ["visit_en_route"],
    "visit_arrive": ["visit_arrive"],
    "visit_pause": ["visit_arrive", "visit_pause"],
    "visit_resume": ["visit_arrive", "visit_pause", "visit_resume"],
    "visit_complete": ["visit_arrive", "checklist_answer", "visit_complete"],
    "visit_incomplete": ["visit_en_route", "visit_incomplete"],
    "note_add": ["note_add"],
    "photo_add": ["photo_add"],
    "photo_add (upload)": ["photo_add"],
    "checklist_answer": ["checklist_answer"],
    "part_add": ["part_add"],
    "labor_set": ["labor_set"],
    "signature_add": ["signature_add"],
    "clock_in": ["clock_in"],
    "clock_out": ["clock_in", "clock_out"],
    "break_start": ["clock_in", "break_start"],
    "break_end": ["clock_in", "break_start", "break_end"],
}


def _state(org) -> dict:
    """Everything a mutation can change, to compare before and after the resend."""
    return {
        "entries": list(TimelineEntry.objects.filter(organization=org).order_by("id")
                        .values_list("kind", "visit_id", "body", "data", "client_id",
                                     "device_time")),
        "time": list(TimeEntry.objects.filter(organization=org).order_by("id")
                     .values_list("kind", "start", "end", "client_id", "end_client_id")),
        "visits": list(Visit.objects.filter(organization=org).order_by("id")
                       .values_list("status", "arrived_at", "finished_at", "sequence")),
        "rejected": RejectedMutation.objects.filter(organization=org).count(),
        "audit": AuditLog.objects.filter(organization=org).count(),
    }


def _register(client) -> Device:
    device_id = str(uuid.uuid4())
    response = client.post("/field/api/devices/", json.dumps({"device_id": device_id}),
                           content_type="application/json")
    assert response.status_code == 201
    return Device.objects.get(pk=device_id)


def _outbox(names: list[str], visit_id: int, upload_id: str | None, phone: Phone) -> list:
    """The phone's outbox: mutations with their client ids and times, numbered 1, 2, ..."""
    return [phone.mutation(name, **_args(name, visit_id, upload_id)) for name in names]


def _renumbered(outbox: list[dict]) -> list[dict]:
    return [{**m, "seq": n} for n, m in enumerate(outbox, start=1)]


@pytest.mark.parametrize("case", list(CASES))
def test_it_answers_an_outbox_pushed_again_from_a_new_device_as_duplicates(
        case, tech_client, technician, office, make_visit, org):
    visit = make_visit(crew=[technician], checklist=CHECKLIST)
    upload_id = None
    if case == "photo_add (upload)":
        upload_id = new_id()
        assert tech_client.post("/field/api/uploads", {
            "client_id": upload_id, "sha256": sha(PHOTO),
            "file": SimpleUploadedFile("p.jpg", PHOTO, content_type="image/jpeg")},
        ).status_code == 201
    first = Phone(tech_client, _register(tech_client))
    outbox = _outbox(CASES[case], visit.pk, upload_id, first)
    response = first.push(*outbox)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * len(outbox)
    # The answer was lost; then the phone was revoked.
    before = _state(org)
    device_revoke(device=first.device, by=office)

    second = Phone(tech_client, _register(tech_client))
    again = second.push(*_renumbered(outbox))
    assert again.status_code == 200, again.content
    assert again.json()["results"] == [{"seq": n, "status": "duplicate"}
                                       for n in range(1, len(outbox) + 1)]
    assert again.json()["last_seq"] == len(outbox)
    after = _state(org)
    assert after["audit"] == before["audit"] + 2  # the revocation and the new device only
    assert {**after, "audit": 0} == {**before, "audit": 0}

    # Pushed once more under numbers further on, from the same device: still duplicates.
    third = second.push(*[{**m, "seq": len(outbox) + n}
                          for n, m in enumerate(outbox, start=1)])
    assert [r["status"] for r in third.json()["results"]] == ["duplicate"] * len(outbox)
    assert _state(org)["entries"] == before["entries"]


def test_it_does_not_pause_and_resume_twice_after_a_new_registration(
        tech_client, technician, office, visit, org):
    first = Phone(tech_client, _register(tech_client))
    outbox = _outbox(["visit_arrive", "visit_pause", "visit_resume"], visit.pk, None, first)
    assert first.push(*outbox).status_code == 200
    device_revoke(device=first.device, by=office)
    second = Phone(tech_client, _register(tech_client))
    assert second.push(*_renumbered(outbox)).status_code == 200
    events = [d["event"] for d in TimelineEntry.objects.filter(
        visit=visit, kind=EntryKind.VISIT_STATUS).order_by("id").values_list("data", flat=True)]
    assert events == ["arrive", "pause", "resume"]
    # Nothing was refused either (the arrive used to come back rejected, and told the office).
    assert not RejectedMutation.objects.filter(organization=org).exists()


def test_it_answers_a_rejected_change_pushed_again_as_duplicate(
        tech_client, technician, office, visit, org):
    first = Phone(tech_client, _register(tech_client))
    outbox = _outbox(["visit_pause"], visit.pk, None, first)  # not on site: refused
    assert first.push(*outbox).json()["results"][0]["status"] == "rejected"
    device_revoke(device=first.device, by=office)
    second = Phone(tech_client, _register(tech_client))
    # Arrived since: the old pause must not be applied now, out of its order.
    second.send("visit_arrive", visit_id=visit.pk, client_id=new_id())
    assert second.send("visit_pause", **outbox[0]["args"])["status"] == "duplicate"
    assert RejectedMutation.objects.filter(organization=org).count() == 1
    assert not TimelineEntry.objects.filter(visit=visit, data__event="pause").exists()


def test_it_settles_a_client_id_once_within_one_batch(phone, visit):
    same = new_id()
    response = phone.push(phone.mutation("visit_arrive", visit_id=visit.pk, client_id=new_id()),
                          phone.mutation("visit_pause", visit_id=visit.pk, client_id=same),
                          phone.mutation("visit_pause", visit_id=visit.pk, client_id=same))
    assert [r["status"] for r in response.json()["results"]] == [
        "applied", "applied", "duplicate"]


def test_it_refuses_a_client_id_used_for_another_change(phone, visit, org):
    same = new_id()
    assert phone.send("visit_arrive", visit_id=visit.pk, client_id=same)["status"] == "applied"
    result = phone.send("note_add", visit_id=visit.pk, client_id=same, body="hello")
    assert result["status"] == "rejected"
    assert "already used" in result["reason"]
    assert not TimelineEntry.objects.filter(visit=visit, kind=EntryKind.NOTE).exists()


def test_it_keeps_client_ids_per_member(phone, visit, make_visit, org, technician):
    """A crew mate's client id is never taken for theirs: it is not a duplicate of theirs."""
    from crewline.core.models import Role
    from crewline.factories import MemberFactory
    from crewline.field.tests.conftest import Phone as OtherPhone

    mate = MemberFactory(organization=org, role=Role.TECHNICIAN)
    shared = make_visit(crew=[technician, mate])
    same = new_id()
    assert phone.send("visit_arrive", visit_id=shared.pk, client_id=same)["status"] == "applied"
    from django.test import Client

    client = Client()
    client.force_login(mate.user)
    mate_phone = OtherPhone(client, _register(client))
    result = mate_phone.send("visit_pause", visit_id=shared.pk, client_id=same)
    assert result["status"] == "applied"
    assert SettledMutation.objects.filter(client_id=same).count() == 2


def test_it_still_applies_a_status_change_without_a_client_id(phone, visit):
    """Outboxes written by the app before every change had a client id: guarded by the seq
    alone, as before."""
    assert phone.send("visit_arrive", visit_id=visit.pk)["status"] == "applied"
    assert phone.send("visit_pause", visit_id=visit.pk)["status"] == "applied"
    assert phone.send("visit_resume", visit_id=visit.pk)["status"] == "applied"
    assert SettledMutation.objects.count() == 0
    bad = phone.send("visit_pause", visit_id=visit.pk, client_id="not-a-uuid")
    assert bad["status"] == "rejected" and "client_id" in bad["reason"]
