"""The change log names each lifecycle event at the service that makes it, and marks archived
resources as tombstones; the API's change feed gives both, with the same ids as webhooks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from crewline.billing import services as billing
from crewline.customers.services import customer_archive, customer_create, customer_update
from crewline.factories import SiteFactory
from crewline.live.models import Change
from crewline.live.services import change_record
from crewline.timesheets.services import clock_in
from crewline.webhooks.models import WebhookDelivery
from crewline.webhooks.services import endpoint_create, endpoint_update
from crewline.workorders import timeline
from crewline.workorders.services import (
    visit_add,
    visit_arrive,
    visit_complete,
    visit_en_route,
    visit_schedule,
    work_order_complete,
    work_order_create,
)

pytestmark = pytest.mark.django_db


def _events(since: int = 0) -> list[tuple[str, str, int | None]]:
    return list(Change.objects.filter(id__gt=since).exclude(event="").order_by("id")
                .values_list("event", "kind", "object_id"))


def _last() -> int:
    return Change.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_a_job_from_raised_to_paid_names_its_events(org, owner, technician,
                                                    django_capture_on_commit_callbacks):
    site = SiteFactory(customer__organization=org)
    # A weekday morning ahead, inside the working hours whatever time the test runs at.
    day = timezone.localdate(timezone=org.tzinfo) + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(9), tzinfo=org.tzinfo)
    mark = _last()
    wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                           title="Leak")
    visit = visit_add(work_order=wo, by=owner, start=start, end=start + dt.timedelta(hours=2),
                      crew=[technician])
    visit_schedule(visit=visit, start=start + dt.timedelta(hours=1),
                   end=start + dt.timedelta(hours=3), crew=[technician], by=owner)
    visit_en_route(visit=visit, by=technician)
    visit_arrive(visit=visit, by=technician)
    timeline.note_add(work_order=wo, by=technician, body="Replaced the valve", visit=visit)
    visit_complete(visit=visit, by=technician)
    with django_capture_on_commit_callbacks(execute=True):
        work_order_complete(work_order=wo, by=owner)  # the job report follows (a task)
    invoice = billing.invoice_draft_from_work_order(work_order=wo, by=owner)
    billing.invoice_line_add(invoice=invoice, by=owner, description="Valve", quantity=1,
                             unit_price=40)
    billing.invoice_issue(invoice=invoice, by=owner)
    billing.invoice_mark_paid(invoice=invoice, by=owner, paid_on=timezone.localdate(),
                              method="card")
    events = [e for e, _kind, _id in _events(mark)]
    assert events[0] == "work_order.created"
    for event in ("visit.scheduled", "work_order.scheduled", "visit.rescheduled",
                  "visit.en_route", "visit.arrived", "note.added", "visit.completed",
                  "work_order.completed", "report.ready", "invoice.drafted", "invoice.issued",
                  "work_order.invoiced", "invoice.paid"):
        assert event in events, event
    order = ["work_order.created", "visit.en_route", "visit.arrived", "visit.completed",
             "work_order.completed", "invoice.issued", "invoice.paid"]
    assert [e for e in events if e in order] == order
    # A change that is no event (the timeline's own status entries) has none.
    assert Change.objects.filter(id__gt=mark, event="").exists()


def test_customers_are_created_updated_and_archived_as_tombstones(org, owner):
    mark = _last()
    customer = customer_create(organization=org, by=owner, name="Maple Dental")
    customer_update(customer=customer, by=owner, name="Maple Street Dental")
    customer_archive(customer=customer, by=owner)
    rows = list(Change.objects.filter(id__gt=mark, kind="customer").order_by("id")
                .values_list("event", "tombstone"))
    assert rows == [("customer.created", ""), ("customer.updated", ""),
                    ("customer.archived", "archived")]


def test_time_clocked_and_quotes_sent_are_events(org, owner, technician):
    mark = _last()
    clock_in(member=technician, by=technician)
    site = SiteFactory(customer__organization=org)
    quote = billing.quote_create(organization=org, by=owner, customer=site.customer, site=site,
                                 title="New boiler")
    billing.quote_line_add(quote=quote, by=owner, description="Boiler", quantity=1,
                           unit_price=2000)
    billing.quote_send(quote=quote, by=owner, to="client@example.com")
    assert [(e, k) for e, k, _id in _events(mark)] == [
        ("time_entry.created", "member"), ("quote.sent", "quote")]


def test_an_unknown_event_or_tombstone_is_a_programming_error(org):
    with pytest.raises(ValueError):
        change_record(organization_id=org.pk, kind="customer", object_id=1, event="x.y")
    with pytest.raises(ValueError):
        change_record(organization_id=org.pk, kind="customer", object_id=1, tombstone="gone")


def test_the_outbox_row_is_written_with_the_change_and_rolls_back_with_it(org, owner, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    wanted = endpoint_create(organization=org, by=owner, url="https://hooks.example.com/a",
                             events=["customer.created"])
    other = endpoint_create(organization=org, by=owner, url="https://hooks.example.com/b",
                            events=["work_order.created"])
    off = endpoint_create(organization=org, by=owner, url="https://hooks.example.com/c",
                          events=["customer.created"])
    endpoint_update(endpoint=off, by=owner, url=off.url, events=off.events, enabled=False)
    customer = customer_create(organization=org, by=owner, name="A")
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_create(organization=org, by=owner, name="B")
        raise RuntimeError
    rows = list(WebhookDelivery.objects.all())
    assert [(r.endpoint_id, r.event) for r in rows] == [(wanted.pk, "customer.created")]
    change = Change.objects.get(kind="customer", object_id=customer.pk)
    assert rows[0].msg_id == str(change.pk) and rows[0].payload["data"]["id"] == change.pk
    assert rows[0].payload["type"] == "customer.created"
    assert other.pk not in {r.endpoint_id for r in rows}
