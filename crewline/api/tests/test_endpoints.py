"""Every endpoint of /api/v1/ with an outsider's key (404, or nothing of this organization in
a list), a key without the scope (403), a revoked or expired key (401), bad input (400/422
problem details, never a 500), the office's session, and pages by cursor."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crewline.api.models import ApiKey
from crewline.api.services import api_key_revoke
from crewline.api.tests.conftest import ApiClient
from crewline.factories import ContactFactory, SiteFactory
from crewline.workorders.services import visit_add, work_order_create

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def world(org, owner, technician):
    site = SiteFactory(customer__organization=org)
    ContactFactory(customer=site.customer)
    wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                           title="Boiler service")
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    visit = visit_add(work_order=wo, by=owner, start=start, end=start + dt.timedelta(hours=1),
                      crew=[technician], override=True)
    return {"customer": site.customer, "site": site, "work_order": wo, "visit": visit,
            "member": technician}


def _endpoints(world):
    """(path, scope) of every endpoint, lists and objects."""
    return [
        ("/api/v1/customers", "read:customers"),
        (f"/api/v1/customers/{world['customer'].pk}", "read:customers"),
        (f"/api/v1/sites/{world['site'].pk}", "read:customers"),
        ("/api/v1/work-orders", "read:work_orders"),
        (f"/api/v1/work-orders/{world['work_order'].pk}", "read:work_orders"),
        ("/api/v1/visits", "read:work_orders"),
        (f"/api/v1/visits/{world['visit'].pk}", "read:work_orders"),
        ("/api/v1/members", "read:team"),
        (f"/api/v1/members/{world['member'].pk}", "read:team"),
        ("/api/v1/changes", "read:customers"),
    ]


def _is_problem(response, status):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == PROBLEM
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def test_every_endpoint_answers_a_key_with_its_scope(world, api):
    for path, scope in _endpoints(world):
        response = api(scope).get(path)
        assert response.status_code == 200, (path, response.content[:300])
        assert response["Content-Type"].startswith("application/json")
        assert response["Cache-Control"] == "private, no-store"


def test_a_write_scope_includes_reading(world, api):
    assert api("write:customers").get("/api/v1/customers").status_code == 200


def test_every_endpoint_refuses_a_key_without_its_scope(world, api):
    for path, scope in _endpoints(world):
        others = [s for s in ("read:customers", "read:work_orders", "read:team", "export")
                  if s != scope and not (path.endswith("changes"))]
        client = api(*others) if others else api("export")
        if path.endswith("/changes"):
            client = api("export", "webhooks")
        body = _is_problem(client.get(path), 403)
        assert body["type"].endswith("missing-scope"), path


def test_every_endpoint_refuses_a_revoked_an_expired_or_a_made_up_key(world, org, owner, make_key):
    revoked = make_key()
    api_key_revoke(api_key=ApiKey.objects.get(), by=owner)
    expiring = make_key(expires_at=timezone.now() + dt.timedelta(minutes=5))
    for path, _scope in _endpoints(world):
        for key in (revoked, "cl_000000000000_nope", "not-a-key", None):
            body = _is_problem(ApiClient(key).get(path), 401)
            assert body["type"].endswith("unauthenticated")
        with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
            response = ApiClient(expiring).get(path)
            assert response.status_code == 401, path
            assert response["WWW-Authenticate"] == "Bearer"
    assert _is_problem(Client().get("/api/v1/customers",
                                    headers={"Authorization": "Basic eDp5"}), 401)


def test_an_outsiders_key_finds_nothing_of_this_organization(world, api, other_org):
    outsider = api(organization=other_org)
    for path, _scope in _endpoints(world):
        response = outsider.get(path)
        if path.rstrip("/").split("/")[-1].isdigit():
            assert _is_problem(response, 404)["type"].endswith("not-found"), path
        else:
            assert response.status_code == 200 and response.json()["data"] == [], path
    assert outsider.get("/api/v1/work-orders", {"customer": world["customer"].pk}
                        ).json()["data"] == []


def test_the_office_session_works_as_its_role_allows(world, office_client, tech_client,
                                                     outsider_client, client):
    assert office_client.get("/api/v1/work-orders").status_code == 200
    assert office_client.get("/api/v1/members").status_code == 200
    assert _is_problem(tech_client.get("/api/v1/work-orders"), 403)
    assert _is_problem(outsider_client.get(f"/api/v1/work-orders/{world['work_order'].pk}"),
                       404)
    assert _is_problem(client.get("/api/v1/work-orders"), 401)


@pytest.mark.parametrize("query", [
    {"limit": "abc"}, {"limit": 0}, {"limit": 101}, {"status": "lost"},
    {"customer": "x"}, {"customer": 2**70}, {"updated_since": "yesterday"},
    # A time without an offset is ambiguous: refused.
    {"updated_since": "2026-01-01T00:00:00"},
])
def test_it_refuses_bad_filters_with_field_errors(world, api, query):
    body = _is_problem(api().get("/api/v1/work-orders", query), 422)
    [field] = query
    assert body["errors"] and body["errors"][0]["field"].split(".")[0] == field
    assert body["errors"][0]["message"]


@pytest.mark.parametrize("path", ["/api/v1/visits?date_from=10000-01-01",
                                  "/api/v1/visits?date_to=31-12-2026",
                                  "/api/v1/visits?technician=-1",
                                  "/api/v1/customers?include_archived=maybe"])
def test_it_refuses_bad_input_on_every_list(world, api, path):
    assert _is_problem(api().get(path), 422)["errors"]


@pytest.mark.parametrize("cursor", ["eyJrIjoiaSJ9", "eyJrIjoidSIsImkiOjF9",
                                    "eyJrIjoiaSIsImkiOi0xfQ", "eyJ9"])
def test_it_refuses_a_cursor_it_did_not_hand_out(world, api, cursor):
    for path in ("/api/v1/customers", "/api/v1/work-orders", "/api/v1/changes"):
        param = "after" if path.endswith("changes") else "cursor"
        body = _is_problem(api().get(path, {param: cursor}), 400)
        assert body["type"].endswith("invalid-cursor") and body["errors"]


@pytest.mark.parametrize("cursor", ["zzz", "W10", "eyJ="])
def test_a_cursor_not_of_the_documented_form_is_a_field_error(world, api, cursor):
    for path in ("/api/v1/customers", "/api/v1/work-orders", "/api/v1/changes"):
        param = "after" if path.endswith("changes") else "cursor"
        body = _is_problem(api().get(path, {param: cursor}), 422)
        assert [e["field"] for e in body["errors"]] == [param]


def test_extreme_but_valid_input_is_no_server_error(world, api):
    client = api()
    for path in ("/api/v1/visits?date_from=0001-01-01&date_to=9999-12-31",
                 "/api/v1/work-orders?updated_since=0001-01-01T00:00:00%2B14:00",
                 "/api/v1/work-orders?updated_since=9999-12-31T23:59:59-12:00",
                 "/api/v1/customers/9223372036854775807", "/api/v1/customers/0",
                 "/api/v1/customers/99999999999999999999", "/api/v1/no-such-thing"):
        assert client.get(path).status_code in (200, 404, 422), path


def test_any_other_path_or_method_is_a_problem_not_a_page(world, api):
    client = api()
    for method in ("get", "post", "patch", "delete"):
        response = getattr(client.client, method)("/api/v1/work-orders/-5",
                                                  headers=client.headers)
        assert response.status_code == 404 and response["Content-Type"] == PROBLEM, method
    assert client.client.delete("/api/v1/customers", headers=client.headers).status_code == 405


def test_the_root_says_where_to_start_and_the_document_is_public(client):
    body = client.get("/api/v1/").json()
    assert body["docs"] == "http://testserver/api/v1/docs"
    document = client.get(body["openapi"]).json()
    assert document["openapi"].startswith("3.")
    problem = document["paths"]["/api/v1/customers"]["get"]["responses"]["403"]
    assert list(problem["content"]) == ["application/problem+json"]
    assert {"BearerKey", "OfficeSession"} <= set(document["components"]["securitySchemes"])


def test_lists_page_by_cursor_with_a_next_link(org, owner, api):
    site = SiteFactory(customer__organization=org)
    made = [work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                              title=f"Job {i}").pk for i in range(7)]
    client = api("read:work_orders")
    seen, url, pages = [], "/api/v1/work-orders?limit=3&status=new", 0
    while url:
        body = client.get(url).json()
        seen += [w["id"] for w in body["data"]]
        url, pages = body["next"], pages + 1
        if url:
            assert url.startswith("http://testserver/api/v1/work-orders?") and "status=new" in url
    assert seen == sorted(made) and pages == 3


def test_updated_since_pages_by_update_time(org, owner, api):
    from crewline.workorders.services import work_order_update

    site = SiteFactory(customer__organization=org)
    first, second, third = (work_order_create(organization=org, by=owner, customer=site.customer,
                                              site=site, title=f"Job {i}") for i in range(3))
    time.sleep(0.01)
    cut = timezone.now()
    time.sleep(0.01)
    work_order_update(work_order=first, by=owner, title="Job 0, again")
    work_order_update(work_order=third, by=owner, title="Job 2, again")
    client = api("read:work_orders")
    body = client.get("/api/v1/work-orders", {"updated_since": cut.isoformat(), "limit": 1,
                                              "status": ["new"]}).json()
    assert [w["id"] for w in body["data"]] == [first.pk]
    assert [w["id"] for w in client.get(body["next"]).json()["data"]] == [third.pk]


def test_objects_carry_their_relations_times_with_an_offset_and_links(world, api):
    client = api()
    customer = client.get(f"/api/v1/customers/{world['customer'].pk}").json()
    assert len(customer["contacts"]) == 1 and customer["sites"][0]["id"] == world["site"].pk
    wo = client.get(world["work_order"] and f"/api/v1/work-orders/{world['work_order'].pk}"
                    ).json()
    assert wo["reference"] == world["work_order"].reference and wo["priority"] == "normal"
    [visit] = wo["visits"]
    assert visit["crew"] == [world["member"].pk]
    assert dt.datetime.fromisoformat(visit["start"]).utcoffset() is not None
    assert client.get(visit["url"]).json() == visit
    tech = client.get("/api/v1/visits", {"technician": world["member"].pk}).json()["data"]
    assert [v["id"] for v in tech] == [world["visit"].pk]
    day = world["visit"].start.astimezone(world["customer"].organization.tzinfo).date()
    assert client.get("/api/v1/visits", {"date_from": day, "date_to": day}).json()["data"]
    assert not client.get("/api/v1/visits", {"date_from": day + dt.timedelta(days=1)}
                          ).json()["data"]


def test_a_list_of_fifty_work_orders_takes_a_fixed_number_of_queries(org, owner, technician,
                                                                     api):
    site = SiteFactory(customer__organization=org)
    start = timezone.now() + dt.timedelta(days=1)
    for i in range(50):
        wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                               title=f"Job {i}")
        visit_add(work_order=wo, by=owner, start=start, end=start + dt.timedelta(hours=1),
                  crew=[technician], override=True)
    client = api("read:work_orders")
    client.get("/api/v1/work-orders?limit=5")  # the key's last use is written once
    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        body = client.get("/api/v1/work-orders?limit=50").json()
        elapsed = time.perf_counter() - began
    assert len(body["data"]) == 50 and all(w["visits"] for w in body["data"])
    # The key, then the page, its tags, visits and their crews.
    assert len(queries) <= 6, [q["sql"][:80] for q in queries]
    print(f"50 work orders: {len(queries)} queries, {elapsed * 1000:.1f} ms")
