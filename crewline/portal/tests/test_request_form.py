"""The organization's public request form: a customer (new or matched), a site and a work
order in status new through the customers' and work orders' services, the request on the
timeline, the office told; bad input and spam held back; the embeddable page alone may be
framed."""

from __future__ import annotations

import io

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crewline.customers.models import Customer, Site
from crewline.factories import SiteFactory
from crewline.notifications.models import Notification
from crewline.portal.models import WorkRequest
from crewline.workorders.models import EntryKind, Status, WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts():
    caches["api"].clear()
    yield
    caches["api"].clear()


GOOD = {"name": "Rosa Diaz", "email": "rosa@example.com", "phone": "", "address_line1":
        "4 Elm St", "city": "Springfield", "postal_code": "62701",
        "description": "Boiler makes a banging noise\nSince Monday.",
        "preferred_times": "Weekday mornings", "website": ""}


def url(org, embed=False):
    return reverse("portal_public:request_embed" if embed else "portal_public:request_form",
                   args=[org.slug])


def send(client, org, ip="203.0.113.9", embed=False, files=None, **changes):
    return client.post(url(org, embed), {**GOOD, **changes, **(files or {})}, REMOTE_ADDR=ip)


def _photo() -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "JPEG")
    return SimpleUploadedFile("leak.jpg", buffer.getvalue(), "image/jpeg")


def test_it_makes_a_customer_a_site_and_a_new_work_order(client, org, owner, office,
                                                         technician):
    response = send(client, org, files={"photos": [_photo()]})
    assert response.status_code == 200 and "your request is in" in response.content.decode()
    request = WorkRequest.objects.get()
    wo = request.work_order
    assert wo.status == Status.NEW and wo.organization == org
    assert wo.title == "Boiler makes a banging noise" and "Since Monday." in wo.instructions
    customer = Customer.objects.get(organization=org, name="Rosa Diaz")
    assert wo.customer == customer and customer.email == "rosa@example.com"
    assert wo.site.address_line1 == "4 Elm St" and wo.site.customer == customer
    assert request.matched_by == "" and not request.needs_confirmation
    note = wo.timeline.get(kind=EntryKind.NOTE)
    assert "Request from the website by Rosa Diaz" in note.body
    assert "Weekday mornings" in note.body
    assert wo.timeline.filter(kind=EntryKind.PHOTO).count() == 1
    told = Notification.objects.filter(kind="work_requested")
    assert {n.recipient_id for n in told} == {owner.pk, office.pk}
    assert wo.reference in told.first().title


def test_it_matches_a_customer_by_email_and_flags_it(client, org, office_client, office):
    site = SiteFactory(customer__organization=org, customer__email="Rosa@Example.com",
                       address_line1="4 Elm St", city="Springfield")
    send(client, org)
    request = WorkRequest.objects.get()
    assert request.customer == site.customer and request.matched_by == "email"
    assert request.work_order.site == site  # the same address: the same site
    assert Customer.objects.filter(organization=org).count() == 1
    assert "confirm it is them" in request.work_order.timeline.get(kind=EntryKind.NOTE).body
    page = office_client.get(reverse("workorders:detail", args=[request.work_order.number]))
    assert "Confirm it is them" in page.content.decode()
    office_client.post(reverse("portal:request_confirm", args=[request.pk]))
    request.refresh_from_db()
    assert request.confirmed_by == office and not request.needs_confirmation


def test_it_matches_by_phone_and_adds_a_new_address_as_a_site(client, org):
    site = SiteFactory(customer__organization=org, customer__email="",
                       customer__phone="(217) 555-0199")
    send(client, org, email="", phone="217.555.0199")
    request = WorkRequest.objects.get()
    assert request.customer == site.customer and request.matched_by == "phone"
    assert Site.objects.filter(customer=site.customer).count() == 2


def test_it_never_matches_another_organizations_customer(client, org, other_org):
    SiteFactory(customer__organization=other_org, customer__email="rosa@example.com")
    send(client, org)
    request = WorkRequest.objects.get()
    assert request.matched_by == "" and request.customer.organization == org


def test_it_holds_spam_back(client, org):
    response = send(client, org, website="http://cheap-pills.example")
    assert response.status_code == 200 and "your request is in" in response.content.decode()
    assert not WorkOrder.objects.exists() and not Customer.objects.exists()


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": ""}, "name"),
    ({"email": "", "phone": ""}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"address_line1": ""}, "address_line1"),
    ({"description": ""}, "description"),
    ({"description": "x" * 5000}, "description"),
])
def test_it_refuses_bad_input(client, org, changes, field):
    response = send(client, org, **changes)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not WorkOrder.objects.exists()


