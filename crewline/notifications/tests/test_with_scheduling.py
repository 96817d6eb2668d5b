"""Notifications through the real scheduling services (visit_add, visit_schedule,
visit_cancel), which send ``visit_changed`` inside their transaction."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from crewline.factories import CustomerFactory, SiteFactory
from crewline.notifications.models import Notification, NotificationKind
from crewline.notifications.tasks import send_notification_email
from crewline.workorders.services import visit_add, visit_cancel, visit_schedule, work_order_create

from .conftest import local

NOW = local(2026, 11, 20, 8, 0)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def work_order(org, office):
    customer = CustomerFactory(organization=org, name="Maple Dental")
    return work_order_create(organization=org, by=office, customer=customer,
                             site=SiteFactory(customer=customer), title="Boiler service")


@pytest.fixture
def visit(work_order, office, technician):
    visit = visit_add(work_order=work_order, by=office, start=local(2026, 11, 24, 9),
                      end=local(2026, 11, 24, 10), crew=[technician], override=True)
    Notification.objects.all().delete()
    return visit


def test_it_tells_the_crew_of_a_new_visit(work_order, office, technician):
    visit_add(work_order=work_order, by=office, start=local(2026, 11, 24, 9),
              end=local(2026, 11, 24, 10), crew=[technician], override=True)
    note = Notification.objects.get()
    assert note.recipient == technician
    assert note.kind == NotificationKind.VISIT_ASSIGNED
    assert note.title == f"New visit: {work_order.reference} at Maple Dental"


def test_it_batches_five_reschedules_into_one_email(visit, office, technician, clock):
    for hour in (10, 11, 12, 13, 14):
        visit_schedule(visit=visit, start=local(2026, 11, 24, hour),
                       end=local(2026, 11, 24, hour + 1), by=office, override=True)
        clock.shift(dt.timedelta(seconds=5))
    note = Notification.objects.get()
    assert note.body.endswith("moved from Tue 24 Nov 09:00–10:00 to Tue 24 Nov 14:00–15:00.")
    clock.shift(dt.timedelta(seconds=60))
    send_notification_email.call(note.pk)
    assert len(mail.outbox) == 1
    assert "from Tue 24 Nov 09:00–10:00 to Tue 24 Nov 14:00–15:00" in mail.outbox[0].body


def test_it_tells_who_joined_and_who_left(visit, office, technician, second_tech):
    visit_schedule(visit=visit, start=visit.start, end=visit.end, crew=[second_tech],
                   by=office, override=True)
    kinds = dict(Notification.objects.values_list("recipient", "kind"))
    assert kinds == {technician.pk: NotificationKind.VISIT_UNASSIGNED,
                     second_tech.pk: NotificationKind.VISIT_ASSIGNED}


def test_it_tells_the_crew_of_a_cancelled_visit(visit, office, technician):
    visit_cancel(visit=visit, by=office, reason="Customer away")
    note = Notification.objects.get()
    assert note.kind == NotificationKind.VISIT_CANCELLED
    assert note.recipient == technician


def test_it_says_nothing_about_a_refused_change(visit, office, technician,
                                                             second_tech):
    from crewline.workorders.services import ConflictError

    visit_add(work_order=visit.work_order, by=office, start=local(2026, 11, 24, 9),
              end=local(2026, 11, 24, 10), crew=[second_tech], override=True)
    Notification.objects.all().delete()
    with pytest.raises(ConflictError):
        # Double booking Sam without the override is refused, and nothing is said about it.
        visit_schedule(visit=visit, start=visit.start, end=visit.end,
                       crew=[technician, second_tech], by=office)
    assert not Notification.objects.exists()
