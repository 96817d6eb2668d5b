"""The visit scheduling services in crewline.workorders.services: schedule, cancel, add."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crewline.core.models import AuditLog, Skill
from crewline.scheduling.conflicts import DOUBLE_BOOKING, MISSING_SKILL
from crewline.scheduling.tests.conftest import at
from crewline.workorders.models import EntryKind, Status, TimelineEntry, VisitStatus
from crewline.workorders.services import (
    ConflictError,
    visit_add,
    visit_cancel,
    visit_schedule,
    work_order_cancel,
)
from crewline.workorders.signals import visit_changed

TUE = (2025, 6, 3)
WED = (2025, 6, 4)


@pytest.fixture
def changes():
    """The visit_changed signals sent during the test."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append(kwargs)

    visit_changed.connect(receiver, dispatch_uid="test-visit-services")
    yield sent
    visit_changed.disconnect(dispatch_uid="test-visit-services")


def last_audit(org, action):
    return AuditLog.objects.filter(organization=org, action=action).order_by("-seq").first()


def test_it_assigns_a_queued_visit_and_schedules_its_new_work_order(org, office, tara,
                                                                    make_visit, changes):
    visit = make_visit()
    assert visit.work_order.status == Status.NEW
    result = visit_schedule(visit=visit, start=at(*TUE, 9), end=at(*TUE, 10), crew=[tara],
                            by=office)
    assert result.start == at(*TUE, 9) and result.end == at(*TUE, 10)
    assert list(result.crew.all()) == [tara]
    assert result.sequence == 1
    visit.work_order.refresh_from_db()
    assert visit.work_order.status == Status.SCHEDULED
    [sent] = changes
    assert sent["change"] == "assigned"
    assert sent["by"] == office
    assert sent["before"] == {"start": None, "end": None, "crew": [], "status": "scheduled"}
    assert sent["after"] == {"start": at(*TUE, 9), "end": at(*TUE, 10), "crew": [tara.pk],
                             "status": "scheduled"}
    entry = TimelineEntry.objects.get(visit=visit, kind=EntryKind.SCHEDULE)
    assert entry.body == "scheduled for Tue 3 Jun 09:00–10:00; added Tara Nguyen"
    audit = last_audit(org, "visit.schedule")
    assert audit.actor == office
    assert audit.changes["crew"] == [[], [tara.pk]]
    assert "override" not in audit.changes


def test_it_moves_a_visit_and_describes_the_move(org, office, tara, make_visit, changes):
    visit = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara])
    visit_schedule(visit=visit, start=at(*WED, 13), end=at(*WED, 14, 30), by=office)
    assert [c["change"] for c in changes] == ["moved"]
    assert changes[0]["before"]["start"] == at(*TUE, 9)
    assert changes[0]["after"]["crew"] == [tara.pk]  # crew=None keeps the crew
    entry = TimelineEntry.objects.get(visit=visit, kind=EntryKind.SCHEDULE)
    assert entry.body == "moved from Tue 3 Jun 09:00–10:00 to Wed 4 Jun 13:00–14:30"
    assert entry.data["event"] == "visit_moved"
    visit.refresh_from_db()
    assert visit.sequence == 1
    assert list(visit.crew.all()) == [tara]


def test_it_tells_a_resize_from_a_move_and_a_crew_change(org, office, tara, sam, make_visit,
                                                         changes):
    visit = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara])
    visit_schedule(visit=visit, start=at(*TUE, 9), end=at(*TUE, 11), by=office)
    visit_schedule(visit=visit, start=at(*TUE, 9), end=at(*TUE, 11), crew=[tara, sam],
                   by=office)
    visit_schedule(visit=visit, start=at(*TUE, 9), end=at(*TUE, 11), crew=[], by=office)
    assert [c["change"] for c in changes] == ["resized", "crew_changed", "crew_changed"]
    bodies = list(TimelineEntry.objects.filter(visit=visit).order_by("id")
                  .values_list("body", flat=True))
    assert bodies == ["changed from Tue 3 Jun 09:00–10:00 to Tue 3 Jun 09:00–11:00",
                      "added Sam Lee", "removed Sam Lee, Tara Nguyen"]
    visit.refresh_from_db()
    assert visit.sequence == 3


