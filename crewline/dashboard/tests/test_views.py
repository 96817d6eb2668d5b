"""The dashboard page: who may open it, where its items link, its parts and its query count."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from crewline.billing.models import Invoice, InvoiceStatus
from crewline.core.models import Role
from crewline.dashboard.tests.conftest import at
from crewline.factories import MemberFactory, WorkOrderFactory
from crewline.field.models import Device, RejectedMutation
from crewline.timesheets.models import TimeEntry, TimeKind
from crewline.workorders.models import Status, Visit, VisitStatus, WorkOrder

pytestmark = pytest.mark.django_db
URL = "/dashboard/"


def test_it_sends_office_members_to_the_dashboard_from_the_start_page(office_client,
                                                                      owner_client):
    assert office_client.get("/")["Location"] == URL
    assert owner_client.get("/")["Location"] == URL


def test_it_refuses_technicians(tech_client):
    assert tech_client.get(URL).status_code == 403
    assert tech_client.get(URL, {"part": "today"}, HTTP_HX_REQUEST="true").status_code == 403


def test_it_sends_visitors_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_it_shows_an_outsider_nothing_of_another_organization(outsider_client, make_work_order,
                                                             technician):
    make_work_order(title="Leaking valve", due_date=dt.date(2020, 1, 1))

    page = outsider_client.get(URL).content.decode()
    assert "Leaking valve" not in page
    assert technician.name not in page
    assert "Nothing is late." in page


def test_it_links_each_item_to_where_it_is_fixed(office_client, org, make_work_order,
                                                 make_visit, technician, time_machine):
    time_machine.move_to(at(20, 11), tick=False)
    late = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    unscheduled = make_work_order(title="Replace filter")
    done = make_work_order(title="Annual service")
    WorkOrder.objects.filter(pk=done.pk).update(status=Status.COMPLETED,
                                                completed_at=at(20, 8))
    device = Device.objects.create(id=uuid.uuid4(), organization=org, member=technician)
    RejectedMutation.objects.create(organization=org, device=device, seq=3, name="visit_arrive",
                                    reason="The visit was cancelled.", work_order=late.work_order)

    page = office_client.get(URL).content.decode()

    assert "Not on site by the end of the window" in page
    assert f'href="/work-orders/{late.work_order.number}/"' in page
    assert "/schedule/?date=2026-11-20&amp;status=scheduled" in page
    assert f'href="/work-orders/{unscheduled.number}/"' in page
    assert f'action="/billing/work-orders/{done.pk}/invoice/"' in page
    assert "The visit was cancelled." in page and 'href="/field/rejected/"' in page
    assert "Tara Tech" in page


def test_it_counts_todays_visits_by_status_as_links_to_the_board(office_client, make_visit,
                                                                 technician, time_machine):
    time_machine.move_to(at(20, 7), tick=False)
    make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    make_visit(start=at(20, 13), end=at(20, 14), crew=[technician])
    make_visit(start=at(21, 9), end=at(21, 10), crew=[technician])

    response = office_client.get(URL)

    chips = {c["status"]: c["count"] for c in response.context["chips"]}
    assert chips[VisitStatus.SCHEDULED] == 2 and chips[VisitStatus.DONE] == 0
    assert response.context["visits_today"] == 2


def test_it_returns_each_part_alone_to_htmx(office_client):
    today = office_client.get(URL, {"part": "today"}, HTTP_HX_REQUEST="true")
    figures = office_client.get(URL, {"part": "figures", "period": "30"},
                                HTTP_HX_REQUEST="true")

    assert [t.name for t in today.templates][0] == "dashboard/_today.html"
    assert "<html" not in today.content.decode()
    assert [t.name for t in figures.templates][0] == "dashboard/_figures.html"
    assert len(figures.context["figures"].days) == 30
    assert '<option value="30" selected>' in figures.content.decode()


def test_it_falls_back_to_seven_days_for_an_unknown_period(office_client):
    response = office_client.get(URL, {"period": "365"})

    assert response.status_code == 200
    assert len(response.context["figures"].days) == 7


def test_it_draws_the_figures_as_inline_svg(office_client, org, customer, time_machine):
    time_machine.move_to(at(20, 12), tick=False)
    Invoice.objects.create(organization=org, customer=customer, status=InvoiceStatus.PAID,
                           issue_date=dt.date(2026, 11, 20), currency="USD",
                           subtotal=Decimal("1250.00"), tax_total=Decimal("0"))

    page = office_client.get(URL).content.decode()

    assert page.count('<svg class="dash-bars"') == 3
    assert "USD 1,250" in page
    assert "Fri 20 Nov: USD 1,250.00" in page


def _populate(org, office, n: int) -> None:
    """``n`` rows for every list and every technician state."""
    now = timezone.now()
    device = Device.objects.create(id=uuid.uuid4(), organization=org, member=office)
    for i in range(n):
        tech = MemberFactory(organization=org, role=Role.TECHNICIAN)
        wo = WorkOrderFactory(organization=org, status=Status.IN_PROGRESS,
                              due_date=now.date() - dt.timedelta(days=2))
        late = Visit.objects.create(organization=org, work_order=wo,
                                    start=now - dt.timedelta(hours=3),
                                    end=now - dt.timedelta(hours=2))
        late.crew.add(tech)
        over = Visit.objects.create(organization=org, work_order=wo, status=VisitStatus.ON_SITE,
                                    start=now - dt.timedelta(hours=3),
                                    end=now - dt.timedelta(hours=2),
                                    arrived_at=now - dt.timedelta(hours=2))
        over.crew.add(tech)
        TimeEntry.objects.create(organization=org, member=tech, kind=TimeKind.SHIFT,
                                 start=now - dt.timedelta(hours=4))
        WorkOrderFactory(organization=org, status=Status.NEW)
        finished = WorkOrderFactory(organization=org, status=Status.COMPLETED, completed_at=now)
        Visit.objects.create(organization=org, work_order=finished, status=VisitStatus.DONE,
                             start=now - dt.timedelta(hours=2), end=now - dt.timedelta(hours=1),
                             arrived_at=now - dt.timedelta(hours=2), finished_at=now)
        Visit.objects.create(organization=org, work_order=WorkOrderFactory(organization=org))
        RejectedMutation.objects.create(organization=org, device=device, seq=i + 1,
                                        name="note_add", reason="Gone", work_order=wo)
        Invoice.objects.create(organization=org, customer=wo.customer, currency="USD",
                               status=InvoiceStatus.ISSUED, issue_date=now.date(),
                               subtotal=Decimal(10))


@pytest.mark.parametrize("period", ["7", "90"])
def test_it_reads_the_same_number_of_queries_for_5_or_50_rows(office_client, org, office,
                                                              django_assert_max_num_queries,
                                                              period):
    _populate(org, office, 5)
    with django_assert_max_num_queries(60) as few:
        assert office_client.get(URL, {"period": period}).status_code == 200
    _populate(org, office, 45)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = office_client.get(URL, {"period": period})
    assert response.context["late_count"] == 50
    assert response.context["overrun_count"] == 50
    assert response.context["rejected_count"] == 50
    assert len(response.context["states"]) == 50


def test_it_asks_for_todays_part_when_work_changes(office_client):
    page = office_client.get(URL).content.decode()

    assert ('data-live-topics="list" data-live-fragment '
            'data-live-url="/dashboard/?part=today"') in page
    live = office_client.get(URL, {"part": "today"}, HTTP_HX_REQUEST="true",
                             HTTP_X_REQUESTED_WITH="live")
    assert live.content.decode().lstrip().startswith('<div id="today"')
