import pytest
from django.db.models import Count, Max, Min
from django.utils import timezone

from crewline.core.audit import audit_verify
from crewline.core.models import Member, Organization, Role
from crewline.customers.models import Customer, Site
from crewline.demo.scale import (
    RICH_TIMELINE_ENTRIES,
    ScaleSeedError,
    seed_scale,
    split_work_orders,
)
from crewline.workorders.models import Status, TimelineEntry, Visit, VisitStatus, WorkOrder

pytestmark = pytest.mark.django_db


def quiet(_line: str) -> None:
    pass


def test_it_splits_work_orders_with_one_big_organization():
    assert split_work_orders(orgs=3, work_orders=10) == [4, 3, 3]
    assert split_work_orders(orgs=4, work_orders=1000, big_org_work_orders=700) == [
        700, 100, 100, 100]
    with pytest.raises(ScaleSeedError):
        split_work_orders(orgs=2, work_orders=10, big_org_work_orders=11)
    with pytest.raises(ScaleSeedError):
        split_work_orders(orgs=0, work_orders=10)


def test_it_seeds_numbered_work_orders_per_organization():
    report = seed_scale(orgs=3, work_orders=900, big_org_work_orders=600, prefix="t", log=quiet)
    assert report.organizations == ["t-0", "t-1", "t-2"]
    counts = dict(WorkOrder.objects.values_list("organization__slug").annotate(n=Count("id")))
    assert counts == {"t-0": 600, "t-1": 150, "t-2": 150}
    assert report.rows["workorders.WorkOrder"] == 900
    assert report.total_rows == sum(report.rows.values()) > 900
    assert report.rows_per_second > 0

    for org in Organization.objects.filter(slug__startswith="t-"):
        numbers = WorkOrder.objects.filter(organization=org).aggregate(Min("number"),
                                                                       Max("number"))
        total = counts[org.slug]
        assert (numbers["number__min"], numbers["number__max"]) == (1001, 1000 + total)
        assert org.next_work_order_number == 1001 + total
        assert Member.objects.filter(organization=org, role=Role.OFFICE).exists()
        assert audit_verify(organization=org).ok
        # Every row points inside its own organization.
        assert not WorkOrder.objects.filter(organization=org).exclude(
            customer__organization=org).exists()
        assert not Site.objects.filter(organization=org).exclude(
            customer__organization=org).exists()
        assert not Visit.objects.filter(organization=org).exclude(
            work_order__organization=org).exists()
        assert not Visit.crew.through.objects.filter(visit__organization=org).exclude(
            member__organization=org).exists()
    assert Customer.objects.filter(organization__slug="t-0").count() >= 600 // 8

    rich = WorkOrder.objects.get(organization__slug="t-0", number=report.rich_work_orders["t-0"])
    assert rich.timeline.count() >= RICH_TIMELINE_ENTRIES
    assert rich.visits.count() >= 4


def test_it_keeps_statuses_and_times_consistent():
    seed_scale(orgs=1, work_orders=2000, prefix="c", log=quiet)
    now = timezone.now()
    orders = WorkOrder.objects.filter(organization__slug="c-0")
    assert set(orders.values_list("status", flat=True)) == set(Status.values)
    assert not orders.filter(status=Status.NEW, visits__isnull=False).exists()
    assert not orders.filter(status__in=[Status.COMPLETED, Status.INVOICED],
                             completed_at__isnull=True).exists()
    assert not orders.filter(completed_at__gt=now).exists()
    assert not Visit.objects.filter(work_order__in=orders, status=VisitStatus.SCHEDULED,
                                    start__lt=now).exists()
    assert not Visit.objects.filter(work_order__in=orders, status=VisitStatus.DONE,
                                    finished_at__gt=now).exists()
    assert not TimelineEntry.objects.filter(work_order__in=orders, created_at__gt=now).exists()
    assert not orders.filter(created_at__gt=now).exists()


def test_it_is_deterministic_for_a_seed():
    seed_scale(orgs=1, work_orders=300, prefix="a", seed=5, log=quiet)
    seed_scale(orgs=1, work_orders=300, prefix="b", seed=5, log=quiet)

    def shape(slug):
        return list(WorkOrder.objects.filter(organization__slug=slug).order_by("number")
                    .values_list("number", "status", "title", "priority"))

    assert shape("a-0") == shape("b-0")


def test_it_refuses_to_seed_the_same_prefix_twice():
    seed_scale(orgs=1, work_orders=10, prefix="x", log=quiet)
    with pytest.raises(ScaleSeedError):
        seed_scale(orgs=1, work_orders=10, prefix="x", log=quiet)