def test_it_changes_nothing_when_nothing_changes(org, office, tara, make_visit, changes):
    visit = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara])
    visit_schedule(visit=visit, start=at(*TUE, 9), end=at(*TUE, 10), crew=[tara], by=office)
    assert changes == []
    visit.refresh_from_db()
    assert visit.sequence == 0
    assert not AuditLog.objects.filter(action="visit.schedule").exists()


def test_it_refuses_a_conflict_and_leaves_the_visit_alone(org, office, tara, make_visit,
                                                         changes):
    make_visit(at(*WED, 13), at(*WED, 15), crew=[tara], number=1042)
    visit = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara])
    with pytest.raises(ConflictError) as caught:
        visit_schedule(visit=visit, start=at(*WED, 14), end=at(*WED, 15), by=office)
    assert [c.kind for c in caught.value.conflicts] == [DOUBLE_BOOKING]
    assert caught.value.messages == ["Tara Nguyen is already on WO-1042 from 13:00 to 15:00."]
    visit.refresh_from_db()
    assert visit.start == at(*TUE, 9)
    assert visit.sequence == 0
    assert changes == []


def test_it_records_an_override_with_the_conflicts_in_the_audit_log(org, office, tara,
                                                                   make_visit, changes):
    make_visit(at(*WED, 13), at(*WED, 15), crew=[tara], number=1042)
    visit = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara])
    visit_schedule(visit=visit, start=at(*WED, 14), end=at(*WED, 15), by=office, override=True)
    visit.refresh_from_db()
    assert visit.start == at(*WED, 14)
    audit = last_audit(org, "visit.schedule")
    assert audit.changes["override"] == [None, True]
    assert audit.changes["conflicts"] == [
        None, ["Tara Nguyen is already on WO-1042 from 13:00 to 15:00."]]
    assert [c["change"] for c in changes] == ["moved"]


def test_it_refuses_closed_visits_and_closed_work_orders(org, office, tara, make_visit):
    for status in (VisitStatus.DONE, VisitStatus.CANCELLED, VisitStatus.INCOMPLETE):
        visit = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara], status=status)
        with pytest.raises(ValidationError, match="can no longer be changed"):
            visit_schedule(visit=visit, start=at(*TUE, 11), end=at(*TUE, 12), by=office)
    visit = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara])
    visit.work_order.status = Status.COMPLETED
    visit.work_order.save(update_fields=["status"])
    with pytest.raises(ValidationError, match="work order is completed"):
        visit_schedule(visit=visit, start=at(*TUE, 11), end=at(*TUE, 12), by=office)


def test_it_refuses_a_bad_window_and_another_organizations_crew(org, office, tara, outsider,
                                                                make_visit):
    visit = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara])
    with pytest.raises(ValidationError, match="end must be after"):
        visit_schedule(visit=visit, start=at(*TUE, 10), end=at(*TUE, 9), by=office)
    with pytest.raises(ValidationError, match="Not found"):
        visit_schedule(visit=visit, start=at(*TUE, 9), end=at(*TUE, 10), crew=[outsider],
                       by=office)
    with pytest.raises(ValueError, match="timezone-aware"):
        visit_schedule(visit=visit, start=at(*TUE, 9).replace(tzinfo=None),
                       end=at(*TUE, 10).replace(tzinfo=None), by=office)


def test_it_cancels_a_visit_with_a_reason(org, office, tara, make_visit, changes):
    visit = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara])
    with pytest.raises(ValidationError, match="Give a reason"):
        visit_cancel(visit=visit, by=office, reason="  ")
    visit_cancel(visit=visit, by=office, reason="Customer not home")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CANCELLED
    assert visit.sequence == 1
    [sent] = changes
    assert sent["change"] == "cancelled"
    assert sent["before"]["status"] == "scheduled" and sent["after"]["status"] == "cancelled"
    assert sent["after"]["crew"] == [tara.pk]
    audit = last_audit(org, "visit.cancel")
    assert audit.changes["reason"] == [None, "Customer not home"]
    entry = TimelineEntry.objects.get(visit=visit, kind=EntryKind.VISIT_STATUS)
    assert entry.body == "Customer not home"
    with pytest.raises(ValidationError, match="cancelled; it can no longer be changed"):
        visit_cancel(visit=visit, by=office, reason="Again")


