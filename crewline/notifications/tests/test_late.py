"""The office is told once when a visit becomes late, by the dashboard's two rules: nobody on site
by the end of the window, or on site longer than planned. Times are Chicago's, the test
organization's zone."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.urls import reverse

from crewline.factories import CustomerFactory, SiteFactory
from crewline.notifications import services
from crewline.notifications.models import (
    LateReason,
    LateVisitNotice,
    Notification,
    NotificationPreference,
)
from crewline.notifications.services import late_visits_notify
from crewline.workorders.services import (
    visit_add,
    visit_arrive,
    visit_cancel,
    visit_complete,
    visit_en_route,
    work_order_create,
)

from .conftest import local

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)


def at(hour: int, minute: int = 0, day: int = 20) -> dt.datetime:
    """Friday 20 November 2026 (by default) in Chicago."""
    return local(2026, 11, day, hour, minute)


START, END = at(9), at(10)


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, name="Maple Dental")


@pytest.fixture
def make_visit(org, office, customer):
    def make(*, start=START, end=END, crew=(), organization=None, by=None, customer=customer):
        wo = work_order_create(organization=organization or org, by=by or office,
                               customer=customer, site=SiteFactory(customer=customer),
                               title="Boiler service")
        return visit_add(work_order=wo, by=by or office, start=start, end=end, crew=crew,
                         override=True)

    return make


@pytest.fixture
def visit(make_visit, technician):
    """09:00–10:00 on Fri 20 Nov, crew: the technician."""
    return make_visit(crew=[technician])


def late_notes(**filters):
    return Notification.objects.filter(kind="job_late", **filters).select_related("recipient")


def check(org, when: dt.datetime) -> list[LateVisitNotice]:
    return late_visits_notify(organization=org, now=when)


def test_it_tells_each_office_member_once_when_nobody_arrives_by_the_end_of_the_window(
        org, visit, owner, office, technician, outsider, make_visit):
    theirs = make_visit(organization=outsider.organization, by=outsider,
                        customer=CustomerFactory(organization=outsider.organization))

    assert check(org, at(10)) == []  # at the end of the window the crew is not late yet
    assert not late_notes().exists()
    notices = check(org, at(10) + MINUTE)

    assert [(n.visit, n.reason, n.late_at) for n in notices] == [
        (visit, LateReason.ARRIVAL, at(10))]
    notes = list(late_notes())
    assert {n.recipient for n in notes} == {owner, office}
    wo = visit.work_order
    note = notes[0]
    assert note.title == f"Late arrival: {wo.reference} at Maple Dental"
    assert note.body == (f"{wo.reference} Boiler service, Fri 20 Nov 09:00–10:00: nobody was on "
                         "site by 10:00. Crew: Tara Tech.")
    assert note.url == reverse("workorders:detail", kwargs={"number": wo.number})
    assert note.data == {"work_order": wo.number, "visit": visit.pk, "reason": "arrival",
                         "late_at": "2026-11-20T16:00:00Z"}
    # Not the crew, and nothing about the other organization's late visit.
    assert not late_notes(recipient=technician).exists()
    assert not late_notes(recipient=outsider).exists()

    # The next checks tell nobody again.
    assert check(org, at(10, 6)) == []
    assert check(org, at(11)) == []
    assert late_notes().count() == 2
    # The other organization's own check tells its owner about its own visit only.
    assert [n.visit for n in check(outsider.organization, at(10, 1))] == [theirs]
    assert [n.recipient for n in late_notes(organization=outsider.organization)] == [outsider]


def test_it_says_when_the_crew_is_still_on_the_way(org, visit, technician, owner):
    visit_en_route(visit=visit, by=technician, device_time=at(9, 40))
    check(org, at(10, 1))

    note = late_notes().get(recipient=owner)
    assert note.body.endswith("Fri 20 Nov 09:00–10:00: the crew was still on the way at 10:00. "
                              "Crew: Tara Tech.")


def test_it_tells_once_more_when_a_late_visit_then_runs_over(org, visit, technician, owner):
    assert len(check(org, at(10, 1))) == 1
    # Arrived half an hour late for a one-hour visit: due to finish at 11:30.
    visit_arrive(visit=visit, by=technician, device_time=at(10, 30))
    assert check(org, at(11, 30)) == []

    notices = check(org, at(11, 31))
    assert [(n.reason, n.late_at) for n in notices] == [(LateReason.OVERRUN, at(11, 30))]
    note = late_notes(recipient=owner, data__reason="overrun").get()
    wo = visit.work_order
    assert note.title == f"Running over: {wo.reference} at Maple Dental"
    assert note.body == (f"{wo.reference} Boiler service: on site since 10:30, planned for "
                         "1 h, so due to finish by 11:30. Crew: Tara Tech.")
    assert check(org, at(11, 36)) == []
    assert late_notes(recipient=owner).count() == 2


def test_it_says_nothing_about_a_visit_reached_and_finished_in_time(org, make_visit,
                                                                    technician):
    on_time = make_visit(crew=[technician])
    visit_arrive(visit=on_time, by=technician, device_time=at(9, 50))
    done = make_visit(start=at(8), end=at(9), crew=[technician])
    visit_arrive(visit=done, by=technician, device_time=at(8))
    visit_complete(visit=done, by=technician, device_time=at(8, 45))

    assert check(org, at(10, 1)) == []
    assert check(org, at(10, 50)) == []  # on site 09:50 for an hour: not over yet
    assert not late_notes().exists()


def test_it_never_tells_about_cancelled_or_finished_visits(org, make_visit, office, technician):
    cancelled = make_visit(crew=[technician])
    visit_cancel(visit=cancelled, by=office, reason="Customer away")
    finished_late = make_visit(crew=[technician])
    visit_arrive(visit=finished_late, by=technician, device_time=at(9))
    visit_complete(visit=finished_late, by=technician, device_time=at(11))
    make_visit(start=None, end=None, crew=[technician])  # not booked yet

    assert check(org, at(12)) == []
    assert not late_notes().exists()


def test_it_does_not_bring_up_visits_that_became_late_long_ago(org, visit):
    # The first check after an upgrade, or after the worker was down for a day.
    assert check(org, at(10) + services.LATE_NOTICE_WITHIN + MINUTE) == []
    assert check(org, at(10) + services.LATE_NOTICE_WITHIN) != []


def test_it_emails_only_the_members_who_want_late_visits_by_email(
        org, visit, owner, office, mailoutbox, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://crew.example.com"
    NotificationPreference.objects.create(organization=org, member=office, kind="job_late",
                                          email=False)
    with django_capture_on_commit_callbacks(execute=True):
        check(org, at(10, 1))

    assert late_notes().count() == 2  # in the app for both
    assert [m.to for m in mailoutbox] == [[owner.user.email]]
    email = mailoutbox[0]
    wo = visit.work_order
    assert email.subject == (f"[Northside Heating & Air] Late arrival: {wo.reference} "
                             "at Maple Dental")
    assert "nobody was on site by 10:00" in email.body
    assert f"https://crew.example.com/work-orders/{wo.number}/" in email.body


def test_it_tells_nobody_when_another_check_got_there_first(org, visit, monkeypatch):
    # Another check wrote the notice after this one read which visits were already told.
    LateVisitNotice.objects.create(organization=org, visit=visit, reason=LateReason.ARRIVAL,
                                   late_at=at(10))
    monkeypatch.setattr(services, "_late_notices", lambda organization, visit_ids: set())

    assert check(org, at(10, 1)) == []
    assert not late_notes().exists()


@pytest.mark.django_db(transaction=True)
def test_it_tells_once_when_two_checks_run_at_the_same_time(org, visit, owner, office,
                                                            monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    real = services._late_notices
    both_read = threading.Barrier(2, timeout=10)

    def read_then_wait(organization, visit_ids):
        told = real(organization, visit_ids)
        both_read.wait()  # both checks have seen no notice before either writes one
        return told

    monkeypatch.setattr(services, "_late_notices", read_then_wait)
    results, errors = [], []

    def run():
        try:
            results.append(len(check(org, at(10, 1))))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert sorted(results) == [0, 1]
    assert LateVisitNotice.objects.count() == 1
    assert late_notes().count() == 2  # owner and office, once each
