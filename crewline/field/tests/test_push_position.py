"""The phone's position on the way to a visit: sent with "on my way" and every half minute
after, kept only while the visit is on the way, and gone once it is not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crewline.field.models import SettledMutation, TravelPosition
from crewline.workorders.services import visit_cancel, visit_en_route

pytestmark = pytest.mark.django_db


def test_it_keeps_the_position_sent_with_on_my_way_and_its_start(phone, visit):
    result = phone.send("visit_en_route", visit_id=visit.pk,
                        client_id="0e0c3a4e-94f5-4b59-9a43-2d9c8a5bbd11", lat=41.9, lng=-87.6)
    assert result["status"] == "applied"
    kept = TravelPosition.objects.get(visit=visit)
    assert (kept.latitude, kept.longitude) == (41.9, -87.6)
    assert (kept.start_latitude, kept.start_longitude) == (41.9, -87.6)

    later = (timezone.now() + dt.timedelta(seconds=30)).isoformat()
    assert phone.push(phone.mutation("visit_position", client_time=later, visit_id=visit.pk,
                                     client_id="0e0c3a4e-94f5-4b59-9a43-2d9c8a5bbd12",
                                     lat=41.95, lng=-87.61)).status_code == 200
    kept.refresh_from_db()
    assert (kept.latitude, kept.longitude) == (41.95, -87.61)
    assert (kept.start_latitude, kept.start_longitude) == (41.9, -87.6)
    # A position sent twice changes nothing, so it leaves no receipt behind.
    assert not SettledMutation.objects.filter(name="visit_position").exists()


def test_an_older_position_does_not_replace_a_newer_one(phone, visit, technician):
    visit_en_route(visit=visit, by=technician)
    now = timezone.now()
    phone.push(phone.mutation("visit_position", client_time=now.isoformat(),
                              visit_id=visit.pk, lat=41.95, lng=-87.61))
    phone.push(phone.mutation("visit_position",
                              client_time=(now - dt.timedelta(minutes=1)).isoformat(),
                              visit_id=visit.pk, lat=41.90, lng=-87.60))
    kept = TravelPosition.objects.get(visit=visit)
    assert (kept.latitude, kept.longitude) == (41.95, -87.61)


def test_no_position_is_kept_unless_the_visit_is_on_the_way(phone, visit, technician):
    # Scheduled: applied (the phone's outbox moves on) and not kept.
    assert phone.send("visit_position", visit_id=visit.pk, lat=41.9,
                      lng=-87.6)["status"] == "applied"
    assert not TravelPosition.objects.exists()
    phone.send("visit_en_route", visit_id=visit.pk, lat=41.9, lng=-87.6)
    assert TravelPosition.objects.filter(visit=visit).exists()
    # Arrived: the position is forgotten, and a late one is not kept either.
    phone.send("visit_arrive", visit_id=visit.pk)
    assert not TravelPosition.objects.exists()
    phone.send("visit_position", visit_id=visit.pk, lat=41.91, lng=-87.6)
    assert not TravelPosition.objects.exists()


def test_a_cancelled_visit_forgets_the_position(phone, visit, office):
    phone.send("visit_en_route", visit_id=visit.pk, lat=41.9, lng=-87.6)
    visit_cancel(visit=visit, by=office, reason="Customer away")
    assert not TravelPosition.objects.exists()


def test_a_bad_position_is_rejected_with_its_reason(phone, visit, technician):
    visit_en_route(visit=visit, by=technician)
    result = phone.send("visit_position", visit_id=visit.pk, lat=120.0, lng=0.0)
    assert result["status"] == "rejected"
    result = phone.send("visit_position", visit_id=visit.pk, lat="north", lng=0.0)
    assert result["status"] == "rejected"
    assert not TravelPosition.objects.exists()


def test_someone_off_the_crew_cannot_send_a_position(phone, make_visit, office, technician):
    other = make_visit(crew=[office])
    visit_en_route(visit=other, by=office)
    result = phone.send("visit_position", visit_id=other.pk, lat=41.9, lng=-87.6)
    assert result["status"] == "rejected"
    assert not TravelPosition.objects.exists()
