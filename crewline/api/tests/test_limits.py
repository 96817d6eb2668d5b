"""Rate limits per key: the default and a key's own (set by an owner), the IETF draft's
RateLimit headers on every answer, 429 with Retry-After once used up, nothing done by a
refused request, and a write let in answered in full."""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from crewline.api import limits
from crewline.api.models import ApiKey
from crewline.api.services import api_key_rate_limit_set
from crewline.core.models import AuditLog
from crewline.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counts():
    caches["api"].clear()
    yield
    caches["api"].clear()


def test_every_answer_says_the_limit_and_what_is_left(api, settings):
    settings.API_RATE_LIMIT = 5
    client = api("read:customers")
    with time_machine.travel(timezone.now().replace(second=10), tick=False):
        first = client.get("/api/v1/customers")
        assert first["RateLimit-Limit"] == "5" and first["RateLimit-Remaining"] == "4"
        assert first["RateLimit-Reset"] == "50"
        assert first["RateLimit-Policy"] == "5;w=60"
        # Errors count and say so too: a 404, a 422.
        assert client.get("/api/v1/customers/999999")["RateLimit-Remaining"] == "3"
        assert client.get("/api/v1/customers?limit=0")["RateLimit-Remaining"] == "2"


def test_a_used_up_limit_is_a_429_with_retry_after_until_the_next_minute(api, settings):
    settings.API_RATE_LIMIT = 2
    client = api("write:customers")
    with time_machine.travel(timezone.now().replace(second=30), tick=False) as clock:
        assert client.post("/api/v1/customers", {"name": "A"}).status_code == 201
        assert client.post("/api/v1/customers", {"name": "B"}).status_code == 201
        refused = client.post("/api/v1/customers", {"name": "C"})
        assert refused.status_code == 429
        assert refused["Content-Type"] == "application/problem+json"
        assert refused.json()["type"].endswith("rate-limited")
        assert refused["Retry-After"] == "30" and refused["RateLimit-Remaining"] == "0"
        assert not Customer.objects.filter(name="C").exists()
        assert AuditLog.objects.filter(action="customer.create").count() == 2
        clock.shift(30)
        assert client.post("/api/v1/customers", {"name": "C"}).status_code == 201


def test_each_key_counts_on_its_own_and_may_have_its_own_limit(api, settings, owner):
    settings.API_RATE_LIMIT = 1
    one, two = api("read:customers"), api("read:customers", name="Bulk sync")
    bulk = ApiKey.objects.get(name="Bulk sync")
    api_key_rate_limit_set(api_key=bulk, by=owner, rate_limit=3)
    with time_machine.travel(timezone.now().replace(second=0), tick=False):
        assert one.get("/api/v1/customers").status_code == 200
        assert one.get("/api/v1/customers").status_code == 429
        assert [two.get("/api/v1/customers").status_code for _ in range(4)] == [200, 200, 200,
                                                                                429]
    assert AuditLog.objects.filter(action="api_key.rate_limit").get().changes == {
        "rate_limit": [None, 3]}


def test_a_write_under_an_idempotency_key_is_never_lost_to_a_429(api, settings):
    settings.API_RATE_LIMIT = 1
    client = api("write:customers")
    key = {"Idempotency-Key": "once"}
    with time_machine.travel(timezone.now().replace(second=0), tick=False) as clock:
        made = client.post("/api/v1/customers", {"name": "A"}, headers=key)
        assert made.status_code == 201
        # The answer was lost on the way; the retry comes too soon and is refused ...
        assert client.post("/api/v1/customers", {"name": "A"}, headers=key).status_code == 429
        clock.shift(60)
        # ... and once let in, it is answered with what was done, not done again.
        again = client.post("/api/v1/customers", {"name": "A"}, headers=key)
        assert again.status_code == 201 and again.json() == made.json()
    assert Customer.objects.filter(name="A").count() == 1


def test_the_session_is_limited_per_member(office_client, settings):
    settings.API_RATE_LIMIT = 1
    with time_machine.travel(timezone.now().replace(second=0), tick=False):
        assert office_client.get("/api/v1/customers").status_code == 200
        response = office_client.get("/api/v1/customers")
        assert response.status_code == 429 and response["Retry-After"] == "60"


def test_the_public_document_is_not_counted(client, settings):
    settings.API_RATE_LIMIT = 1
    for _ in range(3):
        response = client.get("/api/v1/openapi.json")
        assert response.status_code == 200 and "RateLimit-Limit" not in response


def test_an_owner_sets_a_keys_limit_on_the_keys_page(owner_client, office_client, owner,
                                                     make_key, outsider_client):
    make_key("read:customers")
    key = ApiKey.objects.get()
    url = reverse("api:key_limit", args=[key.pk])
    assert office_client.post(url, {"rate_limit": "5"}).status_code == 403
    assert outsider_client.post(url, {"rate_limit": "5"}).status_code == 404
    assert owner_client.post(url, {"rate_limit": "0"}).status_code == 302
    key.refresh_from_db()
    assert key.rate_limit is None
    assert owner_client.post(url, {"rate_limit": "1200"}).status_code == 302
    key.refresh_from_db()
    assert key.rate_limit == 1200
    page = owner_client.get(reverse("api:keys")).content.decode()
    assert 'value="1200"' in page
    assert owner_client.post(url, {"rate_limit": ""}).status_code == 302
    key.refresh_from_db()
    assert key.rate_limit is None
    made = owner_client.post(reverse("api:keys"), {"name": "Fast", "scopes": ["read:team"],
                                                   "rate_limit": "50"})
    assert made.status_code == 200
    assert ApiKey.objects.get(name="Fast").rate_limit == 50


def test_counting_is_by_windows_of_a_minute(api, make_key):
    key = ApiKey.objects.get(prefix=make_key("read:team").split("_")[1])
    principal = type("P", (), {"api_key": key, "member": None})()
    usage, allowed = limits.count(principal, now=120.0)
    assert allowed and usage.reset == 60 and usage.remaining == 599
    usage, _ = limits.count(principal, now=179.5)
    assert usage.reset == 1 and usage.remaining == 598
    usage, _ = limits.count(principal, now=180.0)
    assert usage.remaining == 599
