"""Sites geocoded through a Nominatim-style server the test starts; without one, or when it
fails, nothing changes and planning says the site has no position."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crewline.core.models import AuditLog
from crewline.customers import geocoding
from crewline.customers.services import site_geocode
from crewline.factories import CustomerFactory, SiteFactory

pytestmark = pytest.mark.django_db


class _Search(BaseHTTPRequestHandler):
    asked: list[dict] = []
    answer: object = [{"lat": "41.878100", "lon": "-87.629800"}]
    status = 200

    def do_GET(self):  # noqa: N802 (http.server's name)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        _Search.asked.append({k: v[0] for k, v in query.items()})
        data = json.dumps(_Search.answer).encode()
        self.send_response(_Search.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def geocoder(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Search)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.GEOCODER_URL = f"http://127.0.0.1:{server.server_address[1]}/search"
    _Search.asked, _Search.status = [], 200
    _Search.answer = [{"lat": "41.878100", "lon": "-87.629800"}]
    yield _Search
    server.shutdown()
    server.server_close()


@pytest.fixture
def site(org):
    return SiteFactory(customer=CustomerFactory(organization=org), address_line1="1 Loop Plaza",
                       city="Chicago", region="IL", postal_code="60601", country="US",
                       latitude=None,
                       longitude=None)


def test_a_site_without_a_position_gets_the_geocoders(geocoder, site):
    assert site_geocode(site=site) is True
    site.refresh_from_db()
    assert (float(site.latitude), float(site.longitude)) == (41.8781, -87.6298)
    assert geocoder.asked == [{"q": "1 Loop Plaza, Chicago, IL 60601", "format": "jsonv2",
                               "limit": "1", "countrycodes": "us"}]
    assert AuditLog.objects.filter(action="site.update", object_id=str(site.pk)).exists()
    # Once it has one, the geocoder is not asked again.
    assert site_geocode(site=site) is True
    assert len(geocoder.asked) == 1


@pytest.mark.parametrize("answer,status", [([], 200), ({"error": "x"}, 500),
                                           ([{"lat": "999", "lon": "0"}], 200),
                                           ([{"lat": "north"}], 200)])
def test_nothing_found_or_a_failing_geocoder_changes_nothing(geocoder, site, answer, status):
    geocoder.answer, geocoder.status = answer, status
    assert site_geocode(site=site) is False
    site.refresh_from_db()
    assert site.latitude is None


def test_without_a_geocoder_nothing_is_asked(settings, site):
    settings.GEOCODER_URL = ""
    assert geocoding.geocode("1 Loop Plaza, Chicago") is None
    assert site_geocode(site=site) is False


def test_planning_geocodes_the_days_sites(geocoder, org, office, site):
    import datetime as dt

    from crewline.factories import WorkOrderFactory
    from crewline.scheduling import routes

    wo = WorkOrderFactory(organization=org, customer=site.customer, site=site,
                          estimated_minutes=60)
    plan = routes.route_plan_propose(organization=org, day=dt.date(2025, 6, 3), by=office,
                                     seconds=0.1)
    site.refresh_from_db()
    assert site.has_coordinates
    assert wo.pk not in {u["work_order"] for u in plan.unplaced
                         if u["reason"] == "no_location"}
