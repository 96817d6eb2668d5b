"""Push batches: one transaction per push with a savepoint per mutation. A rejected mutation
rolls back to its savepoint (audit entries included: the chain still verifies), an interrupted
push commits nothing, and the query count grows by a few inserts per mutation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from crewline.core.audit import audit_verify
from crewline.core.models import AuditLog, Role
from crewline.factories import MemberFactory
from crewline.field import services
from crewline.field.models import Device, RejectedMutation
from crewline.field.tests.conftest import new_id
from crewline.workorders.models import EntryKind, TimelineEntry, VisitStatus
from crewline.workorders.services import visit_cancel

pytestmark = pytest.mark.django_db


def _notes(visit) -> list[str]:
    return list(TimelineEntry.objects.filter(visit=visit, kind=EntryKind.NOTE).order_by("id")
                .values_list("body", flat=True))


@pytest.fixture
def note_fails_after_writing(monkeypatch):
    """``note_add`` whose body is "boom" writes its entry and audit entry, then breaks a rule."""
    original = services.MUTATIONS["note_add"]

    def note(ctx, args):
        entry = original(ctx, args)
        if args.get("body") == "boom":
            raise ValidationError("Refused after writing.")
        return entry

    monkeypatch.setitem(services.MUTATIONS, "note_add", note)


def test_it_keeps_the_audit_chain_whole_after_rejected_mutations(
        phone, device, visit, make_visit, org, office, note_fails_after_writing):
    cancelled = make_visit(crew=[device.member], hour=14)
    visit_cancel(visit=cancelled, by=office, reason="Customer called off")
    other = make_visit(crew=[MemberFactory(organization=org, role=Role.TECHNICIAN)], hour=16)
    audit_before = AuditLog.objects.filter(organization=org).count()
    ms = [phone.mutation("visit_en_route", visit_id=visit.pk),
          phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="one"),
          phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="boom"),
          phone.mutation("visit_arrive", visit_id=visit.pk),
          phone.mutation("note_add", visit_id=cancelled.pk, client_id=new_id(), body="late"),
          phone.mutation("visit_pause", visit_id=other.pk),
          phone.mutation("visit_resume", visit_id=visit.pk),  # not paused
          phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="boom"),
          phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="two"),
          phone.mutation("visit_complete", visit_id=visit.pk)]
    response = phone.push(*ms)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == [
        "applied", "applied", "rejected", "applied", "rejected", "rejected", "rejected",
        "rejected", "applied", "applied"]
    assert response.json()["last_seq"] == 10
    report = audit_verify(organization=org)
    assert report.ok, report.problem
    actions = list(AuditLog.objects.filter(organization=org).order_by("seq")
                   .values_list("action", flat=True))[audit_before:]
    assert actions.count("note.add") == 2 and "visit.complete" in actions
    assert _notes(visit) == ["one", "two"]
    assert not _notes(cancelled)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE
    assert list(RejectedMutation.objects.filter(device=device).order_by("seq")
                .values_list("seq", flat=True)) == [3, 5, 6, 7, 8]
    device.refresh_from_db()
    assert device.last_seq == 10
    # The next push chains on the committed head.
    assert phone.send("note_add", visit_id=visit.pk, client_id=new_id(),
                      body="after")["status"] == "applied"
    assert audit_verify(organization=org).ok


def test_it_commits_nothing_of_an_interrupted_push_and_applies_it_once_when_resent(
        phone, device, visit, org, monkeypatch):
    ms = [phone.mutation("visit_en_route", visit_id=visit.pk),
          phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="one"),
          phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="crash"),
          phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body="three")]
    audit_before = AuditLog.objects.filter(organization=org).count()
    original = services.MUTATIONS["note_add"]

    def crashing(ctx, args):
        if args.get("body") == "crash":
            raise OSError("disk full")
        return original(ctx, args)

    monkeypatch.setitem(services.MUTATIONS, "note_add", crashing)
    with pytest.raises(OSError):
        phone.push(*ms)
    device.refresh_from_db()
    visit.refresh_from_db()
    assert device.last_seq == 0 and visit.status == VisitStatus.SCHEDULED
    assert not _notes(visit) and not RejectedMutation.objects.exists()
    assert AuditLog.objects.filter(organization=org).count() == audit_before
    monkeypatch.setitem(services.MUTATIONS, "note_add", original)
    response = phone.push(*ms)
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * 4
    assert phone.push(*ms).json()["results"] == [{"seq": s, "status": "duplicate"}
                                                 for s in range(1, 5)]
    assert _notes(visit) == ["one", "crash", "three"]
    assert Device.objects.get(pk=device.pk).last_seq == 4
    assert audit_verify(organization=org).ok


def test_it_costs_a_few_queries_a_mutation(phone, visit, django_assert_max_num_queries):
    assert phone.send("visit_arrive", visit_id=visit.pk)["status"] == "applied"
    ms = [phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(), body=f"n{i}")
          for i in range(10)]
    ms += [phone.mutation("part_add", visit_id=visit.pk, client_id=new_id(), name="Filter",
                          quantity=1, unit="each") for _ in range(10)]
    # A note: two savepoints, its earlier copy looked for and the entry; a part the same
    # without the look-up. The audit entries (the chain's head read once a push) and the
    # change log are written once at the end, each change once. (Each in its own
    # transaction: 15 a note.)
    with django_assert_max_num_queries(20 * 4 + 10):
        response = phone.push(*ms)
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * 20
