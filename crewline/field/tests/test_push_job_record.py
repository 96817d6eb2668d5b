"""What the phone sends about the job record: finishing the last visit with "job complete" or
"needs another visit", photos shared with the customer by the organization's choice, and
notices read on the phone."""

from __future__ import annotations

import pytest

from crewline.field.models import FieldSettings, RejectedMutation
from crewline.field.tests.conftest import b64, jpeg_bytes, new_id, sha
from crewline.live.models import Change, ChangeKind
from crewline.notifications.models import Notification
from crewline.workorders.models import (
    EntryKind,
    Status,
    TimelineEntry,
    Visibility,
    VisitOutcome,
    VisitStatus,
)

pytestmark = pytest.mark.django_db


def _photo(visit, **extra) -> dict:
    data = jpeg_bytes()
    return {"visit_id": visit.pk, "client_id": new_id(), "data": b64(data), "sha256": sha(data),
            **extra}


def test_job_complete_from_the_phone_completes_the_work_order(phone, visit, technician):
    response = phone.push(phone.mutation("visit_arrive", visit_id=visit.pk),
                          phone.mutation("visit_complete", visit_id=visit.pk,
                                         outcome="job_complete"),
                          phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(),
                                         body="Left the old valve with the customer"))
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * 3
    visit.refresh_from_db()
    wo = visit.work_order
    wo.refresh_from_db()
    assert visit.status == VisitStatus.DONE and visit.outcome == VisitOutcome.JOB_COMPLETE
    assert wo.status == Status.COMPLETED
    assert TimelineEntry.objects.get(work_order=wo, kind=EntryKind.STATUS,
                                     data__to=Status.COMPLETED).author == technician
    # A note after it in the same push still lands on the (now completed) job.
    assert TimelineEntry.objects.filter(visit=visit, kind=EntryKind.NOTE).count() == 1


def test_needs_another_visit_from_the_phone_keeps_the_reason(phone, visit):
    phone.send("visit_arrive", visit_id=visit.pk)
    result = phone.send("visit_complete", visit_id=visit.pk, outcome="another_visit",
                        reason="Needs a 22 mm valve")
    assert result["status"] == "applied"
    visit.refresh_from_db()
    assert visit.outcome == VisitOutcome.ANOTHER_VISIT
    assert visit.outcome_reason == "Needs a 22 mm valve"
    assert visit.work_order.status == Status.IN_PROGRESS


@pytest.mark.parametrize(("args", "words"), [
    ({"outcome": "another_visit"}, "reason"),
    ({"outcome": "all good"}, "complete"),
    ({"outcome": 3}, "outcome"),
])
def test_a_bad_outcome_is_rejected_with_its_reason(phone, visit, args, words):
    phone.send("visit_arrive", visit_id=visit.pk)
    result = phone.send("visit_complete", visit_id=visit.pk, **args)
    assert result["status"] == "rejected" and words in result["reason"].lower()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.ON_SITE
    assert RejectedMutation.objects.get().name == "visit_complete"


def test_a_photo_without_a_choice_follows_the_organizations(phone, visit, org):
    assert phone.send("photo_add", **_photo(visit))["status"] == "applied"
    FieldSettings.objects.create(organization=org, photo_visibility=Visibility.INTERNAL)
    assert phone.send("photo_add", **_photo(visit))["status"] == "applied"
    # The technician's own choice wins either way.
    assert phone.send("photo_add", **_photo(visit, visibility="customer"))["status"] == "applied"
    photos = TimelineEntry.objects.filter(visit=visit, kind=EntryKind.PHOTO).order_by("id")
    assert [p.visibility for p in photos] == [Visibility.CUSTOMER, Visibility.INTERNAL,
                                              Visibility.CUSTOMER]


def test_a_notice_read_on_the_phone_is_read_for_the_office_too(phone, technician, office,
                                                               org):
    mine = Notification.objects.create(organization=org, recipient=technician,
                                       kind="visit_moved", title="Visit moved")
    theirs = Notification.objects.create(organization=org, recipient=office,
                                         kind="visit_moved", title="Not yours")
    before = Change.objects.count()
    assert phone.send("notification_read", notification_id=mine.pk)["status"] == "applied"
    mine.refresh_from_db()
    assert mine.read_at is not None
    # The member's phones hear of it.
    assert Change.objects.filter(pk__gt=before, kind=ChangeKind.NOTIFICATION,
                                    object_id=technician.pk).exists()
    # Reading it again is harmless, and so is a notice gone meanwhile; someone else's notice is
    # not touched; an id that is not a number is refused.
    assert phone.send("notification_read", notification_id=mine.pk)["status"] == "applied"
    gone = Notification.objects.create(organization=org, recipient=technician,
                                       kind="visit_moved", title="Undone")
    gone_id = gone.pk
    gone.delete()
    for harmless in (gone_id, theirs.pk):
        assert phone.send("notification_read", notification_id=harmless)["status"] == "applied"
    theirs.refresh_from_db()
    assert theirs.read_at is None
    for bad in ("7", None):
        assert phone.send("notification_read", notification_id=bad)["status"] == "rejected"
    assert not Notification.objects.filter(recipient=office, kind="sync_rejected",
                                           body__icontains="notice").exists()