def test_it_refuses_files_that_are_not_photos_and_too_many(client, org):
    text = SimpleUploadedFile("notes.txt", b"hello", "text/plain")
    assert send(client, org, files={"photos": [text]}).status_code == 400
    many = [_photo() for _ in range(4)]
    assert send(client, org, files={"photos": many}).status_code == 400
    assert not WorkOrder.objects.exists()


def test_it_limits_requests_per_address_and_ip(client, org, settings):
    settings.WORK_REQUESTS_PER_ADDRESS = 2
    settings.WORK_REQUESTS_PER_IP = 3
    assert send(client, org, ip="198.51.100.1").status_code == 200
    assert send(client, org, ip="198.51.100.2").status_code == 200
    assert send(client, org, ip="198.51.100.3").status_code == 429
    assert WorkOrder.objects.count() == 2
    for n in range(3):
        assert send(client, org, email=f"p{n}@example.com", ip="198.51.100.9").status_code \
            == 200
    assert send(client, org, email="p9@example.com", ip="198.51.100.9").status_code == 429


def test_an_unknown_organization_is_a_404(client, org):
    assert client.get(reverse("portal_public:request_form", args=["nobody"])).status_code \
        == 404


def test_only_the_embeddable_page_may_be_framed(client, org):
    plain = client.get(url(org))
    assert plain["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in plain["Content-Security-Policy"]
    embed = client.get(url(org, embed=True))
    assert "X-Frame-Options" not in embed
    assert "frame-ancestors *" in embed["Content-Security-Policy"]
    # And only that page: the portal's other pages stay unframeable.
    other = client.get(reverse("portal_public:request_link"))
    assert other["X-Frame-Options"] == "DENY"


def test_the_embedded_form_works_without_a_csrf_cookie(org):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert send(strict, org, embed=True).status_code == 200
    assert WorkOrder.objects.count() == 1


def test_the_request_comes_in_the_visitors_language(client, org):
    page = client.get(url(org), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Solicitar una visita" in page
    client.post(url(org), GOOD, HTTP_ACCEPT_LANGUAGE="es")
    assert Customer.objects.get().language == "es"


# From the customer's portal ------------------------------------------------------------

def test_the_portal_form_is_filled_in_and_needs_no_confirmation(client, mine, org):
    url = reverse("portal_public:portal_request", args=[mine.token])
    form = client.get(url).context["form"]
    assert form.initial["email"] == "billing@maple.example"
    assert form.initial["address_line1"] == "12 Maple Ave"
    data = {**GOOD, "name": "Maple Dental", "email": "someone.else@example.com",
            "address_line1": "12 Maple Ave", "city": mine.site.city}
    response = client.post(url, data)
    assert response.status_code == 200 and "your request is in" in response.content.decode()
    request = WorkRequest.objects.get()
    assert request.customer == mine.customer and request.matched_by == "portal"
    assert not request.needs_confirmation and request.work_order.site == mine.site
    assert request.work_order.status == Status.NEW
    assert "customer's portal" in request.work_order.timeline.get(kind=EntryKind.NOTE).body
    told = Notification.objects.filter(kind="work_requested").first()
    assert told is not None and "confirm" not in told.body


def test_the_portal_form_refuses_a_dead_link(client, mine):
    from crewline.portal.services import portal_links_revoke

    portal_links_revoke(customer=mine.customer, by=None)
    url = reverse("portal_public:portal_request", args=[mine.token])
    assert client.post(url, GOOD).status_code == 404
    assert not WorkRequest.objects.exists()


def test_only_the_office_confirms_a_request(client, org, tech_client, outsider_client,
                                            office_client):
    SiteFactory(customer__organization=org, customer__email="rosa@example.com")
    send(client, org)
    request = WorkRequest.objects.get()
    url = reverse("portal:request_confirm", args=[request.pk])
    assert tech_client.post(url).status_code == 403
    assert outsider_client.post(url).status_code == 404
    assert office_client.get(url).status_code == 405
    request.refresh_from_db()
    assert request.needs_confirmation
    assert office_client.post(url).status_code == 302
    request.refresh_from_db()
    assert not request.needs_confirmation


def test_the_owner_finds_the_forms_address_and_embed_code_in_settings(owner_client, org):
    page = owner_client.get(reverse("core:settings")).content.decode()
    assert f"/p/request/{org.slug}/" in page
    assert "&lt;iframe src=" in page
    assert f"/p/request/{org.slug}/embed/" in page
