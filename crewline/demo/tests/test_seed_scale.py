"""``crewline seed-scale`` on PostgreSQL (COPY); set DATABASE_URL=postgres://… to run it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max, Min
from django.test import Client
from django.urls import reverse

from crewline.billing.services import invoice_draft_from_work_order
from crewline.core.audit import audit_verify
from crewline.core.models import Member, Organization, Role
from crewline.demo.bulk import long_tail
from crewline.timesheets.models import TimeEntry
from crewline.workorders.models import Status, TimelineEntry, Visit, VisitStatus, WorkOrder
from crewline.workorders.timeline import entry_data

pytestmark = pytest.mark.django_db(transaction=True)


def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("seed-scale writes with PostgreSQL's COPY: set DATABASE_URL=postgres://… "
                    "to run this")


def test_sizes_follow_a_long_tail_and_add_up():
    sizes = long_tail(orgs=1000, work_orders=10_000_000)
    assert sum(sizes) == 10_000_000 and sizes == sorted(sizes, reverse=True)
    assert sum(size >= 500_000 for size in sizes) >= 2
    assert 1_000 <= sizes[500] <= 10_000  # most organizations are small
    assert min(sizes) >= 1
    with pytest.raises(Exception, match="at least"):
        long_tail(orgs=10, work_orders=5)


def test_it_refuses_sqlite_with_a_clear_message():
    if connection.vendor == "postgresql":
        pytest.skip("this database is PostgreSQL")
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("seed_scale", orgs=2, work_orders=20, stdout=StringIO())


def test_it_seeds_a_long_tail_that_the_pages_read():
    _needs_postgres()
    out = StringIO()
    call_command("seed_scale", orgs=5, work_orders=2000, prefix="t", seed=3, stdout=out)
    assert "rows/s" in out.getvalue()
    counts = dict(WorkOrder.objects.filter(organization__slug__startswith="t-")
                  .values_list("organization__slug").annotate(n=Count("id")))
    assert sum(counts.values()) == 2000 and len(counts) == 5
    sizes = [counts[f"t-{i}"] for i in range(5)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] >= 2 * sizes[2] >= 2 * sizes[4]

    for org in Organization.objects.filter(slug__startswith="t-"):
        orders = WorkOrder.objects.filter(organization=org)
        numbers = orders.aggregate(Min("number"), Max("number"))
        assert (numbers["number__min"], numbers["number__max"]) == (1001, 1000 + counts[org.slug])
        assert org.next_work_order_number == 1001 + counts[org.slug]
        assert Member.objects.filter(organization=org, role=Role.OFFICE).exists()
        assert Member.objects.filter(organization=org, role=Role.TECHNICIAN).exists()
        assert audit_verify(organization=org).ok
        # Every row points inside its own organization.
        assert not orders.exclude(customer__organization=org).exists()
        assert not orders.exclude(site__customer__organization=org).exists()
        assert not Visit.objects.filter(organization=org).exclude(
            work_order__organization=org).exists()
        assert not Visit.crew.through.objects.filter(visit__organization=org).exclude(
            member__organization=org).exists()
        assert not TimelineEntry.objects.filter(organization=org).exclude(
            work_order__organization=org).exists()
        assert not TimeEntry.objects.filter(organization=org).exclude(
            visit__organization=org).exists()
        # Statuses follow the visits'.
        assert not orders.filter(status=Status.NEW, visits__isnull=False).exists()
        assert not orders.filter(status=Status.COMPLETED).exclude(
            visits__status=VisitStatus.DONE).exists()
        assert not orders.filter(status=Status.SCHEDULED).exclude(
            visits__status=VisitStatus.SCHEDULED).exists()

    # The entries' data read through their schemas, as production rows do.
    entries = TimelineEntry.objects.filter(organization__slug="t-0")
    assert set(entries.values_list("kind", flat=True)) >= {
        "note", "status", "schedule", "visit_status", "labor", "part"}
    for entry in entries.order_by("id")[:300]:
        entry_data(entry)
    assert TimeEntry.objects.filter(organization__slug="t-0").exists()

    # The sequences were moved past the given ids: the ORM's inserts go on from there.
    org = Organization.objects.create(name="After", slug="after-seed")
    assert org.pk > Organization.objects.filter(slug="t-0").get().pk

    member = Member.objects.select_related("user").filter(
        organization__slug="t-0", role=Role.OFFICE).first()
    client = Client()
    client.force_login(member.user)
    done = orders.model.objects.filter(organization__slug="t-0",
                                       status=Status.COMPLETED).first()
    for url in (reverse("workorders:list"), reverse("workorders:list") + "?status=all",
                reverse("workorders:detail", kwargs={"number": done.number}),
                reverse("scheduling:board")):
        assert client.get(url).status_code == 200, url
    # The price book prices the labor and the parts of an invoice draft.
    invoice = invoice_draft_from_work_order(work_order=done, by=member)
    assert invoice.lines.exists() and invoice.subtotal > 0
