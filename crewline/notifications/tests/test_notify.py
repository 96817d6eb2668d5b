"""Who is told what when a visit changes, and how changes close together batch."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from crewline.core.models import Role
from crewline.factories import MemberFactory
from crewline.notifications.models import Notification, NotificationKind
from crewline.workorders.models import VisitStatus

from .conftest import change, local

NOW = local(2026, 11, 20, 8, 0)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_it_tells_a_technician_they_were_assigned(visit, office, technician, second_tech):
    change(visit, by=office, change="crew_changed", crew=[technician, second_tech])
    note = Notification.objects.get(recipient=second_tech)
    assert note.kind == NotificationKind.VISIT_ASSIGNED
    assert note.title == "New visit: WO-1042 at Maple Dental"
    assert note.body == ("You are on WO-1042 Boiler service at Maple Dental, "
                         "Tue 24 Nov 09:00–10:00.")
    assert note.organization_id == visit.organization_id
    assert note.data["visit"] == visit.pk
    assert note.url == f"/field/?visit={visit.pk}"


def test_it_tells_the_staying_crew_who_joined(visit, office, technician, second_tech):
    change(visit, by=office, change="crew_changed", crew=[technician, second_tech])
    note = Notification.objects.get(recipient=technician)
    assert note.kind == NotificationKind.CREW_CHANGED
    assert "Sam Spanner joined" in note.body
    assert "now you, Sam Spanner" in note.body


def test_it_tells_a_removed_technician_they_are_off(visit, office, technician, second_tech):
    change(visit, by=office, change="crew_changed", crew=[second_tech])
    off = Notification.objects.get(recipient=technician)
    assert off.kind == NotificationKind.VISIT_UNASSIGNED
    assert off.body == ("You are no longer on WO-1042 Boiler service at Maple Dental "
                        "(Tue 24 Nov 09:00–10:00).")
    assert Notification.objects.get(recipient=second_tech).kind == NotificationKind.VISIT_ASSIGNED


def test_it_says_where_a_visit_moved_in_the_organizations_time(visit, office, technician):
    change(visit, by=office, change="moved", start=local(2026, 11, 25, 13),
           end=local(2026, 11, 25, 14, 30))
    note = Notification.objects.get(recipient=technician)
    assert note.kind == NotificationKind.VISIT_MOVED
    assert note.title == "WO-1042 at Maple Dental moved"
    assert note.body == ("WO-1042 at Maple Dental moved from Tue 24 Nov 09:00–10:00 "
                         "to Wed 25 Nov 13:00–14:30.")
    assert note.data["before"]["start"] == "2026-11-24T15:00:00Z"
    assert note.data["after"]["end"] == "2026-11-25T20:30:00Z"


def test_it_says_when_a_visit_was_shortened(visit, office, technician):
    change(visit, by=office, change="resized", end=local(2026, 11, 24, 9, 30))
    note = Notification.objects.get(recipient=technician)
    assert note.kind == NotificationKind.VISIT_RESIZED
    assert note.body == ("WO-1042 at Maple Dental was shortened from Tue 24 Nov 09:00–10:00 "
                         "to Tue 24 Nov 09:00–09:30.")


def test_it_says_when_a_visit_was_cancelled(visit, office, technician):
    change(visit, by=office, change="cancelled", status=VisitStatus.CANCELLED)
    note = Notification.objects.get(recipient=technician)
    assert note.kind == NotificationKind.VISIT_CANCELLED
    assert note.body == "WO-1042 at Maple Dental on Tue 24 Nov 09:00–10:00 was cancelled."


def test_it_never_tells_the_author_of_the_change(visit, technician, second_tech):
    change(visit, by=technician, change="crew_changed", crew=[technician, second_tech])
    assert list(Notification.objects.values_list("recipient", flat=True)) == [second_tech.pk]


def test_it_tells_a_new_visits_crew_but_not_the_office_who_added_it(visit, office, owner,
                                                                    technician):
    visit.crew.set([])
    change(visit, by=office, change="added", crew=[technician, office])
    recipients = set(Notification.objects.values_list("recipient", flat=True))
    assert recipients == {technician.pk}
    assert owner.pk not in recipients


def test_it_links_office_members_to_the_job(visit, owner, office, technician):
    change(visit, by=owner, change="crew_changed", crew=[technician, office])
    assert Notification.objects.get(recipient=office).url == "/work-orders/1042/"


def test_it_ignores_status_steps_that_do_not_change_the_plan(visit, office, technician):
    change(visit, by=office, change="status", status=VisitStatus.EN_ROUTE)
    assert not Notification.objects.exists()


def test_it_skips_inactive_members(visit, office, technician):
    technician.is_active = False
    technician.save()
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 11),
           end=local(2026, 11, 24, 12))
    assert not Notification.objects.exists()


def test_it_writes_in_the_recipients_language(visit, office, technician):
    technician.language = "es"
    technician.save()
    change(visit, by=office, change="moved", start=local(2026, 11, 25, 13),
           end=local(2026, 11, 25, 14))
    # The day and month names follow the member's language even before a full translation.
    assert "nov" in Notification.objects.get().body.lower()


# Batching ------------------------------------------------------------------------------------

def test_it_batches_five_moves_into_one_notification(visit, office, technician, clock):
    for hour in (10, 11, 12, 13, 14):
        change(visit, by=office, change="moved", start=local(2026, 11, 24, hour),
               end=local(2026, 11, 24, hour + 1))
        clock.shift(dt.timedelta(seconds=10))
    note = Notification.objects.get()
    assert note.body == ("WO-1042 at Maple Dental moved from Tue 24 Nov 09:00–10:00 "
                         "to Tue 24 Nov 14:00–15:00.")
    assert note.data["changes"] == ["moved"] * 5
    assert note.created_at == NOW
    assert note.updated_at == NOW + dt.timedelta(seconds=40)


def test_it_keeps_the_oldest_before_across_different_kinds_of_change(visit, office,
                                                                     technician):
    change(visit, by=office, change="resized", end=local(2026, 11, 24, 9, 30))
    change(visit, by=office, change="moved", start=local(2026, 11, 25, 9),
           end=local(2026, 11, 25, 9, 30))
    note = Notification.objects.get()
    assert note.kind == NotificationKind.VISIT_MOVED
    assert "from Tue 24 Nov 09:00–10:00 to Wed 25 Nov 09:00–09:30" in note.body


def test_it_drops_the_notification_when_a_visit_is_moved_back(visit, office, technician):
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 11),
           end=local(2026, 11, 24, 12))
    assert Notification.objects.count() == 1
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 9),
           end=local(2026, 11, 24, 10))
    assert not Notification.objects.exists()


def test_it_drops_an_assignment_that_was_undone(visit, office, technician, second_tech):
    change(visit, by=office, change="crew_changed", crew=[technician, second_tech])
    change(visit, by=office, change="crew_changed", crew=[technician])
    assert not Notification.objects.exists()


def test_it_starts_a_new_notification_after_the_window(visit, office, technician, clock):
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 11),
           end=local(2026, 11, 24, 12))
    clock.shift(dt.timedelta(seconds=61))
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 13),
           end=local(2026, 11, 24, 14))
    bodies = sorted(Notification.objects.values_list("body", flat=True))
    assert bodies == [
        "WO-1042 at Maple Dental moved from Tue 24 Nov 09:00–10:00 to Tue 24 Nov 11:00–12:00.",
        "WO-1042 at Maple Dental moved from Tue 24 Nov 11:00–12:00 to Tue 24 Nov 13:00–14:00.",
    ]


def test_it_does_not_rewrite_a_notification_already_read(visit, office, technician):
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 11),
           end=local(2026, 11, 24, 12))
    Notification.objects.update(read_at=NOW)
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 9),
           end=local(2026, 11, 24, 10))
    assert Notification.objects.count() == 2
    assert Notification.objects.filter(read_at__isnull=True).get().body.endswith(
        "to Tue 24 Nov 09:00–10:00.")


def test_it_batches_per_recipient(visit, office, technician, second_tech):
    change(visit, by=office, change="crew_changed", crew=[technician, second_tech])
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 11),
           end=local(2026, 11, 24, 12))
    sam = Notification.objects.get(recipient=second_tech)
    assert sam.kind == NotificationKind.VISIT_ASSIGNED
    assert sam.body.endswith("Tue 24 Nov 11:00–12:00.")
    tara = Notification.objects.get(recipient=technician)
    assert tara.kind == NotificationKind.VISIT_MOVED
    assert "Sam Spanner joined" in tara.body


def test_it_never_notifies_members_of_another_organization(visit, office, technician,
                                                           other_org):
    stranger = MemberFactory(organization=other_org, role=Role.TECHNICIAN)
    change(visit, by=office, change="crew_changed", crew=[technician, stranger])
    assert not Notification.objects.filter(recipient=stranger).exists()
