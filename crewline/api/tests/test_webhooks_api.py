"""Webhooks through the API (the ``webhooks`` scope): endpoints listed, made (the secret shown
once), changed, rotated and deleted, their deliveries and attempts read, events replayed and a
test event sent, all through ``crewline.webhooks.services``. Without the scope (a read key
among them) 403, another organization's endpoint 404, bad input 422 with field errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crewline.core.models import AuditLog
from crewline.customers.services import customer_create, customer_update
from crewline.webhooks import services
from crewline.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

BASE = "/api/v1/webhooks/endpoints"
PROBLEM = "application/problem+json"


@pytest.fixture
def endpoint(org, owner):
    return services.endpoint_create(organization=org, by=owner, url="https://hooks.example.com/in",
                                    events=["customer.created", "customer.updated"])


def _delete(client, path, headers=None):
    return client.client.delete(path, headers={**client.headers, **(headers or {})})


def test_it_makes_an_endpoint_and_shows_its_secret_once(api, org):
    client = api("webhooks")
    response = client.post(BASE, {"url": "https://crm.example.com/hooks",
                                  "events": ["work_order.created", "visit.completed"],
                                  "description": "CRM"})
    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.organization == org and endpoint.url == "https://crm.example.com/hooks"
    assert body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert body["events"] == ["work_order.created", "visit.completed"] and body["enabled"]
    read = client.get(body["links"]["self"])
    assert read.status_code == 200 and "secret" not in read.json()
    assert read["ETag"] == response["ETag"]
    listed = client.get(BASE).json()["data"]
    assert [e["id"] for e in listed] == [endpoint.pk] and "secret" not in listed[0]
    # The key's write is audited beside the service's own entry.
    assert AuditLog.objects.filter(action="webhook_endpoint.create").exists()
    assert AuditLog.objects.filter(action="api_key.write").exists()


@pytest.mark.parametrize("body, field", [
    ({"events": ["customer.created"]}, "url"),
    ({"url": "https://a.example.com", "events": []}, "events"),
    ({"url": "https://a.example.com", "events": ["customer.exploded"]}, "events.0"),
    ({"url": "http://127.0.0.1:8000/hook", "events": ["customer.created"]}, "url"),
    ({"url": "ftp://a.example.com/x", "events": ["customer.created"]}, "url"),
    ({"url": "https://a.example.com", "events": ["customer.created"], "description": "x" * 201},
     "description"),
])
def test_bad_endpoints_are_field_errors(api, body, field):
    response = api("webhooks").post(BASE, body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not WebhookEndpoint.objects.exists()


def test_it_changes_turns_off_and_deletes_an_endpoint(api, endpoint):
    client = api("webhooks")
    path = f"{BASE}/{endpoint.pk}"
    etag = client.get(path)["ETag"]
    changed = client.patch(path, {"events": ["customer.created"], "enabled": False},
                           headers={"If-Match": etag})
    assert changed.status_code == 200, changed.content
    assert changed.json()["events"] == ["customer.created"] and not changed.json()["enabled"]
    endpoint.refresh_from_db()
    assert endpoint.events == ["customer.created"] and not endpoint.enabled
    assert endpoint.url == "https://hooks.example.com/in"
    # A stale ETag changes nothing.
    stale = client.patch(path, {"enabled": True}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert client.patch(path, {"url": None}).status_code == 422
    assert client.patch(path, {"url": "http://10.0.0.5/x"}).status_code == 422
    assert _delete(client, path).status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert client.get(path).status_code == 404


def test_rotating_gives_a_new_secret_and_keeps_the_old_one_for_a_while(api, endpoint):
    old = endpoint.secret
    response = api("webhooks").post(f"{BASE}/{endpoint.pk}/rotate-secret")
    assert response.status_code == 200, response.content
    body = response.json()
    endpoint.refresh_from_db()
    assert body["secret"] == endpoint.secret != old and endpoint.previous_secret == old
    assert body["previous_secret_until"] is not None


def test_it_lists_deliveries_and_attempts_and_replays_and_tests(api, org, owner, endpoint):
    client = api("webhooks")
    customer = customer_create(organization=org, by=owner, name="Maple Dental")
    customer_update(customer=customer, by=owner, name="Maple Street Dental")
    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id"))
    assert [d.event for d in deliveries] == ["customer.created", "customer.updated"]
    first = deliveries[0]
    WebhookAttempt.objects.create(organization=org, endpoint=endpoint, delivery=first,
                                  status_code=500, latency_ms=12, response_excerpt="oops")
    path = f"{BASE}/{endpoint.pk}"
    listed = client.get(f"{path}/deliveries").json()["data"]
    assert [(d["webhook_id"], d["event"], d["state"]) for d in listed] == [
        (d.msg_id, d.event, "pending") for d in deliveries]
    assert client.get(f"{path}/deliveries", {"state": "delivered"}).json()["data"] == []
    log = client.get(f"{path}/attempts").json()["data"]
    assert [(a["webhook_id"], a["status_code"], a["response_excerpt"]) for a in log] == [
        (first.msg_id, 500, "oops")]
    # One event again, by its webhook id (the change's).
    one = client.post(f"{path}/replay", {"event_id": int(first.msg_id)})
    assert one.status_code == 202 and one.json()["queued"] == 1
    # A time range: both events, in order.
    now = timezone.now()
    since = (now - dt.timedelta(hours=1)).isoformat()
    until = (now + dt.timedelta(hours=1)).isoformat()
    both = client.post(f"{path}/replay", {"since": since, "until": until})
    assert both.status_code == 202 and both.json()["queued"] == 2
    again = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id")[2:]
    assert [d.msg_id for d in again] == [first.msg_id, *[d.msg_id for d in deliveries]]
    test = client.post(f"{path}/test")
    assert test.status_code == 202
    sent = WebhookDelivery.objects.get(msg_id=test.json()["webhook_id"])
    assert sent.event == "webhook.test" and sent.state == DeliveryState.PENDING
    # Bad replays: no event by that id (not found, naming the field), no range, a range the
    # wrong way round.
    missing = client.post(f"{path}/replay", {"event_id": 10**9})
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "event_id"
    assert client.post(f"{path}/replay", {}).status_code == 422
    backwards = client.post(f"{path}/replay", {"since": until, "until": since})
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "until"
    assert client.post(f"{path}/replay", {"since": "yesterday"}).status_code == 422


def _calls(endpoint):
    path = f"{BASE}/{endpoint.pk}"
    return [
        ("get", BASE, None), ("post", BASE, {"url": "https://b.example.com",
                                             "events": ["customer.created"]}),
        ("get", path, None), ("patch", path, {"enabled": False}), ("delete", path, None),
        ("post", f"{path}/rotate-secret", {}), ("get", f"{path}/deliveries", None),
        ("get", f"{path}/attempts", None), ("post", f"{path}/replay", {"event_id": 1}),
        ("post", f"{path}/test", {}),
    ]


def _call(client, method, path, body):
    if method == "get":
        return client.get(path)
    if method == "delete":
        return _delete(client, path)
    return getattr(client, method)(path, body)


def test_without_the_scope_it_is_forbidden(api, endpoint):
    # A key with every other scope, read and write: the webhooks are not theirs.
    others = api("read:customers", "write:customers", "read:work_orders", "write:billing",
                 "read:team", "export")
    for method, path, body in _calls(endpoint):
        response = _call(others, method, path, body)
        assert response.status_code == 403, (method, path, response.content)
        assert response["Content-Type"] == PROBLEM
    endpoint.refresh_from_db()
    assert endpoint.enabled and WebhookDelivery.objects.count() == 0


def test_another_organizations_endpoint_is_not_found(api, other_org, endpoint):
    outsider = api("webhooks", organization=other_org)
    for method, path, body in _calls(endpoint)[2:]:
        response = _call(outsider, method, path, body)
        assert response.status_code == 404, (method, path, response.content)
    assert outsider.get(BASE).json()["data"] == []
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).exists()


def test_the_owners_session_manages_webhooks_and_the_offices_does_not(owner_client,
                                                                      office_client, endpoint):
    assert owner_client.get(BASE).status_code == 200
    assert office_client.get(BASE).status_code == 403
