"""Work waiting for the office: to be scheduled, and completed but not invoiced."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from crewline.dashboard import selectors
from crewline.dashboard.tests.conftest import at
from crewline.field.models import Device, RejectedMutation
from crewline.workorders.models import Status, WorkOrder
from crewline.workorders.services import visit_cancel

pytestmark = pytest.mark.django_db


def test_it_lists_open_work_orders_without_an_open_visit(org, make_work_order, make_visit,
                                                         technician, office):
    bare = make_work_order(title="Bare")
    booked = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician]).work_order
    rebook = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    visit_cancel(visit=rebook, by=office, reason="Customer away")
    on_hold = make_work_order(title="Waiting for parts")
    WorkOrder.objects.filter(pk=on_hold.pk).update(status=Status.ON_HOLD)

    waiting = list(selectors.unscheduled_work_orders(org))

    assert bare in waiting and rebook.work_order in waiting
    assert booked not in waiting and on_hold not in waiting


def test_it_lists_visits_without_a_time_or_a_crew(org, make_visit, technician):
    untimed = make_visit(start=None, end=None, crew=[technician])
    crewless = make_visit(start=at(20, 9), end=at(20, 10))
    make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])

    assert list(selectors.incomplete_visits(org)) == [untimed, crewless]


def test_it_lists_completed_work_not_yet_invoiced_oldest_first(org, make_work_order):
    newer, older, invoiced = make_work_order(), make_work_order(), make_work_order()
    WorkOrder.objects.filter(pk=newer.pk).update(status=Status.COMPLETED, completed_at=at(20, 9))
    WorkOrder.objects.filter(pk=older.pk).update(status=Status.COMPLETED, completed_at=at(19, 9))
    WorkOrder.objects.filter(pk=invoiced.pk).update(status=Status.INVOICED)

    assert list(selectors.awaiting_invoice(org)) == [older, newer]


def test_it_lists_unresolved_changes_from_phones_only(org, technician, office):
    device = Device.objects.create(id=uuid.uuid4(), organization=org, member=technician)
    open_one = RejectedMutation.objects.create(organization=org, device=device, seq=1,
                                               name="note_add", reason="Gone")
    RejectedMutation.objects.create(organization=org, device=device, seq=2, name="note_add",
                                    reason="Gone", resolved_at=timezone.now(), resolved_by=office)

    assert list(selectors.rejected_changes(org)) == [open_one]
