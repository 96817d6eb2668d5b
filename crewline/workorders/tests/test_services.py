from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crewline.core.models import AuditLog, Role
from crewline.factories import CustomerFactory, MemberFactory, SiteFactory
from crewline.workorders.models import (
    EntryKind,
    Status,
    TimelineEntry,
    Visibility,
    Visit,
    VisitStatus,
    WorkOrder,
)
from crewline.workorders.services import (
    TRANSITIONS,
    TransitionError,
    allowed_transitions,
    attachment_add,
    note_add,
    visit_add,
    work_order_cancel,
    work_order_complete,
    work_order_create,
    work_order_hold,
    work_order_reopen,
    work_order_resume,
    work_order_schedule,
    work_order_transition,
    work_order_update,
)

ALL_STATUSES = list(Status.values)


def _force_status(wo: WorkOrder, status: str, held_from: str = "") -> WorkOrder:
    WorkOrder.objects.filter(pk=wo.pk).update(status=status, held_from=held_from)
    wo.refresh_from_db()
    return wo


def _counts(wo: WorkOrder) -> tuple[int, int]:
    return (
        TimelineEntry.objects.filter(work_order=wo, kind=EntryKind.STATUS).count(),
        AuditLog.objects.filter(object_type="workorders.workorder", object_id=str(wo.pk),
                                action__startswith="work_order.").exclude(
            action="work_order.create").count(),
    )


@pytest.mark.parametrize("action", list(TRANSITIONS))
@pytest.mark.parametrize("status", ALL_STATUSES)
def test_it_allows_each_transition_only_from_its_sources(make_wo, office, soon, status, action):
    wo = make_wo()
    # A timed visit, so that "schedule" has what it needs; added directly, not via visit_add,
    # which would schedule the work order itself.
    Visit.objects.create(organization=wo.organization, work_order=wo, start=soon[0], end=soon[1])
    wo = _force_status(wo, status, held_from=Status.SCHEDULED if status == Status.ON_HOLD else "")
    transition = TRANSITIONS[action]
    audit_before = AuditLog.objects.count()

    if status in transition.sources:
        work_order_transition(work_order=wo, action=action, by=office, reason="Waiting for parts")
        wo.refresh_from_db()
        expected = Status.SCHEDULED if action == "resume" else transition.target
        assert wo.status == expected
        entries = TimelineEntry.objects.filter(work_order=wo, kind=EntryKind.STATUS)
        assert entries.count() == 1
        assert entries.get().data == {"from": status, "to": expected, "action": action}
        assert entries.get().author == office
        audits = AuditLog.objects.filter(action=f"work_order.{action}")
        assert audits.count() == 1
        assert audits.get().changes["status"] == [status, expected]
        assert audits.get().actor == office
        # Cancelling also cancels the open visit, which the audit log records on its own.
        visit_entries = 1 if action == "cancel" else 0
        assert AuditLog.objects.count() == audit_before + 1 + visit_entries
        assert AuditLog.objects.filter(action="visit.cancel").count() == visit_entries
    else:
        with pytest.raises(TransitionError):
            work_order_transition(work_order=wo, action=action, by=office, reason="Because")
        wo.refresh_from_db()
        assert wo.status == status
        assert _counts(wo) == (0, 0)
        assert AuditLog.objects.count() == audit_before


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_it_lists_allowed_transitions_from_the_table(make_wo, status):
    wo = _force_status(make_wo(), status)
    assert allowed_transitions(wo) == [n for n, t in TRANSITIONS.items() if status in t.sources]


@pytest.mark.parametrize("service", [work_order_hold, work_order_cancel])
@pytest.mark.parametrize("reason", ["", "   "])
def test_it_requires_a_reason_to_hold_or_cancel(make_wo, office, service, reason):
    wo = make_wo()
    with pytest.raises(ValidationError) as exc:
        service(work_order=wo, by=office, reason=reason)
    assert "reason" in exc.value.message_dict
    wo.refresh_from_db()
    assert wo.status == Status.NEW
    assert _counts(wo) == (0, 0)


def test_it_refuses_an_overlong_reason(make_wo, office):
    wo = make_wo()
    with pytest.raises(ValidationError) as exc:
        work_order_hold(work_order=wo, by=office, reason="x" * 501)
    assert "reason" in exc.value.message_dict


@pytest.mark.parametrize("held_from", [Status.NEW, Status.SCHEDULED, Status.IN_PROGRESS])
def test_it_resumes_to_the_status_it_was_held_from(make_wo, office, soon, held_from):
    wo = make_wo()
    Visit.objects.create(organization=wo.organization, work_order=wo, start=soon[0], end=soon[1])
    wo = _force_status(wo, held_from)
    work_order_hold(work_order=wo, by=office, reason="Customer away")
    assert wo.status == Status.ON_HOLD
    assert wo.held_from == held_from
    assert wo.status_reason == "Customer away"
    work_order_resume(work_order=wo, by=office)
    assert wo.status == held_from
    assert wo.held_from == ""


