"""The change feed reads the one change log in order, by scope, with an opaque cursor; a cursor
older than the log keeps is 410 with how to resync."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crewline.billing import services as billing
from crewline.customers.services import customer_update
from crewline.factories import SiteFactory
from crewline.live.models import Change
from crewline.live.services import changes_prune
from crewline.workorders.services import work_order_create

pytestmark = pytest.mark.django_db


def _follow(client, after=None):
    entries, params = [], {"limit": 2}
    if after:
        params["after"] = after
    body = client.get("/api/v1/changes", params).json()
    entries += body["data"]
    while body["next"]:
        body = client.get(body["next"]).json()
        entries += body["data"]
    return entries, body["cursor"]


def test_it_gives_every_change_in_order_with_a_link_and_a_cursor(org, owner, api):
    site = SiteFactory(customer__organization=org)
    customer = site.customer
    client = api("read:customers", "read:work_orders")
    _entries, cursor = _follow(client)
    wo = work_order_create(organization=org, by=owner, customer=customer, site=site,
                           title="Leak")
    customer_update(customer=customer, by=owner, name="Maple Street Dental")
    entries, cursor2 = _follow(client, cursor)
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    resources = [(e["resource"], e["resource_id"]) for e in entries]
    assert ("work_order", wo.pk) in resources and resources[-1] == ("customer", customer.pk)
    assert client.get(entries[-1]["url"]).json()["name"] == "Maple Street Dental"
    # Each entry over HTTP names its lifecycle event (the webhook's type) and tombstone.
    events = {(e["resource"], e["resource_id"], e["event"], e["tombstone"])
              for e in entries}
    assert ("work_order", wo.pk, "work_order.created", None) in events
    assert ("customer", customer.pk, "customer.updated", None) in events
    # Caught up: the same cursor again, nothing new.
    again = client.get("/api/v1/changes", {"after": cursor2}).json()
    assert again["data"] == [] and again["cursor"] == cursor2 and again["next"] is None


def test_it_shows_only_what_the_keys_scopes_cover(org, owner, api, other_org):
    site = SiteFactory(customer__organization=org)
    work_order_create(organization=org, by=owner, customer=site.customer, site=site, title="A")
    billing.price_item_create(organization=org, by=owner, code="F1", name="Filter",
                              unit_price=12)
    customers_only = {e["resource"] for e in _follow(api("read:customers"))[0]}
    everything = {e["resource"] for e in _follow(api("read:customers", "read:work_orders",
                                                     "read:billing"))[0]}
    outsider = _follow(api(organization=other_org))[0]
    assert "work_order" not in customers_only and "price_item" not in customers_only
    assert {"work_order", "price_item"} <= everything
    assert outsider == []


def test_a_cursor_older_than_the_log_keeps_is_gone(org, owner, api):
    site = SiteFactory(customer__organization=org)
    work_order_create(organization=org, by=owner, customer=site.customer, site=site, title="A")
    client = api("read:work_orders")
    entries, cursor = _follow(client)
    assert entries
    Change.objects.update(created_at=timezone.now() - dt.timedelta(days=31))
    work_order_create(organization=org, by=owner, customer=site.customer, site=site, title="B")
    changes_prune()
    response = client.get("/api/v1/changes", {"after": cursor})
    assert response.status_code == 410
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("cursor-expired") and "updated_since" in body["detail"]


def test_it_needs_a_read_scope(org, api):
    response = api("export").get("/api/v1/changes")
    assert response.status_code == 403


def test_each_entry_names_its_event_and_tombstone(org, owner, rf):
    """The feed's entry of a change is the webhook of that change (same id): it names the
    lifecycle event and says when the resource was archived or deleted."""
    from crewline.api.auth import Principal
    from crewline.api.feed import changes_page
    from crewline.customers.services import customer_archive, customer_create, site_create

    customer = customer_create(organization=org, by=owner, name="Maple Dental")
    site = site_create(customer=customer, by=owner, address_line1="1 Main St", city="Austin")
    customer_archive(customer=customer, by=owner)
    principal = Principal(organization=org, scopes=frozenset({"read:customers"}))
    entries = changes_page(rf.get("/api/v1/changes"), principal, after=None,
                           limit=10)["data"]
    mine = [(e["event"], e["tombstone"]) for e in entries if e["resource_id"] == customer.pk
            and e["resource"] == "customer"]
    assert mine == [("customer.created", None), ("customer.archived", "archived")]
    # A change that is no lifecycle event (a site added) is in the feed without one.
    assert ("site", site.pk, None) in {(e["resource"], e["resource_id"], e["event"])
                                       for e in entries}