def test_it_adds_a_visit_with_a_conflict_check_and_an_added_signal(org, office, tara,
                                                                   make_visit, changes):
    busy = make_visit(at(*TUE, 9), at(*TUE, 11), crew=[tara], number=1042)
    gas = Skill.objects.create(organization=org, name="Gas")
    wo = make_visit().work_order
    wo.required_skills.add(gas)
    with pytest.raises(ConflictError) as caught:
        visit_add(work_order=wo, by=office, start=at(*TUE, 10), end=at(*TUE, 12), crew=[tara])
    assert [c.kind for c in caught.value.conflicts] == [MISSING_SKILL, DOUBLE_BOOKING]
    assert caught.value.conflicts[1].other_visit_id == busy.pk
    assert wo.visits.count() == 1
    visit = visit_add(work_order=wo, by=office, start=at(*TUE, 10), end=at(*TUE, 12),
                      crew=[tara], override=True)
    audit = last_audit(org, "visit.add")
    assert audit.changes["override"] == [None, True]
    assert len(audit.changes["conflicts"][1]) == 2
    [sent] = changes
    assert sent["change"] == "added" and sent["visit"] == visit and sent["before"] == {}
    assert sent["after"]["crew"] == [tara.pk]
    wo.refresh_from_db()
    assert wo.status == Status.SCHEDULED
    # Without a crew nobody can be double-booked: no check, no override needed.
    visit_add(work_order=wo, by=office, start=at(*TUE, 10), end=at(*TUE, 12))


def test_it_does_not_move_visits_of_a_cancelled_work_order(org, office, tara, make_visit):
    visit = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara])
    work_order_cancel(work_order=visit.work_order, by=office, reason="Duplicate")
    with pytest.raises(ValidationError):
        visit_schedule(visit=visit, start=at(*TUE, 11), end=at(*TUE, 12), by=office)


# --- The work order page's add-visit form ------------------------------------------------------


def test_it_warns_of_conflicts_in_the_add_visit_form_and_schedules_anyway(org, office_client,
                                                                          tara, make_visit):
    make_visit(at(*TUE, 9), at(*TUE, 11), crew=[tara], number=1042)
    wo = make_visit().work_order
    url = reverse("workorders:visit_add", args=[wo.number])
    data = {"date": "2025-06-03", "start_time": "10:00", "end_time": "12:00", "crew": [tara.pk],
            "notes": "Bring the ladder"}
    response = office_client.post(url, data)
    assert response.status_code == 409
    page = response.content.decode()
    assert "This visit has scheduling conflicts" in page
    assert "Tara Nguyen is already on WO-1042 from 09:00 to 11:00." in page
    assert 'name="override" value="1"' in page
    assert "Bring the ladder</textarea>" in page  # the form keeps what was typed
    assert wo.visits.count() == 1  # only the queued one from the fixture

    response = office_client.post(url, {**data, "override": "1"})
    assert response.status_code == 302
    visit = wo.visits.exclude(start=None).get()
    assert visit.start == at(*TUE, 10) and list(visit.crew.all()) == [tara]
    audit = last_audit(org, "visit.add")
    assert audit.changes["override"] == [None, True]
    assert audit.changes["conflicts"] == [
        None, ["Tara Nguyen is already on WO-1042 from 09:00 to 11:00."]]


def test_it_adds_a_visit_without_conflicts_straight_away(office_client, tara, make_visit):
    wo = make_visit().work_order
    response = office_client.post(reverse("workorders:visit_add", args=[wo.number]), {
        "date": "2025-06-03", "start_time": "10:00", "duration": "60", "crew": [tara.pk]})
    assert response.status_code == 302
    assert wo.visits.exclude(start=None).get().end == at(*TUE, 11)
    assert "override" not in last_audit(wo.organization, "visit.add").changes


def test_it_refuses_the_override_to_technicians_and_outsiders(tech_client, outsider_client,
                                                              tara, make_visit):
    wo = make_visit().work_order
    data = {"date": "2025-06-03", "start_time": "10:00", "duration": "60", "crew": [tara.pk],
            "override": "1"}
    url = reverse("workorders:visit_add", args=[wo.number])
    assert tech_client.post(url, data).status_code == 403
    assert outsider_client.post(url, data).status_code == 404
    assert wo.visits.count() == 1


def test_it_shows_the_move_on_the_work_order_timeline(office_client, office, tara, make_visit):
    visit = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara])
    visit_schedule(visit=visit, start=at(*WED, 13), end=at(*WED, 14, 30), by=office)
    page = office_client.get(reverse("workorders:detail", args=[visit.work_order.number]))
    assert "moved from Tue 3 Jun 09:00–10:00 to Wed 4 Jun 13:00–14:30" in page.content.decode()
