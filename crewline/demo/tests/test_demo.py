import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from crewline.core.audit import audit_verify
from crewline.core.models import AuditLog, Member, Role, User
from crewline.customers.models import Contact, Customer, Equipment, Site
from crewline.demo.data import METRO_BOUNDS
from crewline.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, DEMO_SLUG, seed_demo
from crewline.workorders.models import (
    EntryKind,
    Status,
    TimelineEntry,
    Visibility,
    Visit,
    VisitStatus,
    WorkOrder,
)

pytestmark = pytest.mark.django_db

SMALL = 0.1  # 15 customers, 25 sites, 60 work orders


def table_counts():
    return {model.__name__: model.objects.count()
            for model in (User, Member, Customer, Contact, Site, Equipment, WorkOrder, Visit,
                          TimelineEntry, AuditLog)}


def test_it_seeds_a_believable_company_through_the_services():
    result = seed_demo(size=SMALL)
    org = result.organization
    assert result.created
    assert (org.slug, org.time_zone) == (DEMO_SLUG, "America/Chicago")

    assert Customer.objects.filter(organization=org).count() == 15
    assert Site.objects.filter(organization=org).count() == 25
    assert Contact.objects.filter(organization=org).count() >= 15
    assert Equipment.objects.filter(organization=org).exists()
    assert Site.objects.filter(organization=org).exclude(access_notes="").exists()
    orders = WorkOrder.objects.filter(organization=org)
    assert orders.count() == 60
    assert set(orders.values_list("status", flat=True)) == set(Status.values)

    roles = Member.objects.filter(organization=org).values_list("role", flat=True)
    assert sorted(set(roles)) == sorted(Role.values)
    assert 6 <= list(roles).count(Role.TECHNICIAN) <= 10
    techs = Member.objects.filter(organization=org, role=Role.TECHNICIAN)
    assert all(t.skills.exists() and t.home_base for t in techs)

    lo_lat, hi_lat = METRO_BOUNDS["lat"]
    lo_lng, hi_lng = METRO_BOUNDS["lng"]
    for site in Site.objects.filter(organization=org):
        assert lo_lat <= site.latitude <= hi_lat and lo_lng <= site.longitude <= hi_lng

    # Dates follow the story: history from about 60 days ago, bookings up to two weeks ahead,
    # every entry in the past, numbers rising with time.
    now = timezone.now()
    starts = [v.start for v in Visit.objects.filter(organization=org)]
    assert min(starts) >= now - dt.timedelta(days=63)
    assert max(starts) <= now + dt.timedelta(days=30)
    assert TimelineEntry.objects.filter(organization=org, created_at__gt=now).count() == 0
    by_number = list(orders.order_by("number").values_list("created_at", flat=True))
    assert by_number == sorted(by_number)
    for visit in Visit.objects.filter(organization=org).prefetch_related("crew"):
        local_start, local_end = (t.astimezone(org.tzinfo) for t in (visit.start, visit.end))
        assert local_start.hour >= 8 and (local_end.hour, local_end.minute) <= (17, 0)
        assert 1 <= len(visit.crew.all()) <= 2

    # Statuses agree between work orders and their visits.
    assert not Visit.objects.filter(organization=org, work_order__status=Status.COMPLETED,
                                    status=VisitStatus.SCHEDULED).exists()
    assert not Visit.objects.filter(organization=org, work_order__status=Status.CANCELLED,
                                    status=VisitStatus.SCHEDULED).exists()
    assert not Visit.objects.filter(organization=org, status=VisitStatus.SCHEDULED,
                                    end__lt=now).exists()
    assert not orders.filter(status=Status.SCHEDULED, visits__isnull=True).exists()
    assert all(wo.completed_at for wo in orders.filter(status__in=[Status.COMPLETED,
                                                                    Status.INVOICED]))

    notes = TimelineEntry.objects.filter(organization=org, kind=EntryKind.NOTE)
    assert set(notes.values_list("visibility", flat=True)) == set(Visibility.values)
    assert TimelineEntry.objects.filter(organization=org, kind=EntryKind.STATUS).exists()

    report = audit_verify(organization=org)
    assert report.ok, report.problem
    assert report.checked > orders.count()


def test_it_changes_nothing_when_run_again():
    first = seed_demo(size=SMALL)
    before = table_counts()
    second = seed_demo(size=SMALL)
    assert not second.created
    assert second.organization == first.organization
    assert table_counts() == before


def test_it_prints_one_login_per_role_that_works():
    out = StringIO()
    call_command("demo", size=SMALL, stdout=out)
    text = out.getvalue()
    assert "Created Northwind Heating & Plumbing" in text
    for role, email in DEMO_LOGINS:
        assert f"{role}" in text and email in text
        member = Member.objects.get(user__email=email, organization__slug=DEMO_SLUG)
        assert member.role == role
        assert member.user.check_password(DEMO_PASSWORD)
    assert DEMO_PASSWORD in text

    again = StringIO()
    call_command("demo", size=SMALL, stdout=again)
    assert "exists already; nothing changed" in again.getvalue()
    assert all(email in again.getvalue() for _role, email in DEMO_LOGINS)


@pytest.mark.django_db
def test_the_demo_sends_its_made_up_customers_nothing():
    from crewline.messaging.models import Message

    seed_demo(size=0.1)
    assert not Message.objects.exists()
