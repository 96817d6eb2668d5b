"""schemathesis over the published OpenAPI document: every operation called with generated
input (valid and not) under a key with every scope, and every default check on its answers
(no server error, status codes, content types and bodies as documented, bad input refused).
Few examples per operation and derandomized, so that it runs with the rest of the suite."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from schemathesis.generation.stateful import run_state_machine_as_test

from crewline.api import pagination
from crewline.api.services import api_key_create
from crewline.factories import ContactFactory, SiteFactory
from crewline.live.models import Change
from crewline.workorders.services import visit_add, work_order_create


@pytest.fixture
def api_schema(db, settings):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from crewline.wsgi import application

    # schemathesis calls the WSGI application as host "localhost", in this thread: the test's
    # connection (and its transaction) must outlive each request, as under Django's client.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def full_key(db, org, owner, technician):
    site = SiteFactory(customer__organization=org)
    ContactFactory(customer=site.customer)
    wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                           title="Boiler service")
    start = timezone.now() + dt.timedelta(days=1)
    visit_add(work_order=wo, by=owner, start=start, end=start + dt.timedelta(hours=1),
              crew=[technician], override=True)
    _key, full = api_key_create(organization=org, by=owner, name="Fuzz",
                                scopes=["write:customers", "write:work_orders", "read:team",
                                        "write:billing"])
    # Hundreds of requests in a few seconds: more than the default limit allows.
    _key.rate_limit = 100_000
    _key.save(update_fields=["rate_limit"])
    _cursor_formats(org)
    return full


def _cursor_formats(org) -> None:
    """Teach the generator what cursors are: tokens this server hands out (a list's, after an
    id or an (updated_at, id); the feed's, at or after the oldest change kept). Any other
    string is a 400 (or the feed's 410), as ``test_changes`` and ``test_endpoints`` check."""
    ids = st.integers(min_value=1, max_value=10**9)
    moments = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1),
                           timezones=st.just(dt.UTC))
    schemathesis.openapi.format("cursor", st.one_of(
        ids.map(lambda i: pagination.encode({"k": "i", "i": i})),
        st.tuples(moments, ids).map(
            lambda m: pagination.encode({"k": "u", "t": m[0].isoformat(), "i": m[1]}))))
    oldest = (Change.objects.filter(organization=org).order_by("id")
              .values_list("id", flat=True).first()) or 0
    schemathesis.openapi.format("change-cursor", st.integers(
        min_value=oldest, max_value=10**9).map(lambda c: pagination.encode({"c": c})))


def test_every_operation_keeps_to_its_schema(api_schema, full_key):
    # The WSGI client does not undo gzip; the answers are the same.
    headers = {"Authorization": f"Bearer {full_key}", "Accept-Encoding": "identity"}
    api_schema.config.update(headers=headers)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 13
    for operation in operations:

        @given(case=operation.as_strategy())
        @examples(max_examples=15, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate()

        check()


def test_the_document_links_what_a_write_makes_to_what_reads_and_changes_it(client):
    document = client.get("/api/v1/openapi.json").json()
    made = document["paths"]["/api/v1/work-orders"]["post"]["responses"]["201"]["links"]
    targets = {link["operationId"] for link in made.values()}
    paths = {op["operationId"]: (method, path) for path, ops in document["paths"].items()
             for method, op in ops.items()}
    assert {paths[t] for t in targets} >= {("get", "/api/v1/work-orders/{work_order_id}"),
                                          ("post", "/api/v1/work-orders/{work_order_id}/visits")}
    assert all(link["parameters"] == {"work_order_id": "$response.body#/id"}
               for link in made.values())


def test_stateful_sequences_follow_the_links(api_schema, full_key):
    """schemathesis's state machine: make a customer, a work order, a visit, ... and follow
    each answer's links to the next call, every default check on every answer."""
    headers = {"Authorization": f"Bearer {full_key}", "Accept-Encoding": "identity"}
    # The key as the run's own headers: the checks that try a call without it or with a
    # made-up one know it for the caller's credentials.
    api_schema.config.update(headers=headers)
    machine = api_schema.as_state_machine()
    called: list[tuple[str, int]] = []

    class Calls(machine):
        # Each scenario starts from the same database: what one scenario made is undone
        # before the next, so that the draws Hypothesis replays meet the same answers (a
        # link is followed only when an earlier answer filled its bundle).
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def after_call(self, response, case):
            super().after_call(response, case)
            called.append((f"{case.method} {case.path}", response.status_code))

    run_state_machine_as_test(Calls, settings=examples(
        max_examples=15, stateful_step_count=6, deadline=None, derandomize=True,
        database=None, suppress_health_check=list(HealthCheck)))
    # Sequences of calls ran, every answer checked; which links they follow is the state
    # machine's draw.
    assert len(called) > 15, called
