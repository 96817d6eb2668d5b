"""Writes through the office's own services: POST customers, POST and PATCH work orders answer
with the object as a read returns it; a key's write scope is audited; a read key is 403, an
outsider's object 404, bad bodies 400/422 with field errors, the session needs CSRF."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from crewline.core.models import AuditLog
from crewline.customers.models import Customer
from crewline.factories import SiteFactory
from crewline.workorders.models import WorkOrder
from crewline.workorders.services import work_order_create

pytestmark = pytest.mark.django_db


def _patch(client, path, body):
    return client.client.patch(path, json.dumps(body), content_type="application/json",
                               headers=client.headers)


@pytest.fixture
def site(org):
    return SiteFactory(customer__organization=org)


@pytest.fixture
def wo(org, owner, site):
    return work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                             title="Leak under the sink")


def test_post_customer_answers_as_a_read_and_audits_the_key(api, org):
    client = api("write:customers")
    response = client.post("/api/v1/customers", {"name": "Maple Street Dental",
                                                  "kind": "commercial",
                                                  "email": "Office@Maple.example"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == client.get(body["url"]).json()
    assert body["email"] == "office@maple.example" and body["kind"] == "commercial"
    customer = Customer.objects.get(pk=body["id"])
    assert customer.organization == org
    assert AuditLog.objects.filter(action="customer.create", object_id=str(customer.pk),
                                   actor=None).exists()
    used = AuditLog.objects.get(action="api_key.write")
    assert used.changes["scope"][1] == "write:customers"
    assert used.changes["request"][1] == "POST /api/v1/customers"


def test_post_and_patch_work_orders(api, site, org):
    client = api("write:work_orders")
    response = client.post("/api/v1/work-orders", {
        "customer_id": site.customer.pk, "site_id": site.pk, "title": "No heat",
        "priority": "urgent", "requested_start": "2026-12-10T08:00:00-06:00",
        "requested_end": "2026-12-10T12:00:00-06:00", "due_date": "2026-12-11"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"].startswith("WO-") and body["priority"] == "urgent"
    assert body == client.get(body["url"]).json()
    changed = _patch(client, body["url"], {"title": "No heat upstairs", "priority": "high"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["title"] == "No heat upstairs" and changed.json()["priority"] == "high"
    assert changed.json()["instructions"] == body["instructions"]
    assert WorkOrder.objects.get(pk=body["id"]).title == "No heat upstairs"
    assert AuditLog.objects.filter(action="api_key.write").count() == 2


def test_a_read_key_may_not_write(api, site, wo):
    client = api("read:customers", "read:work_orders")
    assert client.post("/api/v1/customers", {"name": "X"}).status_code == 403
    assert client.post("/api/v1/work-orders", {"customer_id": site.customer.pk,
                                               "title": "X"}).status_code == 403
    assert _patch(client, f"/api/v1/work-orders/{wo.pk}", {"title": "X"}).status_code == 403
    assert not Customer.objects.filter(name="X").exists()
    wo.refresh_from_db()
    assert wo.title == "Leak under the sink"
    assert not AuditLog.objects.filter(action="api_key.write").exists()


def test_another_organizations_objects_are_not_found(api, other_org, site, wo):
    outsider = api(organization=other_org)
    assert _patch(outsider, f"/api/v1/work-orders/{wo.pk}", {"title": "X"}).status_code == 404
    response = outsider.post("/api/v1/work-orders", {"customer_id": site.customer.pk,
                                                     "title": "X"})
    # Named in the body, another organization's customer is not found either, and the
    # answer says which field named it.
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "customer_id"
    wo.refresh_from_db()
    assert wo.title == "Leak under the sink"


@pytest.mark.parametrize("body", [
    {}, {"name": ""}, {"name": "x" * 201}, {"name": "A", "kind": "alien"},
    {"name": "A", "email": "not-an-email"}, {"name": None}, ["name"],
])
def test_bad_customer_bodies_are_field_errors(api, body):
    response = api("write:customers").post("/api/v1/customers", body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("body", [
    {"title": "x"}, {"customer_id": "abc", "title": "x"},
    {"customer_id": 1, "title": "x", "requested_start": "2026-12-10T08:00:00"},
    {"customer_id": 1, "title": "x", "requested_start": "0001-01-01T00:00:00+14:00"},
    {"customer_id": 1, "title": "x", "due_date": "9999-12-31"},
    {"customer_id": 1, "title": "x", "priority": "meh"},
    {"customer_id": 1, "title": "x", "requested_start": "2026-12-10T12:00:00Z",
     "requested_end": "2026-12-10T08:00:00Z"},
])
def test_bad_work_order_bodies_are_field_errors(api, site, body):
    if body.get("customer_id") == 1:
        body["customer_id"] = site.customer.pk
    response = api("write:work_orders").post("/api/v1/work-orders", body)
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"]
    assert not WorkOrder.objects.exists()


def test_a_patch_refuses_nulls_and_a_site_of_another_customer(api, org, wo):
    client = api("write:work_orders")
    url = f"/api/v1/work-orders/{wo.pk}"
    assert _patch(client, url, {"title": None}).json()["errors"][0]["field"] == "title"
    elsewhere = SiteFactory(customer__organization=org)
    response = _patch(client, url, {"site_id": elsewhere.pk})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "site_id"


def test_a_body_that_is_not_json_is_a_bad_request(api):
    client = api()
    response = client.client.post("/api/v1/customers", "{nope", content_type="application/json",
                                  headers=client.headers)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_the_session_writes_with_its_csrf_token_only(office, tech_client):
    client = Client(enforce_csrf_checks=True)
    client.force_login(office.user)
    body = json.dumps({"name": "Walk-in customer"})
    refused = client.post("/api/v1/customers", body, content_type="application/json")
    assert refused.status_code == 403
    client.get("/customers/")  # sets the CSRF cookie, as the office's pages do
    token = client.cookies["csrftoken"].value
    made = client.post("/api/v1/customers", body, content_type="application/json",
                       headers={"X-CSRFToken": token})
    assert made.status_code == 201, made.content
    assert AuditLog.objects.get(action="customer.create").actor == office
    assert tech_client.post("/api/v1/customers", body,
                            content_type="application/json").status_code == 403
