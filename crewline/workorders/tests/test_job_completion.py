"""Finishing a job's last visit: "job complete" completes the work order through the office's
own service (or leaves it ready for the office to close, as the organization prefers); "needs
another visit" puts it back in the queue with the reason. A job whose visits are all done is
never shown as waiting to be scheduled."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crewline.core.models import AuditLog
from crewline.field.models import FieldSettings, JobsClosedBy
from crewline.scheduling import selectors as board
from crewline.workorders.models import (
    EntryKind,
    Status,
    TimelineEntry,
    Visit,
    VisitOutcome,
    VisitStatus,
)
from crewline.workorders.selectors import ready_to_close
from crewline.workorders.services import (
    visit_add,
    visit_arrive,
    visit_complete,
    work_order_reopen,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_site(make_wo, office, technician):
    """A job with one visit, the technician on site."""
    wo = make_wo(title="Radiator leaking in the hall")
    start = timezone.now() - dt.timedelta(hours=1)
    visit = visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(hours=2),
                      crew=[technician], override=True)
    visit_arrive(visit=visit, by=technician)
    return visit


def office_closes(org):
    FieldSettings.objects.update_or_create(organization=org,
                                           defaults={"jobs_closed_by": JobsClosedBy.OFFICE})


def queue_reasons(org) -> dict[str, str]:
    items, _more = board.queue(organization=org)
    return {item.reference: item.reason for item in items}


def test_job_complete_on_the_last_visit_completes_the_work_order(
        on_site, technician, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        visit_complete(visit=on_site, by=technician, outcome=VisitOutcome.JOB_COMPLETE)
    wo = on_site.work_order
    wo.refresh_from_db()
    on_site.refresh_from_db()
    assert on_site.status == VisitStatus.DONE and on_site.outcome == VisitOutcome.JOB_COMPLETE
    assert wo.status == Status.COMPLETED and wo.completed_at is not None
    # Through the office's own transition: its timeline entry and audit record, by the
    # technician; the job report follows.
    status = TimelineEntry.objects.get(work_order=wo, kind=EntryKind.STATUS,
                                       data__to=Status.COMPLETED)
    assert status.author == technician and status.data["action"] == "complete"
    assert AuditLog.objects.filter(action="work_order.complete", actor=technician).count() == 1
    assert wo.job_reports.count() == 1
    assert wo.reference not in queue_reasons(org)
    assert not ready_to_close(org).exists()
    # The office can still reopen it: it is then work to plan, not to close.
    work_order_reopen(work_order=wo, by=None, reason="Customer called back")
    wo.refresh_from_db()
    assert wo.status == Status.IN_PROGRESS
    assert not ready_to_close(org).exists()
    assert queue_reasons(org)[wo.reference] == "Needs another visit"


def test_where_the_office_closes_jobs_it_waits_as_ready_to_close(on_site, technician, org,
                                                                  office_client):
    office_closes(org)
    visit_complete(visit=on_site, by=technician, outcome=VisitOutcome.JOB_COMPLETE)
    wo = on_site.work_order
    wo.refresh_from_db()
    assert wo.status == Status.IN_PROGRESS
    assert list(ready_to_close(org)) == [wo]
    assert wo.reference not in queue_reasons(org)
    html = office_client.get(reverse("dashboard:home")).content.decode()
    ready = html.split('id="ready-to-close"', 1)[1].split("</section>", 1)[0]
    assert wo.reference in ready
    waiting = html.split('id="h-wait"', 1)[1].split("</section>", 1)[0]
    assert wo.reference not in waiting
    page = office_client.get(reverse("scheduling:board")).content.decode()
    assert 'id="board-ready"' in page
    assert reverse("workorders:detail", args=[wo.number]) in page.split('id="board-ready"')[1]
    # Completing it from the dashboard's button.
    office_client.post(reverse("workorders:transition", args=[wo.number, "complete"]))
    wo.refresh_from_db()
    assert wo.status == Status.COMPLETED
    assert not ready_to_close(org).exists()


def test_needs_another_visit_goes_back_to_the_queue_with_the_reason(on_site, technician, org,
                                                                     office_client):
    visit_complete(visit=on_site, by=technician, outcome=VisitOutcome.ANOTHER_VISIT,
                   reason="Valve on order, fit it Thursday")
    wo = on_site.work_order
    wo.refresh_from_db()
    on_site.refresh_from_db()
    assert wo.status == Status.IN_PROGRESS
    assert on_site.outcome_reason == "Valve on order, fit it Thursday"
    assert queue_reasons(org)[wo.reference] == ("Needs another visit: Valve on order, fit it "
                                                "Thursday")
    assert not ready_to_close(org).exists()
    entry = TimelineEntry.objects.get(visit=on_site, kind=EntryKind.VISIT_STATUS,
                                      data__event="complete")
    assert entry.data["outcome"] == VisitOutcome.ANOTHER_VISIT
    assert entry.body == "Valve on order, fit it Thursday"
    html = office_client.get(reverse("dashboard:home")).content.decode()
    waiting = html.split('id="h-wait"', 1)[1].split("</section>", 1)[0]
    assert wo.reference in waiting and "Valve on order, fit it Thursday" in waiting
    detail = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    assert "needs another visit" in detail and "Valve on order, fit it Thursday" in detail


def test_a_visit_done_offline_is_ready_to_close_though_the_phone_was_behind(
        make_wo, office, technician, org):
    """The phone's times are earlier than the server's: the work order started when the push
    arrived, after the visit's own (phone) finishing time. Still ready to close."""
    office_closes(org)
    wo = make_wo(title="Done offline")
    start = timezone.now() - dt.timedelta(hours=4)
    visit = visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(hours=1),
                      crew=[technician], override=True)
    behind = timezone.now() - dt.timedelta(hours=2)
    visit_arrive(visit=visit, by=technician, device_time=behind)
    visit_complete(visit=visit, by=technician, device_time=behind + dt.timedelta(minutes=40),
                   outcome=VisitOutcome.JOB_COMPLETE)
    wo.refresh_from_db()
    visit.refresh_from_db()
    assert visit.finished_at < wo.status_changed_at
    assert list(ready_to_close(org)) == [wo]


