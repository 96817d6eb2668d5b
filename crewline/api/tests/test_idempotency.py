"""Idempotency-Key on POST and PATCH (the first answer kept 24 h and replayed; another body is
a 422; a refused request keeps nothing), ETags on reads (304 for If-None-Match) and If-Match on
writes (412 when stale, nothing changed)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone

from crewline.api import idempotency
from crewline.api.models import IdempotentRequest
from crewline.customers.models import Customer
from crewline.factories import SiteFactory
from crewline.workorders.models import WorkOrder
from crewline.workorders.services import work_order_create

pytestmark = pytest.mark.django_db

KEY = {"Idempotency-Key": "8e0c2f4a-6a43-4f4e-9d1c-2b7d7f1a1c01"}


@pytest.fixture
def wo(org, owner):
    site = SiteFactory(customer__organization=org)
    return work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                             title="Leak under the sink")


def test_the_same_key_replays_the_first_answer_and_writes_once(api):
    client = api("write:customers")
    first = client.post("/api/v1/customers", {"name": "Maple Dental"}, headers=KEY)
    assert first.status_code == 201, first.content
    again = client.post("/api/v1/customers", {"name": "Maple Dental"}, headers=KEY)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"] and again["Content-Type"] == first["Content-Type"]
    assert "Idempotent-Replayed" not in first
    assert Customer.objects.count() == 1
    # The same content in another key order and spacing is the same request.
    raw = client.client.post("/api/v1/customers", '{  "name":"Maple Dental" }',
                             content_type="application/json", headers={**client.headers, **KEY})
    assert raw.status_code == 201 and raw.json()["id"] == first.json()["id"]
    assert Customer.objects.count() == 1


def test_the_same_key_with_another_body_or_path_is_a_422(api, wo):
    client = api("write:customers", "write:work_orders")
    assert client.post("/api/v1/customers", {"name": "A"}, headers=KEY).status_code == 201
    other = client.post("/api/v1/customers", {"name": "B"}, headers=KEY)
    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"
    body = other.json()
    assert body["type"].endswith("idempotency-key-reused")
    assert body["errors"][0]["field"] == "Idempotency-Key"
    elsewhere = client.patch(f"/api/v1/work-orders/{wo.pk}", {"title": "A"}, headers=KEY)
    assert elsewhere.status_code == 422
    assert not Customer.objects.filter(name="B").exists()
    wo.refresh_from_db()
    assert wo.title == "Leak under the sink"


def test_keys_are_per_caller(api, org):
    one, two = api("write:customers"), api("write:customers")
    assert one.post("/api/v1/customers", {"name": "A"}, headers=KEY).status_code == 201
    assert two.post("/api/v1/customers", {"name": "B"}, headers=KEY).status_code == 201
    assert Customer.objects.count() == 2


def test_a_refused_request_keeps_nothing_and_may_be_sent_again(api):
    client = api("write:customers")
    refused = client.post("/api/v1/customers", {"name": "A", "email": "nope"}, headers=KEY)
    assert refused.status_code == 422
    assert not IdempotentRequest.objects.exists()
    fixed = client.post("/api/v1/customers", {"name": "A", "email": "a@example.com"},
                        headers=KEY)
    assert fixed.status_code == 201
    assert IdempotentRequest.objects.get().status == 201


def test_a_scope_refusal_keeps_nothing(api):
    client = api("read:customers")
    assert client.post("/api/v1/customers", {"name": "A"}, headers=KEY).status_code == 403
    assert not IdempotentRequest.objects.exists()


def test_a_key_is_kept_24_hours(api):
    client = api("write:customers")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert client.post("/api/v1/customers", {"name": "A"}, headers=KEY).status_code == 201
        clock.shift(dt.timedelta(hours=23, minutes=59))
        replay = client.post("/api/v1/customers", {"name": "A"}, headers=KEY)
        assert replay["Idempotent-Replayed"] == "true"
        clock.shift(dt.timedelta(minutes=2))
        fresh = client.post("/api/v1/customers", {"name": "A"}, headers=KEY)
        assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh
    assert Customer.objects.count() == 2
    assert IdempotentRequest.objects.count() == 1


def test_expired_records_are_pruned(api, monkeypatch):
    monkeypatch.setattr(idempotency, "PRUNE_EVERY", 1)
    client = api("write:customers")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for n in range(3):
            client.post("/api/v1/customers", {"name": f"C{n}"},
                        headers={"Idempotency-Key": f"k{n}"})
        clock.shift(dt.timedelta(hours=25))
        client.post("/api/v1/customers", {"name": "D"}, headers={"Idempotency-Key": "d"})
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["d"]


@pytest.mark.parametrize("value", ["", " ", "x" * 256, "naïve", "tab\there"])
def test_a_bad_key_is_a_400(api, value):
    response = api("write:customers").post("/api/v1/customers", {"name": "A"},
                                           headers={"Idempotency-Key": value})
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not Customer.objects.exists()


def test_a_patch_is_replayed_too(api, wo):
    client = api("write:work_orders")
    url = f"/api/v1/work-orders/{wo.pk}"
    first = client.patch(url, {"title": "Leak fixed?"}, headers=KEY)
    assert first.status_code == 200
    # Meanwhile the office changes it again; the retry answers what the first write did.
    WorkOrder.objects.filter(pk=wo.pk).update(title="Changed in the office")
    again = client.patch(url, {"title": "Leak fixed?"}, headers=KEY)
    assert again.json()["title"] == "Leak fixed?" and again["Idempotent-Replayed"] == "true"
    wo.refresh_from_db()
    assert wo.title == "Changed in the office"


def test_a_multipart_upload_is_the_same_request_by_its_content(api, wo):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = api("write:work_orders")
    url = f"/api/v1/work-orders/{wo.pk}/files"

    def send(content: bytes):
        return client.upload(url, {"file": SimpleUploadedFile("notes.txt", content,
                                                              "text/plain"),
                                   "caption": "Meter reading"}, headers=KEY)

    first = send(b"reading 1234")
    assert first.status_code == 201, first.content
    assert send(b"reading 1234").json() == first.json()
    assert send(b"reading 9999").status_code == 422
    assert wo.timeline.filter(kind="file").count() == 1


# ETags ------------------------------------------------------------------------------------

def test_reads_carry_an_etag_and_answer_304_when_it_still_matches(api, wo, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "api.example.com"]
    client = api("read:work_orders")
    url = f"/api/v1/work-orders/{wo.pk}"
    read = client.get(url)
    tag = read["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    same = client.get(url, headers={"If-None-Match": tag})
    assert same.status_code == 304 and same["ETag"] == tag and same.content == b""
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    # The same resource read through another host name has the same ETag.
    assert client.get(url, HTTP_HOST="api.example.com")["ETag"] == tag


def test_if_match_guards_a_patch(api, wo):
    client = api("write:work_orders")
    url = f"/api/v1/work-orders/{wo.pk}"
    tag = client.get(url)["ETag"]
    changed = client.patch(url, {"title": "First"}, headers={"If-Match": tag})
    assert changed.status_code == 200, changed.content
    new_tag = changed["ETag"]
    assert new_tag != tag and client.get(url)["ETag"] == new_tag
    stale = client.patch(url, {"title": "Second"}, headers={"If-Match": tag})
    assert stale.status_code == 412
    assert stale["Content-Type"] == "application/problem+json"
    assert stale["ETag"] == new_tag
    wo.refresh_from_db()
    assert wo.title == "First"
    assert client.patch(url, {"title": "Third"}, headers={"If-Match": "*"}).status_code == 200
    assert client.patch(url, {"title": "Fourth"},
                        headers={"If-Match": f'"x", {client.get(url)["ETag"]}'}
                        ).status_code == 200


def test_a_stale_if_match_under_an_idempotency_key_keeps_nothing(api, wo):
    client = api("write:work_orders")
    url = f"/api/v1/work-orders/{wo.pk}"
    stale = client.patch(url, {"title": "X"}, headers={**KEY, "If-Match": '"old"'})
    assert stale.status_code == 412
    assert not IdempotentRequest.objects.exists()
    fresh = client.patch(url, {"title": "X"}, headers={**KEY, "If-Match": client.get(url)["ETag"]})
    assert fresh.status_code == 200


def test_the_replayed_body_is_the_stored_bytes(api):
    client = api("write:customers")
    first = client.post("/api/v1/customers", {"name": "A"}, headers=KEY)
    record = IdempotentRequest.objects.get()
    assert json.loads(bytes(record.body)) == first.json()
    assert record.method == "POST" and record.path == "/api/v1/customers"


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_key_are_one_write(make_key, monkeypatch):
    """Both arrive while the first is still writing: the second waits on the key's unique
    index until the first commits and replays its answer. PostgreSQL only: the SQLite test
    database is in memory, shared by threads through one cache that locks tables instead of
    waiting (a SQLite file lets one writer at a time anyway)."""
    import threading
    import time

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers (PostgreSQL)")

    from crewline.api.tests.conftest import ApiClient
    from crewline.customers import services as customer_services

    client_key = make_key("write:customers")
    real = customer_services.customer_create
    started = threading.Event()

    def slow_create(**kwargs):
        started.set()
        time.sleep(0.5)
        return real(**kwargs)

    monkeypatch.setattr(customer_services, "customer_create", slow_create)
    answers = []

    def send():
        try:
            answers.append(ApiClient(client_key).post("/api/v1/customers", {"name": "Racer"},
                                                      headers=KEY))
        finally:
            connection.close()

    first = threading.Thread(target=send)
    first.start()
    assert started.wait(10), [(a.status_code, a.content[:300]) for a in answers]
    second = threading.Thread(target=send)
    second.start()
    first.join(30)
    second.join(30)
    assert [a.status_code for a in answers] == [201, 201], [a.content for a in answers]
    assert answers[0].json() == answers[1].json()
    assert sorted(a.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
    assert Customer.objects.filter(name="Racer").count() == 1
