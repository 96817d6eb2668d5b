"""Asking for a new link with the email or phone on file: the same answer whether or not it is
on file, the link sent only to the address on file, and a limit per address and per IP."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import caches
from django.urls import reverse

from crewline.factories import ContactFactory
from crewline.portal.models import PortalLink

pytestmark = pytest.mark.django_db

URL = "/p/new-link/"


@pytest.fixture(autouse=True)
def _fresh_counts():
    caches["api"].clear()
    yield
    caches["api"].clear()


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    def ask(address: str, ip: str = "203.0.113.9"):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, {"address": address}, REMOTE_ADDR=ip)
    return ask


def _page(response) -> str:
    # The page carries a fresh CSRF token each time; everything else must be the same.
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", response.content.decode())


def test_it_answers_the_same_for_a_known_and_an_unknown_address(ask, mine):
    known = ask("BILLING@maple.example")
    unknown = ask("nobody@nowhere.example")
    assert known.status_code == unknown.status_code == 200
    assert _page(known) == _page(unknown)
    assert "If we have this email address or phone number on file" in _page(known)


def test_it_emails_a_new_link_to_the_address_on_file(ask, mine, client):
    ask("Billing@Maple.example")
    (message,) = mail.outbox
    assert message.to == ["billing@maple.example"]
    token = re.search(r"/p/([^/\s]+)/", message.body).group(1)
    link = PortalLink.objects.get(token_hash=PortalLink.hash_token(token))
    assert link.customer == mine.customer and link.created_by is None
    assert client.get(reverse("portal_public:home", args=[token])).status_code == 200
    ask("nobody@nowhere.example")
    assert not mail.outbox


def test_a_phone_on_file_sends_the_link_to_the_email_on_file(ask, mine):
    ask("312 555 0142")
    (message,) = mail.outbox
    assert message.to == ["billing@maple.example"]
    ask("312 555 0143")
    assert not mail.outbox
    # Too short to stand for one number.
    ask("0142")
    assert not mail.outbox


def test_a_contacts_email_gets_the_link_itself(ask, mine):
    ContactFactory(customer=mine.customer, email="rosa@maple.example")
    ask("rosa@maple.example")
    (message,) = mail.outbox
    assert message.to == ["rosa@maple.example"]


def test_an_archived_customer_gets_nothing(ask, mine):
    from django.utils import timezone

    mine.customer.archived_at = timezone.now()
    mine.customer.save(update_fields=["archived_at"])
    ask("billing@maple.example")
    assert not mail.outbox


def test_it_limits_requests_per_address(ask, mine, settings):
    settings.PORTAL_REQUESTS_PER_ADDRESS = 2
    assert ask("billing@maple.example", ip="203.0.113.1").status_code == 200
    assert ask("Billing@maple.example", ip="203.0.113.2").status_code == 200
    limited = ask("billing@maple.example", ip="203.0.113.3")
    assert limited.status_code == 429 and not mail.outbox
    assert "Too many requests" in limited.content.decode()
    # The same answer for an unknown address asked as often.
    for ip in ("203.0.113.4", "203.0.113.5"):
        ask("nobody@nowhere.example", ip=ip)
    assert ask("nobody@nowhere.example", ip="203.0.113.6").status_code == 429
    assert ask("other@nowhere.example", ip="203.0.113.7").status_code == 200


def test_it_limits_requests_per_ip(ask, mine, settings):
    settings.PORTAL_REQUESTS_PER_IP = 3
    for n in range(3):
        assert ask(f"person{n}@nowhere.example").status_code == 200
    assert ask("billing@maple.example").status_code == 429 and not mail.outbox
    assert ask("billing@maple.example", ip="198.51.100.1").status_code == 200
    assert len(mail.outbox) == 1


def test_it_asks_again_for_an_empty_address(client):
    response = client.post(URL, {"address": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()


def test_the_dead_link_page_offers_a_new_link(client):
    response = client.get(reverse("portal_public:home", args=["not-a-token"]))
    assert response.status_code == 404
    page = response.content.decode()
    assert "This link does not work" in page and f'action="{URL}"' in page
