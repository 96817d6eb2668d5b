"""The services write the one change log in the transaction of the change; it is published
once the transaction commits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from crewline.factories import SiteFactory
from crewline.live import services
from crewline.live.models import Change, ChangeKind
from crewline.workorders.services import note_add, visit_add, work_order_create


@pytest.fixture
def wo(org, office):
    site = SiteFactory(customer__organization=org)
    return work_order_create(organization=org, by=office, customer=site.customer, site=site,
                             title="Boiler service")


@pytest.fixture
def published(monkeypatch):
    sent: list[dict] = []

    class Recorder:
        def publish(self, message):
            sent.append(message)

    monkeypatch.setattr(services, "get_broker", lambda: Recorder())
    return sent


def test_it_records_a_note_for_the_work_orders_page(wo, office, published,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note_add(work_order=wo, by=office, body="Customer called")
    change = Change.objects.get(payload__kind="note")
    assert change.organization_id == wo.organization_id
    assert (change.kind, change.object_id, change.topics) == (
        ChangeKind.WORK_ORDER, wo.pk, [f"wo:{wo.pk}"])
    assert change.payload == {"wo": wo.pk, "what": "timeline", "kind": "note",
                              "entry": change.payload["entry"]}
    assert {"id": change.id, "org": wo.organization_id, "topics": [f"wo:{wo.pk}"],
            "data": change.payload} in published


def test_it_records_a_visit_for_the_board_days_the_list_and_the_crew(
        wo, office, technician, org, published, django_capture_on_commit_callbacks):
    org.time_zone = "America/Chicago"
    org.save()
    # 23:30 on the 23rd in Chicago is already the 24th in UTC: the board day is local.
    start = dt.datetime(2026, 11, 23, 23, 30, tzinfo=org.tzinfo)
    with django_capture_on_commit_callbacks(execute=True):
        visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(minutes=20),
                  crew=[technician], override=True)
    change = Change.objects.get(payload__what="visit")
    assert (change.kind, change.object_id) == (ChangeKind.VISIT, change.payload["visit"])
    assert change.topics == [f"wo:{wo.pk}", "list", "board:2026-11-23",
                             f"member:{technician.pk}"]
    assert any(m["topics"] == change.topics for m in published)


def test_it_publishes_nothing_when_the_change_rolls_back(wo, office, published,
                                                         django_capture_on_commit_callbacks):
    before = Change.objects.count()
    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        note_add(work_order=wo, by=office, body="Never mind")
        raise RuntimeError
    assert Change.objects.count() == before
    assert published == []


def test_it_keeps_the_change_when_the_broker_is_down(wo, office, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    class Broken:
        def publish(self, message):
            raise ConnectionError("broker down")

    monkeypatch.setattr(services, "get_broker", lambda: Broken())
    with django_capture_on_commit_callbacks(execute=True):
        entry = note_add(work_order=wo, by=office, body="Still saved")
    assert entry.pk is not None
    assert Change.objects.filter(object_id=wo.pk, payload__what="timeline").exists()


def test_it_prunes_changes_older_than_it_keeps(org):
    old = Change.objects.create(organization=org, kind=ChangeKind.VISIT, topics=["list"],
                                created_at=timezone.now() - services.KEEP
                                - dt.timedelta(minutes=1))
    recent = Change.objects.create(organization=org, kind=ChangeKind.VISIT, topics=["list"],
                                   created_at=timezone.now() - dt.timedelta(days=1))
    assert services.changes_prune() == 1
    assert list(Change.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Change.objects.filter(pk=old.pk).exists()


def test_a_batch_writes_each_distinct_change_once_at_its_end(
        wo, office, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        before = Change.objects.count()
        with services.changes_batched():
            for _ in range(3):
                services.change_record(organization_id=wo.organization_id,
                                       kind=ChangeKind.WORK_ORDER, object_id=wo.pk,
                                       topics=[f"wo:{wo.pk}"], payload={"what": "x"})
            services.change_record(organization_id=wo.organization_id,
                                   kind=ChangeKind.MEMBER, object_id=office.pk)
            assert Change.objects.count() == before  # nothing until the block ends
        assert Change.objects.count() == before + 2
    # Only what a page listens to goes to the broker.
    assert [m["topics"] for m in published] == [[f"wo:{wo.pk}"]]


def test_it_lets_technicians_listen_to_their_own_topic_only(office, technician):
    assert services.topic_allowed(office, "wo:3")
    assert services.topic_allowed(office, "board:2026-11-23")
    assert services.topic_allowed(technician, f"member:{technician.pk}")
    assert not services.topic_allowed(technician, "list")
    assert not services.topic_allowed(technician, f"member:{office.pk}")
    assert not services.topic_allowed(office, "wo:abc")