def test_it_resumes_with_a_stale_instance(make_wo, office):
    wo = make_wo()
    stale = WorkOrder.objects.get(pk=wo.pk)
    work_order_hold(work_order=wo, by=office, reason="Parts")
    work_order_resume(work_order=stale, by=office)
    assert stale.status == Status.NEW


def test_it_cancels_open_visits_with_the_work_order(make_wo, office, soon):
    wo = make_wo()
    visits = [Visit.objects.create(organization=wo.organization, work_order=wo, start=soon[0],
                                   end=soon[1], status=s)
              for s in (VisitStatus.SCHEDULED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE,
                        VisitStatus.DONE)]
    work_order_cancel(work_order=wo, by=office, reason="Customer found another contractor")
    statuses = [Visit.objects.get(pk=v.pk).status for v in visits]
    assert statuses == [VisitStatus.CANCELLED] * 3 + [VisitStatus.DONE]
    assert wo.status == Status.CANCELLED
    assert wo.status_reason == "Customer found another contractor"


def test_it_finishes_en_route_and_on_site_visits_on_complete(make_wo, office, soon):
    wo = _force_status(make_wo(), Status.IN_PROGRESS)
    en_route, on_site, incomplete = (
        Visit.objects.create(organization=wo.organization, work_order=wo, start=soon[0],
                             end=soon[1], status=s)
        for s in (VisitStatus.EN_ROUTE, VisitStatus.ON_SITE, VisitStatus.INCOMPLETE))
    work_order_complete(work_order=wo, by=office)
    assert wo.status == Status.COMPLETED
    assert wo.completed_at is not None
    for visit in (en_route, on_site):
        visit.refresh_from_db()
        assert visit.status == VisitStatus.DONE
        assert visit.finished_at is not None
    incomplete.refresh_from_db()
    assert incomplete.status == VisitStatus.INCOMPLETE


def test_it_clears_completed_at_on_reopen(make_wo, office):
    wo = _force_status(make_wo(), Status.IN_PROGRESS)
    work_order_complete(work_order=wo, by=office)
    assert wo.completed_at is not None
    work_order_reopen(work_order=wo, by=office, reason="Leak came back")
    assert wo.status == Status.IN_PROGRESS
    assert wo.completed_at is None
    assert wo.status_reason == "Leak came back"


def test_it_refuses_to_schedule_without_a_timed_visit(make_wo, office):
    wo = make_wo()
    Visit.objects.create(organization=wo.organization, work_order=wo)  # no time yet
    with pytest.raises(TransitionError) as exc:
        work_order_schedule(work_order=wo, by=office)
    assert exc.value.code == "no_visit"
    wo.refresh_from_db()
    assert wo.status == Status.NEW


def test_it_reports_the_status_problem_before_the_visit_problem(make_wo, office):
    wo = _force_status(make_wo(), Status.COMPLETED)
    with pytest.raises(TransitionError) as exc:
        work_order_schedule(work_order=wo, by=office)
    assert exc.value.code == "invalid_transition"
    assert "completed" in exc.value.messages[0]


def test_it_numbers_work_orders_per_organization(org, other_org, office, outsider, make_wo):
    rival = CustomerFactory(organization=other_org)
    first, second = make_wo(), make_wo()
    theirs = work_order_create(organization=other_org, by=outsider, customer=rival,
                               title="Burst pipe")
    third = make_wo()
    assert [first.reference, second.reference, third.reference] == [
        "WO-1001", "WO-1002", "WO-1003"]
    assert theirs.reference == "WO-1001"


def test_it_records_creation_in_the_timeline_and_audit_log(make_wo, office, job_type):
    wo = make_wo(job_type=job_type, priority=4, due_date=dt.date(2030, 1, 15))
    entry = TimelineEntry.objects.get(work_order=wo)
    assert (entry.kind, entry.data) == (EntryKind.SYSTEM, {"event": "created"})
    audit = AuditLog.objects.get(action="work_order.create")
    assert audit.object_id == str(wo.pk)
    assert audit.changes["title"] == [None, "No heat in the waiting room"]
    assert audit.changes["priority"] == [None, 4]
    assert audit.changes["due_date"] == [None, "2030-01-15"]


def test_it_rejects_a_site_of_another_customer(org, make_wo):
    other_site = SiteFactory(customer=CustomerFactory(organization=org))
    with pytest.raises(ValidationError) as exc:
        make_wo(site=other_site)
    assert "site" in exc.value.message_dict
    assert not WorkOrder.objects.exists()


def test_it_rejects_a_site_or_customer_of_another_organization(other_org, make_wo, customer):
    rival_customer = CustomerFactory(organization=other_org)
    rival_site = SiteFactory(customer=rival_customer)
    with pytest.raises(ValidationError) as exc:
        make_wo(site=rival_site)
    assert "site" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_wo(customer=rival_customer, site=None)
    assert "customer" in exc.value.message_dict
    assert not WorkOrder.objects.exists()