def test_a_new_visit_after_another_visit_was_asked_for_closes_as_usual(on_site, technician,
                                                                        office, org):
    visit_complete(visit=on_site, by=technician, outcome=VisitOutcome.ANOTHER_VISIT,
                   reason="Back with the part")
    wo = on_site.work_order
    start = timezone.now() - dt.timedelta(minutes=30)
    second = visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(hours=1),
                       crew=[technician], override=True)
    assert wo.reference not in queue_reasons(org)  # booked: nothing to do
    office_closes(org)
    visit_arrive(visit=second, by=technician)
    visit_complete(visit=second, by=technician, outcome=VisitOutcome.JOB_COMPLETE)
    assert list(ready_to_close(org)) == [wo]


def test_another_visit_needs_a_reason_and_outcomes_are_checked(on_site, technician):
    with pytest.raises(ValidationError) as missing:
        visit_complete(visit=on_site, by=technician, outcome=VisitOutcome.ANOTHER_VISIT,
                       reason="  ")
    assert "reason" in str(missing.value).lower()
    with pytest.raises(ValidationError):
        visit_complete(visit=on_site, by=technician, outcome="finished-ish")
    on_site.refresh_from_db()
    assert on_site.status == VisitStatus.ON_SITE


def test_job_complete_leaves_a_job_with_another_open_visit_to_the_office(
        on_site, technician, office, org):
    wo = on_site.work_order
    start = timezone.now() + dt.timedelta(days=2)
    visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(hours=1),
              crew=[technician], override=True)
    visit_complete(visit=on_site, by=technician, outcome=VisitOutcome.JOB_COMPLETE)
    wo.refresh_from_db()
    assert wo.status == Status.IN_PROGRESS
    assert not ready_to_close(org).exists()  # a visit is still booked


def test_existing_jobs_whose_visits_are_all_done_show_as_ready_to_close(on_site, technician,
                                                                         make_wo, org):
    # As before the question was asked: the visit done, nothing said.
    visit_complete(visit=on_site, by=technician)
    wo = on_site.work_order
    wo.refresh_from_db()
    assert wo.status == Status.IN_PROGRESS and on_site.outcome == ""
    never_visited = make_wo(title="Not booked yet")
    assert list(ready_to_close(org)) == [wo]
    reasons = queue_reasons(org)
    assert wo.reference not in reasons
    assert reasons[never_visited.reference] == "Not scheduled"


def test_an_incomplete_last_visit_is_not_ready_to_close(on_site, technician, office, org):
    from crewline.workorders.services import visit_incomplete, work_order_resume

    visit_incomplete(visit=on_site, by=technician, reason="No access to the boiler room")
    wo = on_site.work_order
    work_order_resume(work_order=wo, by=office)
    assert not ready_to_close(org).exists()
    assert queue_reasons(org)[wo.reference] == "Needs another visit"


def test_ready_to_close_reads_in_a_fixed_number_of_queries(make_wo, office, technician, org,
                                                            django_assert_num_queries):
    office_closes(org)
    for i in range(4):
        wo = make_wo(title=f"Job {i}")
        start = timezone.now() - dt.timedelta(hours=1)
        visit = visit_add(work_order=wo, by=office, start=start,
                          end=start + dt.timedelta(hours=1), crew=[technician], override=True)
        visit_arrive(visit=visit, by=technician)
        visit_complete(visit=visit, by=technician, outcome=VisitOutcome.JOB_COMPLETE)
    with django_assert_num_queries(1):
        rows = [(wo.reference, wo.customer.name) for wo in ready_to_close(org)]
    assert len(rows) == 4
    assert Visit.objects.filter(outcome=VisitOutcome.JOB_COMPLETE).count() == 4
