"""One change log: the services write it, explicitly, in the change's transaction; the phones'
pull and the office's live stream both read it, each with its own cursor and filter."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from crewline.billing.models import PriceBookItem, Quote
from crewline.customers.models import Customer, Equipment, Site
from crewline.field.models import FieldSettings
from crewline.live.models import Change, ChangeKind
from crewline.live.selectors import changes_after
from crewline.live.services import KEEP, changes_prune
from crewline.notifications.models import Notification, NotificationKind
from crewline.timesheets.models import TimeEntry
from crewline.timesheets.services import clock_in, time_entry_delete
from crewline.workorders.models import TimelineEntry, Visit, VisitStatus, WorkOrder
from crewline.workorders.services import (
    note_add,
    visit_arrive,
    visit_complete,
    work_order_complete,
)

pytestmark = pytest.mark.django_db


def _later(minutes=1):
    """Past the pull cursor's settling time."""
    return time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes), tick=True)


@pytest.mark.parametrize("model", [WorkOrder, Visit, TimelineEntry, Customer, Site, Equipment,
                                   Notification, TimeEntry, FieldSettings, PriceBookItem, Quote])
def test_no_generic_row_save_drives_a_side_effect(model):
    # After a write, the services call what follows (DEVELOPERS.md, "after a write"); nothing
    # hangs off post_save or post_delete of these rows.
    assert not post_save.has_listeners(model)
    assert not post_delete.has_listeners(model)


def test_a_note_is_one_row_that_the_phone_and_the_office_page_both_read(
        phone, make_visit, technician, office):
    visit = make_visit(crew=[technician])
    wo = visit.work_order
    with _later():
        cursor = phone.pull().json()["cursor"]
    before = Change.objects.order_by("-id").values_list("id", flat=True).first()
    entry = note_add(work_order=wo, by=office, body="Gate code changed to 5512")
    [row] = Change.objects.filter(id__gt=before)
    assert (row.kind, row.object_id, row.topics) == (ChangeKind.WORK_ORDER, wo.pk,
                                                      [f"wo:{wo.pk}"])
    assert row.payload["entry"] == entry.pk
    # The office's page hears of it from the same row ...
    assert [c.id for c in changes_after(organization_id=wo.organization_id,
                                        topics={f"wo:{wo.pk}"}, after_id=before)] == [row.id]
    # ... and the phone's next pull sends the job again with the note.
    with _later(2):
        payload = phone.pull(cursor).json()
    assert payload["full"] is False
    assert [v["id"] for v in payload["visits"]] == [visit.pk]


def test_a_deleted_time_entry_reaches_the_phone(phone, technician, office, org):
    entry = clock_in(member=technician, by=technician)
    with _later():
        cursor = phone.pull().json()["cursor"]
        assert phone.pull(cursor).json()["clock"]["shift"] is not None
    with _later(2):
        time_entry_delete(entry=entry, by=office)
        assert Change.objects.filter(kind=ChangeKind.MEMBER, object_id=technician.pk).count() == 2
    with _later(3):
        assert phone.pull(cursor).json()["clock"]["shift"] is None


def test_completing_the_job_tells_the_phone_its_running_visit_is_done(
        phone, make_visit, technician, office):
    visit = make_visit(crew=[technician])
    visit_arrive(visit=visit, by=technician)
    with _later():
        cursor = phone.pull().json()["cursor"]
    before = Change.objects.order_by("-id").values_list("id", flat=True).first()
    work_order_complete(work_order=visit.work_order, by=office)
    assert Change.objects.filter(id__gt=before, kind=ChangeKind.VISIT,
                                 object_id=visit.pk).exists()
    with _later(2):
        payload = phone.pull(cursor).json()
    [sent] = [v for v in payload["visits"] if v["id"] == visit.pk]
    assert sent["status"] == VisitStatus.DONE


def test_a_cursor_older_than_the_log_keeps_starts_again_from_a_full_snapshot(
        phone, make_visit, technician, office):
    visit = make_visit(crew=[technician])
    with _later():
        cursor = phone.pull().json()["cursor"]
    # The phone stays away past what the log keeps; meanwhile the job changed.
    note_add(work_order=visit.work_order, by=office, body="Meanwhile")
    Change.objects.update(created_at=timezone.now() - KEEP - dt.timedelta(days=1))
    assert changes_prune() > 0
    with _later(2):
        payload = phone.pull(cursor).json()
    assert payload["full"] is True and payload["visit_ids"] == [visit.pk]


def test_the_last_visit_done_tells_the_office_the_job_is_ready_to_close(
        make_visit, technician, office, owner, org):
    from crewline.field.services import field_settings_update

    field_settings_update(organization_id=org.pk, by=owner, jobs_closed_by="office")
    visit = make_visit(crew=[technician])
    visit_arrive(visit=visit, by=technician)
    visit_complete(visit=visit, by=technician, outcome="job_complete")
    wo = WorkOrder.objects.get(pk=visit.work_order_id)
    assert wo.status != "completed"
    told = Notification.objects.filter(kind=NotificationKind.JOB_READY)
    assert {n.recipient_id for n in told} == {office.pk, owner.pk}
    assert all(wo.reference in n.title and "ready to close" in n.title for n in told)
    assert all(n.url.endswith(f"/{wo.number}/") for n in told)
