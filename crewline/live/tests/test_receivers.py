"""Changes become events in the same transaction and are published once it commits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from crewline.factories import SiteFactory
from crewline.live import services
from crewline.live.models import Event
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
    event = Event.objects.get(topic=f"wo:{wo.pk}", payload__kind="note")
    assert event.organization_id == wo.organization_id
    assert event.payload == {"wo": wo.pk, "what": "timeline", "kind": "note"}
    assert {"id": event.id, "org": wo.organization_id, "topic": f"wo:{wo.pk}",
            "data": event.payload} in published


def test_it_records_a_visit_for_the_board_days_the_list_and_the_crew(
        wo, office, technician, org, published, django_capture_on_commit_callbacks):
    org.time_zone = "America/Chicago"
    org.save()
    # 23:30 on the 23rd in Chicago is already the 24th in UTC: the board day is local.
    start = dt.datetime(2026, 11, 23, 23, 30, tzinfo=org.tzinfo)
    with django_capture_on_commit_callbacks(execute=True):
        visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(minutes=20),
                  crew=[technician], override=True)
    topics = set(Event.objects.filter(payload__what="visit").values_list("topic", flat=True))
    assert topics == {f"wo:{wo.pk}", "list", "board:2026-11-23", f"member:{technician.pk}"}
    assert {m["topic"] for m in published} >= topics


def test_it_publishes_nothing_when_the_change_rolls_back(wo, office, published,
                                                         django_capture_on_commit_callbacks):
    before = Event.objects.count()
    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        note_add(work_order=wo, by=office, body="Never mind")
        raise RuntimeError
    assert Event.objects.count() == before
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
    assert Event.objects.filter(topic=f"wo:{wo.pk}", payload__what="timeline").exists()


def test_it_prunes_events_older_than_a_day(org):
    old = Event.objects.create(organization=org, topic="list",
                               created_at=timezone.now() - dt.timedelta(days=1, minutes=1))
    recent = Event.objects.create(organization=org, topic="list")
    assert services.events_prune() == 1
    assert list(Event.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Event.objects.filter(pk=old.pk).exists()


def test_it_lets_technicians_listen_to_their_own_topic_only(office, technician):
    assert services.topic_allowed(office, "wo:3")
    assert services.topic_allowed(office, "board:2026-11-23")
    assert services.topic_allowed(technician, f"member:{technician.pk}")
    assert not services.topic_allowed(technician, "list")
    assert not services.topic_allowed(technician, f"member:{office.pk}")
    assert not services.topic_allowed(office, "wo:abc")
