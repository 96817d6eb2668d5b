"""Every URL of the project, walked from the URL configuration, against three kinds of visitor:
anonymous (sent to log in), an outsider who owns another organization (404 for any object of
this one) and a technician (403 on office pages). A new URL is covered without being listed."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from crewline.core.models import Invitation, Skill
from crewline.factories import ContactFactory, EquipmentFactory, SiteFactory
from crewline.workorders.models import JobType
from crewline.workorders.services import attachment_add, note_add, visit_add, work_order_create

PUBLIC = {"login", "logout", "core:signup", "password_reset", "password_reset_done",
          "password_reset_confirm", "password_reset_complete", "core:invite_accept",
          # Opened by calendar apps without a login; the private token in the URL is the key
          # (crewline/calendars/tests cover unknown and revoked tokens).
          "calendars:feed",
          # The customer's quote page; the link's token is the key (crewline/billing/tests).
          "billing_public:quote", "billing_public:quote_pdf",
          # The technician app's words: the same for everyone (crewline/field/tests/test_app.py).
          "field:catalogue",
          # The customer's portal; the link's token is the key (crewline/portal/tests try every
          # page with another customer's, a tampered, an expired and a revoked link).
          "portal_public:request_link", "portal_public:home", "portal_public:quote",
          "portal_public:quote_pdf", "portal_public:invoice_pdf", "portal_public:report_pdf",
          # The organization's public request form (crewline/portal/tests/test_request_form.py).
          "portal_public:request_form", "portal_public:request_embed",
          "portal_public:portal_request", "portal_public:window_pick",
          # A visit's tracking page; the link's token is the key
          # (crewline/portal/tests/test_tracking.py tries a tampered, an expired and another
          # visit's link).
          "portal_public:track", "portal_public:track_state", "portal_public:portal_track",
          "portal_public:portal_track_state",
          # The customer's feedback page, by a portal link (crewline/messaging/tests/
          # test_pages.py), and the SMS provider's callbacks, signed by the provider (a bad
          # signature is a 403: crewline/messaging/tests/test_sms.py).
          "messaging_public:feedback", "messaging_hooks:twilio_status",
          "messaging_hooks:twilio_inbound"}
# Views that need a login but no role: the start page sends each role where it belongs.
LOGIN_ONLY = {"home"}
# The API (/api/v1/) answers a missing key with 401, not a login page, and checks scopes
# rather than decorators: crewline/api/tests try every endpoint with an outsider's key, a key
# without the scope, a revoked key and a session. Its objects are still walked below.
API_NAMESPACE = "api-v1:"


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            yield from _walk(entry, prefix + str(entry.pattern),
                             f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern), entry.default_args


def _is_api(name: str) -> bool:
    return name.startswith(API_NAMESPACE)


def _walk_entries(resolver: URLResolver, namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            yield from _walk_entries(entry, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


# The id of the world's phone, for routes named by a UUID.
DEVICE_ID = "8d3b7a52-6f0e-4c1d-9a7b-2e5f4c3d2b1a"


def _fill(route: str, value: str) -> str:
    route = re.sub(r"<(?:int:)?(?:pk|number|\w+_id)>", value, route)
    route = route.replace("<uuid:pk>", DEVICE_ID)
    route = route.replace("<slug:action>", "start")
    return "/" + route.lstrip("^").rstrip("$")


ROUTES = sorted({(name, route) for name, route, _ in _walk(get_resolver())})
# Each view declares who may open it through crewline.core.access's decorators.
ACCESS = {name: getattr(entry.callback, "access", None)
          for name, entry in ((n, e) for n, e in _walk_entries(get_resolver()))}


@pytest.fixture
def world(org, owner, technician):
    """One of every kind of object in ``org``."""
    site = SiteFactory(customer__organization=org)
    ContactFactory(customer=site.customer)
    EquipmentFactory(site=site)
    wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                           title="Boiler service")
    from django.utils import timezone

    start = timezone.now()
    visit_add(work_order=wo, by=owner, start=start, end=start + timezone.timedelta(hours=1),
              crew=[technician], override=True)
    note_add(work_order=wo, by=owner, body="Bring the ladder")
    attachment_add(work_order=wo, by=owner,
                   file=SimpleUploadedFile("plan.pdf", b"%PDF-1.4", "application/pdf"))
    Skill.objects.create(organization=org, name="Boilers")
    JobType.objects.create(organization=org, name="Service")
    Invitation.objects.create(organization=org, email="new@example.com", role="office",
                              token_hash="x" * 64, expires_at=timezone.now())
    from crewline.field.models import Device

    Device.objects.create(id=DEVICE_ID, organization=org, member=technician, name="Phone")
    return wo


def _object_routes():
    return [(n, r) for n, r in ROUTES if "<" in r and n not in PUBLIC]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "route"), _object_routes())
def test_it_hides_every_object_from_an_outsider(name, route, world, outsider, outsider_client):
    # The outsider's organization holds nothing but the outsider, so any other id is another
    # organization's object or nobody's.
    for value in {str(world.number), *(str(i) for i in range(1, 6))} - {str(outsider.pk)}:
        url = _fill(route, value)
        for method in ("get", "post"):
            response = getattr(outsider_client, method)(url)
            assert response.status_code in (404, 405), (method, url, response.status_code)
        assert outsider_client.post(url).status_code == 404 or \
            outsider_client.get(url).status_code == 404, url


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "route"), [(n, r) for n, r in ROUTES
                                             if n not in PUBLIC and not _is_api(n)])
def test_it_sends_anonymous_visitors_to_log_in(name, route, world, client):
    url = _fill(route, str(world.number))
    response = client.get(url)
    assert response.status_code in (302, 405), (url, response.status_code)
    if response.status_code == 302:
        assert response["Location"].startswith("/login/"), url


@pytest.mark.parametrize(("name", "route"), [(n, r) for n, r in ROUTES
                                             if n not in PUBLIC and not _is_api(n)])
def test_every_private_view_declares_who_may_open_it(name, route):
    assert name in LOGIN_ONLY or ACCESS[name] in ("member", "office", "owner"), (
        f"{name} ({route}) has no member_required/office_required/owner_required")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "route"),
                         [(n, r) for n, r in ROUTES if ACCESS.get(n) == "owner"])
def test_it_refuses_owner_pages_to_office_staff(name, route, world, office_client):
    url = _fill(route, str(world.number))
    assert 403 in (office_client.get(url).status_code, office_client.post(url).status_code), url


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "route"),
                         [(n, r) for n, r in ROUTES if ACCESS.get(n) in ("office", "owner")])
def test_it_refuses_office_pages_to_a_technician(name, route, world, tech_client):
    url = _fill(route, str(world.number))
    for method in ("get", "post"):
        response = getattr(tech_client, method)(url)
        assert response.status_code in (403, 404, 405), (method, url, response.status_code)
    assert 403 in (tech_client.get(url).status_code, tech_client.post(url).status_code), url