@pytest.mark.parametrize("minutes", [0, -30])
def test_it_rejects_a_requested_window_that_ends_before_it_starts(make_wo, minutes):
    start = timezone.now()
    with pytest.raises(ValidationError) as exc:
        make_wo(requested_start=start, requested_end=start + dt.timedelta(minutes=minutes))
    assert "requested_end" in exc.value.message_dict
    assert not WorkOrder.objects.exists()


def test_it_rejects_an_empty_title(make_wo):
    with pytest.raises(ValidationError) as exc:
        make_wo(title="   ")
    assert "title" in exc.value.message_dict


def test_it_updates_fields_with_an_audit_diff(make_wo, office, org):
    wo = make_wo()
    work_order_update(work_order=wo, by=office, title="No heat, 2nd floor", priority=3)
    assert (wo.title, wo.priority) == ("No heat, 2nd floor", 3)
    audit = AuditLog.objects.get(action="work_order.update")
    assert audit.changes == {"title": ["No heat in the waiting room", "No heat, 2nd floor"],
                             "priority": [2, 3]}


def test_it_refuses_to_move_a_work_order_to_another_customer_without_its_site(make_wo, office,
                                                                              org):
    wo = make_wo()
    with pytest.raises(ValidationError) as exc:
        work_order_update(work_order=wo, by=office, customer=CustomerFactory(organization=org))
    assert "site" in exc.value.message_dict


def test_it_schedules_a_new_work_order_when_a_timed_visit_is_added(make_wo, office, technician,
                                                                   soon):
    wo = make_wo()
    visit = visit_add(work_order=wo, by=office, start=soon[0], end=soon[1], crew=[technician])
    wo.refresh_from_db()
    assert wo.status == Status.SCHEDULED
    assert list(visit.crew.all()) == [technician]
    kinds = set(TimelineEntry.objects.filter(work_order=wo).values_list("kind", flat=True))
    assert {EntryKind.SCHEDULE, EntryKind.STATUS} <= kinds
    assert AuditLog.objects.filter(action="visit.add", object_id=str(visit.pk)).exists()


def test_it_keeps_a_new_work_order_new_for_an_untimed_visit(make_wo, office):
    wo = make_wo()
    visit_add(work_order=wo, by=office, start=None, end=None)
    wo.refresh_from_db()
    assert wo.status == Status.NEW


def test_it_refuses_visits_on_closed_work_orders_and_inactive_crew(make_wo, office, org, soon):
    wo = make_wo()
    gone = MemberFactory(organization=org, role=Role.TECHNICIAN, is_active=False)
    with pytest.raises(ValidationError) as exc:
        visit_add(work_order=wo, by=office, start=soon[0], end=soon[1], crew=[gone])
    assert "crew" in exc.value.message_dict
    _force_status(wo, Status.CANCELLED)
    with pytest.raises(ValidationError):
        visit_add(work_order=wo, by=office, start=soon[0], end=soon[1])
    assert not Visit.objects.exists()


def test_it_refuses_a_visit_with_half_a_window(make_wo, office, soon):
    with pytest.raises(ValidationError) as exc:
        visit_add(work_order=make_wo(), by=office, start=soon[0], end=None)
    assert "end" in exc.value.message_dict


def test_it_adds_a_note_once_per_client_id(make_wo, technician):
    wo = make_wo()
    client_id = uuid.uuid4()
    first = note_add(work_order=wo, by=technician, body="Replaced the igniter",
                     client_id=client_id, visibility=Visibility.CUSTOMER)
    again = note_add(work_order=wo, by=technician, body="Replaced the igniter",
                     client_id=client_id)
    assert first.pk == again.pk
    assert TimelineEntry.objects.filter(kind=EntryKind.NOTE).count() == 1
    assert AuditLog.objects.filter(action="note.add").count() == 1


def test_it_refuses_an_empty_note(make_wo, office):
    with pytest.raises(ValidationError) as exc:
        note_add(work_order=make_wo(), by=office, body="  ")
    assert "body" in exc.value.message_dict


def test_it_stores_attachments_and_refuses_big_ones(make_wo, office, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MAX_ATTACHMENT_BYTES = 1024
    wo = make_wo()
    photo = attachment_add(work_order=wo, by=office, caption="Before",
                           file=SimpleUploadedFile("boiler.jpg", b"x" * 1024,
                                                   content_type="image/jpeg"))
    assert photo.kind == EntryKind.PHOTO
    assert photo.attachment_name == "boiler.jpg"
    assert photo.attachment_size == 1024
    with pytest.raises(ValidationError) as exc:
        attachment_add(work_order=wo, by=office,
                       file=SimpleUploadedFile("big.pdf", b"x" * 1025,
                                               content_type="application/pdf"))
    assert "file" in exc.value.message_dict
    assert TimelineEntry.objects.filter(kind__in=[EntryKind.PHOTO, EntryKind.FILE]).count() == 1
    assert AuditLog.objects.filter(action="attachment.add").count() == 1
