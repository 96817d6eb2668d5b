"""A consumer that follows the change feed from the start, while the office writes from several
connections at once, ends with exactly the database's state: it is given every change once, in
id order, and what it read of each changed object (or its tombstone) is what is stored.

The writers hold their transactions open a little after each change (as a request does while
it answers), and wait a little between a change's row and its audit entry: on PostgreSQL the
ids are handed out before the transactions commit, so a feed that gave a higher id before a
lower one had committed would skip the lower one. On SQLite one writer at a time commits, in
id order. Run it on PostgreSQL with ``DATABASE_URL=postgres://...``.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import connections, transaction

from crewline.api.feed import KINDS
from crewline.customers import services as customers
from crewline.customers.models import Customer, Site
from crewline.live.models import Change
from crewline.workorders.models import Status, WorkOrder
from crewline.workorders.services import work_order_cancel, work_order_create, work_order_update

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 3
SECONDS = 3.0


def _write(rng: random.Random, org, owner) -> None:
    """One change through the services, in a transaction held open a little after it."""
    with transaction.atomic():
        choice = rng.random()
        customer_ids = list(Customer.objects.filter(organization=org)
                            .values_list("pk", flat=True))
        if choice < 0.15 or not customer_ids:
            customer = customers.customer_create(organization=org, by=owner,
                                                 name=f"Customer {rng.randrange(10**6)}")
            customers.site_create(customer=customer, by=owner, address_line1="1 Main St",
                                  city="Austin")
        else:
            customer = Customer.objects.get(pk=rng.choice(customer_ids))
            if choice < 0.35:
                customers.customer_update(customer=customer, by=owner,
                                          name=f"Renamed {rng.randrange(10**6)}")
            elif choice < 0.45:
                customers.customer_archive(customer=customer, by=owner)
            elif choice < 0.5:
                customers.customer_unarchive(customer=customer, by=owner)
            elif choice < 0.6:
                site = Site.objects.filter(customer=customer).first()
                if site is not None:
                    customers.site_update(site=site, by=owner,
                                          city=f"City {rng.randrange(1000)}")
            elif choice < 0.75:
                site = Site.objects.filter(customer=customer).first()
                work_order_create(organization=org, by=owner, customer=customer, site=site,
                                  title=f"Job {rng.randrange(10**6)}")
            else:
                wo = (WorkOrder.objects.filter(organization=org)
                      .exclude(status=Status.CANCELLED).order_by("?").first())
                if wo is not None and choice < 0.92:
                    work_order_update(work_order=wo, by=owner,
                                      title=f"Retitled {rng.randrange(10**6)}")
                elif wo is not None:
                    work_order_cancel(work_order=wo, by=owner, reason="Customer called off")
        time.sleep(rng.uniform(0, 0.02))


def _state(body: dict, resource: str) -> tuple:
    if resource == "customer":
        return (body["name"], body["archived_at"] is not None)
    if resource == "site":
        return (body["city"], body["archived_at"] is not None)
    return (body["title"], body["status"])


def _db_state(org) -> dict:
    state = {("customer", c.pk): (c.name, c.archived_at is not None)
             for c in Customer.objects.filter(organization=org)}
    state |= {("site", s.pk): (s.city, s.archived_at is not None)
              for s in Site.objects.filter(organization=org)}
    state |= {("work_order", w.pk): (w.title, w.status)
              for w in WorkOrder.objects.filter(organization=org)}
    return state


def test_a_consumer_following_the_feed_ends_with_the_databases_state(org, owner, api,
                                                                     monkeypatch):
    # A slow step between a change's row and its audit entry (where the organization's lock
    # is taken at the latest) widens the window in which a later id can commit first.
    audit = customers.audit_record

    def slow_audit(**kwargs):
        time.sleep(random.uniform(0, 0.01))
        return audit(**kwargs)

    monkeypatch.setattr(customers, "audit_record", slow_audit)
    client = api("read:customers", "read:work_orders", rate_limit=100_000)
    errors: list[str] = []
    start = threading.Barrier(WRITERS + 1, timeout=30)
    seen: list[int] = []
    tombstones: dict[tuple, str | None] = {}
    read: dict[tuple, tuple] = {}

    def writer(n: int) -> None:
        rng = random.Random(n)
        try:
            start.wait()
            deadline = time.monotonic() + SECONDS
            while time.monotonic() < deadline:
                _write(rng, org, owner)
        except BaseException as exc:  # reported by the test's thread
            errors.append(f"writer {n}: {exc!r}")
        finally:
            connections.close_all()

    def follow(cursor: str | None) -> tuple[str | None, int]:
        """One page of the feed, each object it names read again; the new cursor."""
        params = {"limit": 50, **({"after": cursor} if cursor else {})}
        body = client.get("/api/v1/changes", params).json()
        for entry in body["data"]:
            seen.append(entry["id"])
            key = (entry["resource"], entry["resource_id"])
            if entry["resource"] not in ("customer", "site", "work_order"):
                continue
            tombstones[key] = entry["tombstone"]
            response = client.get(entry["url"])
            assert response.status_code == 200, response.content
            read[key] = _state(response.json(), entry["resource"])
        return body["cursor"], len(body["data"])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    # The key's first use is marked (a write, which on SQLite would queue behind the writers).
    cursor, _count = follow(None)
    try:
        start.wait()
        polls = 0
        while any(thread.is_alive() for thread in threads):
            cursor, _count = follow(cursor)
            polls += 1
        for thread in threads:
            thread.join()
        while True:  # catch up with what the last writers committed
            cursor, count = follow(cursor)
            if not count:
                break
    finally:
        connections.close_all()
    assert not errors, errors
    assert polls > 10
    wanted = list(Change.objects.filter(organization=org, kind__in=list(KINDS))
                  .order_by("id").values_list("id", flat=True))
    assert len(wanted) > 20
    # Every change, once, in order: none skipped by a later id that committed first.
    assert seen == wanted
    assert read == _db_state(org)
    # A tombstone says what the object's state is after the change: archived or not.
    for key, (_value, archived) in read.items():
        if key[0] in ("customer", "site"):
            assert (tombstones[key] == "archived") == archived, key
