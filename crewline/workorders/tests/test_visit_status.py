"""The visit dispatch status services: one per transition, each with a timeline entry (device
and server time), an audit entry and one ``visit_changed`` with change "status"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crewline.core.models import AuditLog, Role
from crewline.factories import MemberFactory
from crewline.workorders.models import EntryKind, Status, TimelineEntry, VisitStatus
from crewline.workorders.services import (
    visit_add,
    visit_arrive,
    visit_cancel,
    visit_complete,
    visit_en_route,
    visit_incomplete,
    visit_is_paused,
    visit_pause,
    visit_resume,
)
from crewline.workorders.signals import visit_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(make_wo, office, technician, soon):
    return visit_add(work_order=make_wo(), by=office, start=soon[0], end=soon[1],
                     crew=[technician], override=True)


def test_it_walks_a_visit_to_done_recording_each_step(visit, technician):
    sent = []

    def listen(sender, **kwargs):
        sent.append((kwargs["change"], kwargs["before"]["status"], kwargs["after"]["status"]))

    visit_changed.connect(listen)
    try:
        device_time = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
        visit_en_route(visit=visit, by=technician, device_time=device_time)
        visit_arrive(visit=visit, by=technician)
        visit_pause(visit=visit, by=technician)
        assert visit_is_paused(visit)
        visit_resume(visit=visit, by=technician)
        visit_complete(visit=visit, by=technician)
    finally:
        visit_changed.disconnect(listen)
    assert visit.status == VisitStatus.DONE and visit.finished_at is not None
    assert sent == [("status", "scheduled", "en_route"), ("status", "en_route", "on_site"),
                    ("status", "on_site", "on_site"), ("status", "on_site", "on_site"),
                    ("status", "on_site", "done")]
    entries = TimelineEntry.objects.filter(visit=visit, kind=EntryKind.VISIT_STATUS
                                           ).order_by("id")
    assert entries[0].device_time == device_time and entries[0].created_at > device_time
    assert list(AuditLog.objects.filter(action__startswith="visit.").exclude(
        action="visit.add").order_by("seq").values_list("action", flat=True)) == [
        "visit.en_route", "visit.arrive", "visit.pause", "visit.resume", "visit.complete"]
    visit.work_order.refresh_from_db()
    assert visit.work_order.status == Status.IN_PROGRESS


def test_it_refuses_steps_out_of_order_and_people_off_the_crew(visit, technician, org, office):
    with pytest.raises(ValidationError):
        visit_complete(visit=visit, by=technician)
    with pytest.raises(ValidationError):
        visit_pause(visit=visit, by=technician)
    stranger = MemberFactory(organization=org, role=Role.TECHNICIAN)
    with pytest.raises(PermissionDenied):
        visit_en_route(visit=visit, by=stranger)
    visit_en_route(visit=visit, by=office)  # the office may act for the crew
    visit_cancel(visit=visit, by=office, reason="Called off")
    with pytest.raises(ValidationError):
        visit_arrive(visit=visit, by=technician)


def test_it_raises_a_follow_up_when_a_visit_cannot_be_completed(visit, technician):
    with pytest.raises(ValidationError):
        visit_incomplete(visit=visit, by=technician, reason="")
    visit_arrive(visit=visit, by=technician)
    visit_incomplete(visit=visit, by=technician, reason="Needs a new pump")
    wo = visit.work_order
    wo.refresh_from_db()
    assert visit.status == VisitStatus.INCOMPLETE
    assert wo.status == Status.ON_HOLD and wo.status_reason == "Needs a new pump"
    assert TimelineEntry.objects.filter(work_order=wo, kind=EntryKind.SYSTEM,
                                        data__event="follow_up").count() == 1


def test_it_requires_the_checklist_before_completion(visit, technician):
    wo = visit.work_order
    wo.checklist = [{"label": "Gas test", "kind": "yes_no", "required": True}]
    wo.save(update_fields=["checklist"])
    visit_arrive(visit=visit, by=technician)
    with pytest.raises(ValidationError, match="Gas test"):
        visit_complete(visit=visit, by=technician)
    TimelineEntry.objects.create(organization=wo.organization, work_order=wo, visit=visit,
                                 kind=EntryKind.CHECKLIST, data={"index": 0, "answer": False})
    visit_complete(visit=visit, by=technician)
    assert visit.status == VisitStatus.DONE
