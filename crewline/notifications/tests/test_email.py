"""Emails about notifications: one per batch, only to members who opted in."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from crewline.notifications.models import Notification
from crewline.notifications.tasks import send_notification_email

from .conftest import change, local

NOW = local(2026, 11, 20, 8, 0)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_it_emails_five_moves_in_a_row_once(visit, office, technician, clock, settings):
    settings.SITE_URL = "https://crew.example.com"
    for hour in (10, 11, 12, 13, 14):
        change(visit, by=office, change="moved", start=local(2026, 11, 24, hour),
               end=local(2026, 11, 24, hour + 1))
        clock.shift(dt.timedelta(seconds=5))
    # Each change queued the email; none goes while the batch is still open.
    assert mail.outbox == []
    note = Notification.objects.get()
    clock.shift(dt.timedelta(seconds=60))
    assert send_notification_email.call(note.pk) == "sent"
    assert send_notification_email.call(note.pk) == "already read or emailed"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["tech@example.com"]
    assert email.subject == "[Northside Heating & Air] WO-1042 at Maple Dental moved"
    assert ("moved from Tue 24 Nov 09:00–10:00 to Tue 24 Nov 14:00–15:00." in email.body)
    assert f"https://crew.example.com/field/?visit={visit.pk}" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "Tue 24 Nov 14:00–15:00" in html
    assert f'href="https://crew.example.com/field/?visit={visit.pk}"' in html
    note.refresh_from_db()
    assert note.emailed_at == NOW + dt.timedelta(seconds=85)


def test_it_starts_a_new_batch_once_emailed(visit, office, technician, clock):
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 11),
           end=local(2026, 11, 24, 12))
    clock.shift(dt.timedelta(seconds=60))
    send_notification_email.call(Notification.objects.get().pk)
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 13),
           end=local(2026, 11, 24, 14))
    assert Notification.objects.count() == 2


def test_it_does_not_email_members_who_did_not_opt_in(visit, office, technician, clock):
    technician.notify_by_email = False
    technician.save()
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 11),
           end=local(2026, 11, 24, 12))
    clock.shift(dt.timedelta(minutes=5))
    note = Notification.objects.get()
    assert send_notification_email.call(note.pk) == "not wanted"
    assert mail.outbox == []
    assert Notification.objects.get().emailed_at is None


def test_it_does_not_email_the_author_of_the_change(visit, technician, second_tech, clock):
    change(visit, by=technician, change="moved", start=local(2026, 11, 24, 11),
           end=local(2026, 11, 24, 12))
    assert not Notification.objects.exists()
    change(visit, by=technician, change="crew_changed", crew=[technician, second_tech])
    clock.shift(dt.timedelta(minutes=2))
    for note in Notification.objects.all():
        send_notification_email.call(note.pk)
    assert [m.to for m in mail.outbox] == [["sam@example.com"]]


def test_it_does_not_email_a_notification_read_in_the_app(visit, office, technician, clock):
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 11),
           end=local(2026, 11, 24, 12))
    Notification.objects.update(read_at=NOW)
    clock.shift(dt.timedelta(minutes=2))
    assert send_notification_email.call(Notification.objects.get().pk) == \
        "already read or emailed"
    assert mail.outbox == []


def test_it_does_not_email_changes_that_cancelled_out(visit, office, technician, clock):
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 11),
           end=local(2026, 11, 24, 12))
    pk = Notification.objects.get().pk
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 9),
           end=local(2026, 11, 24, 10))
    clock.shift(dt.timedelta(minutes=2))
    assert send_notification_email.call(pk) == "gone"
    assert mail.outbox == []


def test_it_queues_the_email_a_minute_after_the_last_change(visit, office, technician,
                                                           monkeypatch):
    from crewline.notifications import services

    queued = []

    class Backend:
        supports_defer = True

    class FakeTask:
        def __init__(self, run_after=None):
            self.run_after = run_after

        def get_backend(self):
            return Backend()

        def using(self, *, run_after):
            return FakeTask(run_after)

        def enqueue(self, pk):
            queued.append((pk, self.run_after))

    monkeypatch.setattr("crewline.notifications.tasks.send_notification_email", FakeTask())
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 11),
           end=local(2026, 11, 24, 12))
    note = Notification.objects.get()
    assert queued == [(note.pk, NOW + services.BATCH_WINDOW)]
