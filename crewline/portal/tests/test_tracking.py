"""The visit's tracking page: the arrival estimate, the signed link, and a position only while
the visit is on the way.

The figures, worked by hand: 0.1 degree of latitude is 6371.0088 km x 0.1 x pi / 180 =
11.1195 km of straight line; at the organization's defaults (roads 1.30 times longer, 52 km/h
on them: 40 km/h as the crow flies) that is 14.4554 km of road, 0.277988 h, 1000.8 s; with a
road factor of 1.5 at 40 km/h it is 16.679 km, 0.41698 h, 1501.1 s.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crewline.factories import SiteFactory
from crewline.field.models import TravelPosition
from crewline.field.services.positions import travel_position_record
from crewline.portal.models import PortalLink, TrackingLink
from crewline.portal.services import portal_link_issue
from crewline.portal.tracking import (
    tracking_link_issue,
    tracking_state,
    tracking_url,
    visit_eta,
)
from crewline.workorders.models import Visit
from crewline.workorders.services import (
    visit_add,
    visit_arrive,
    visit_complete,
    visit_en_route,
    work_order_create,
)

pytestmark = pytest.mark.django_db

SITE = (Decimal("41.878100"), Decimal("-87.629800"))
NORTH = (41.9781, -87.6298)  # 0.1 degree north of the site


@pytest.fixture
def site(org):
    return SiteFactory(customer__organization=org, customer__name="Maple Dental",
                       latitude=SITE[0], longitude=SITE[1], address_line1="12 Maple Ave")


def make_visit(org, owner, technician, site, *, start=None, title="Boiler service"):
    wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                           title=title)
    start = start or timezone.now().replace(microsecond=0) + dt.timedelta(minutes=30)
    return visit_add(work_order=wo, by=owner, start=start, end=start + dt.timedelta(hours=2),
                     crew=[technician], override=True)


@pytest.fixture
def visit(org, owner, technician, site):
    return make_visit(org, owner, technician, site)


def fresh(visit):
    return Visit.objects.select_related("work_order__site", "work_order__organization").get(
        pk=visit.pk)


def test_the_eta_is_the_drive_from_the_position_at_the_organizations_settings(
        org, visit, technician):
    visit_en_route(visit=visit, by=technician)
    reported = timezone.now().replace(microsecond=0)
    travel_position_record(visit=visit, member=technician, latitude=NORTH[0],
                           longitude=NORTH[1], at=reported)
    eta = visit_eta(fresh(visit), now=reported)
    assert eta.tzinfo is not None
    assert (eta - reported).total_seconds() == pytest.approx(1000.8, abs=1)

    org.road_factor, org.travel_speed_kmh = Decimal("1.50"), 40
    org.save(update_fields=["road_factor", "travel_speed_kmh"])
    eta = visit_eta(fresh(visit), now=reported)
    assert (eta - reported).total_seconds() == pytest.approx(1501.1, abs=1)
    # Read later, the estimate runs from the position's time, and never before now.
    later = reported + dt.timedelta(minutes=5)
    assert (visit_eta(fresh(visit), now=later) - reported).total_seconds() == pytest.approx(
        1501.1, abs=1)
    much_later = reported + dt.timedelta(hours=1)
    assert visit_eta(fresh(visit), now=much_later) == much_later


def test_without_a_position_it_starts_from_the_last_site_that_day(
        org, owner, technician, site, visit):
    earlier_site = SiteFactory(customer=site.customer, latitude=Decimal("41.978100"),
                               longitude=Decimal("-87.629800"), address_line1="1 North St")
    now = timezone.now()
    earlier = make_visit(org, owner, technician, earlier_site,
                         start=now.replace(microsecond=0) - dt.timedelta(hours=2))
    visit_en_route(visit=earlier, by=technician)
    visit_arrive(visit=earlier, by=technician)
    # Arrived earlier today (in the organization's zone).
    day_start = timezone.localtime(now, org.tzinfo).replace(hour=0, minute=0, second=0,
                                                              microsecond=0)
    Visit.objects.filter(pk=earlier.pk).update(
        arrived_at=max(day_start, now - dt.timedelta(hours=1)))
    visit_complete(visit=earlier, by=technician)
    assert visit_eta(fresh(visit)) is None  # not on the way yet
    visit_en_route(visit=visit, by=technician)
    set_off = timezone.now()
    eta = visit_eta(fresh(visit), now=set_off)
    assert not TravelPosition.objects.exists()
    assert (eta - set_off).total_seconds() == pytest.approx(1000.8, abs=3)


def test_no_eta_without_a_place_to_start_from(visit, technician):
    visit_en_route(visit=visit, by=technician)
    assert visit_eta(fresh(visit)) is None


def test_the_link_is_signed_scoped_to_its_visit_and_expires(
        client, org, owner, technician, site, visit):
    url = tracking_url(visit)
    token = url.rsplit("/", 2)[-2]
    assert url.endswith(reverse("portal_public:track", args=[token]))
    link = TrackingLink.objects.get()
    assert link.token_hash == PortalLink.hash_token(token) and token not in link.token_hash
    assert link.expires_at == visit.end + dt.timedelta(hours=12)
    page = client.get(reverse("portal_public:track", args=[token]))
    assert page.status_code == 200 and b"Boiler service" in page.content

    # Tampered with, unknown, expired: 404, page and JSON alike.
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "nope", "x" * 200):
        assert client.get(reverse("portal_public:track", args=[bad])).status_code == 404
        assert client.get(reverse("portal_public:track_state", args=[bad])).status_code == 404
    TrackingLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    assert client.get(reverse("portal_public:track", args=[token])).status_code == 404
    assert client.get(reverse("portal_public:track_state", args=[token])).status_code == 404

    # Another visit's link opens that visit only; a tracking token opens no portal and a
    # portal token no tracking page.
    other = make_visit(org, owner, technician, site, title="Leak in the attic")
    _link, other_token = tracking_link_issue(other)
    page = client.get(reverse("portal_public:track", args=[other_token]))
    assert b"Leak in the attic" in page.content and b"Boiler service" not in page.content
    assert client.get(reverse("portal_public:home", args=[other_token])).status_code == 404
    _link, portal_token = portal_link_issue(customer=site.customer, by=owner, sent_to="a@b.c")
    assert client.get(reverse("portal_public:track", args=[portal_token])).status_code == 404


def state(client: Client, token: str) -> dict:
    response = client.get(reverse("portal_public:track_state", args=[token]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    return response.json()


def test_a_position_only_while_on_the_way(client, visit, technician):
    _link, token = tracking_link_issue(visit)
    before = state(client, token)
    assert before["phase"] == "scheduled" and before["position"] is None
    assert before["map"] is None and before["eta"] is None
    assert before["title"].startswith("Your visit is scheduled for ")
    assert before["first_name"] == "Tara"

    visit_en_route(visit=visit, by=technician)
    # Where the trip starts is never shown: no map until the van has left it.
    start = (41.9900, -87.6298)
    travel_position_record(visit=visit, member=technician, latitude=start[0],
                           longitude=start[1])
    setting_off = state(client, token)
    assert setting_off["phase"] == "en_route" and setting_off["position"] is None
    assert setting_off["title"] == "Tara is on the way."
    assert setting_off["eta"] is not None

    travel_position_record(visit=visit, member=technician, latitude=NORTH[0],
                           longitude=NORTH[1])
    on_the_way = state(client, token)
    # Rounded: 11.1 km due north of the site.
    assert on_the_way["position"] == {"distance_m": 11100, "bearing": 0}
    assert on_the_way["map"]["ring_m"] == 20000
    assert on_the_way["map"]["x"] == 0 and on_the_way["map"]["y"] == pytest.approx(-55.5)
    assert "latitude" not in str(on_the_way) and str(NORTH[0]) not in str(on_the_way)
    page = client.get(reverse("portal_public:track", args=[token]))
    assert b'id="track-map" hidden' not in page.content

    visit_arrive(visit=visit, by=technician)
    arrived = state(client, token)
    assert arrived["phase"] == "arrived" and arrived["title"] == "Tara has arrived."
    assert arrived["position"] is None and arrived["map"] is None and arrived["eta"] is None
    page = client.get(reverse("portal_public:track", args=[token]))
    assert b"Tara has arrived." in page.content and b'id="track-map" hidden' in page.content
    assert not TravelPosition.objects.exists()


def test_the_page_speaks_the_customers_language(client, visit, technician, site):
    site.customer.language = "es"
    site.customer.save(update_fields=["language"])
    visit_en_route(visit=visit, by=technician)
    _link, token = tracking_link_issue(visit)
    assert state(client, token)["title"] == "Tara está en camino."


def test_the_state_is_as_of_now_in_the_active_zone(org, visit, technician):
    visit_en_route(visit=visit, by=technician)
    travel_position_record(visit=visit, member=technician, latitude=NORTH[0],
                           longitude=NORTH[1])
    now = timezone.now()
    with timezone.override(org.tzinfo):
        shown = tracking_state(fresh(visit), now=now)
    assert shown["minutes"] == 17  # 16.7 minutes, rounded up


def test_revoking_the_customers_links_stops_their_tracking_links(client, owner, visit, site):
    from crewline.portal.services import portal_links_revoke

    _link, token = tracking_link_issue(visit)
    assert client.get(reverse("portal_public:track", args=[token])).status_code == 200
    portal_links_revoke(customer=site.customer, by=owner)
    assert client.get(reverse("portal_public:track", args=[token])).status_code == 404


class FakeOsrm:
    def __init__(self, seconds: float):
        self.seconds = seconds

    def raise_for_status(self):
        return None

    def json(self):
        return {"code": "Ok", "durations": [[0, self.seconds], [self.seconds, 0]],
                "distances": [[0, 15000], [15000, 0]]}


def test_a_routing_server_gives_the_drive_when_one_is_set(settings, monkeypatch, visit,
                                                          technician):
    import httpx

    from crewline.scheduling import travel

    visit_en_route(visit=visit, by=technician)
    reported = timezone.now().replace(microsecond=0)
    travel_position_record(visit=visit, member=technician, latitude=NORTH[0],
                           longitude=NORTH[1], at=reported)
    settings.ROUTING_URL = "http://osrm.test"
    asked = []

    def fake_get(url, **kwargs):
        asked.append(url)
        return FakeOsrm(1320)

    monkeypatch.setattr(travel.httpx, "get", fake_get)
    eta = visit_eta(fresh(visit), now=reported)
    assert (eta - reported).total_seconds() == 1320
    assert asked == ["http://osrm.test/table/v1/driving/-87.629800,41.978100;-87.629800,41.878100"]

    def down(url, **kwargs):
        raise httpx.ConnectError("refused")

    # The server down: the straight-line estimate.
    monkeypatch.setattr(travel.httpx, "get", down)
    eta = visit_eta(fresh(visit), now=reported)
    assert (eta - reported).total_seconds() == pytest.approx(1000.8, abs=1)


def test_a_stale_position_says_any_minute_now(visit, technician):
    visit_en_route(visit=visit, by=technician)
    old = timezone.now() - dt.timedelta(hours=1)
    travel_position_record(visit=visit, member=technician, latitude=NORTH[0],
                           longitude=NORTH[1], at=old)
    shown = tracking_state(fresh(visit))
    assert shown["minutes"] == 0 and shown["eta_text"] == "Arriving any minute now."


def test_the_portal_follows_the_customers_own_visit_only(client, org, owner, technician, site,
                                                          visit):
    _link, token = portal_link_issue(customer=site.customer, by=owner, sent_to="a@b.c")
    home = reverse("portal_public:home", args=[token])
    page = reverse("portal_public:portal_track", args=[token, visit.pk])
    assert b"Follow the van" not in client.get(home).content
    visit_en_route(visit=visit, by=technician)
    travel_position_record(visit=visit, member=technician, latitude=NORTH[0] + 0.05,
                           longitude=NORTH[1])
    travel_position_record(visit=visit, member=technician, latitude=NORTH[0],
                           longitude=NORTH[1])
    assert page.encode() in client.get(home).content
    response = client.get(page)
    assert response.status_code == 200 and b"Tara is on the way." in response.content
    shown = client.get(reverse("portal_public:portal_track_state", args=[token, visit.pk]))
    assert shown.json()["position"] == {"distance_m": 11100, "bearing": 0}

    other_site = SiteFactory(customer__organization=org, latitude=SITE[0], longitude=SITE[1])
    theirs = make_visit(org, owner, technician, other_site, title="Their job")
    for name in ("portal_public:portal_track", "portal_public:portal_track_state"):
        assert client.get(reverse(name, args=[token, theirs.pk])).status_code == 404
        assert client.get(reverse(name, args=["wrong", visit.pk])).status_code == 404
