"""The figures over a period: their arithmetic and their days in the organization's zone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crewline.billing.models import Invoice, InvoiceStatus
from crewline.dashboard import selectors
from crewline.dashboard.charts import bar_chart
from crewline.dashboard.tests.conftest import at
from crewline.workorders.models import Status, Visit, VisitStatus, WorkOrder

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)


def _complete(wo, when):
    WorkOrder.objects.filter(pk=wo.pk).update(status=Status.COMPLETED, completed_at=when)


def _done(visit, arrived, finished):
    Visit.objects.filter(pk=visit.pk).update(status=VisitStatus.DONE, arrived_at=arrived,
                                             finished_at=finished)


def test_it_counts_jobs_completed_per_local_day(org, make_work_order):
    late_evening = make_work_order()
    _complete(late_evening, at(19, 23, 30))  # 05:30 UTC on the 20th, still the 19th locally
    today = make_work_order()
    _complete(today, at(20, 8))
    invoiced = make_work_order()
    WorkOrder.objects.filter(pk=invoiced.pk).update(status=Status.INVOICED,
                                                    completed_at=at(20, 9))
    too_old = make_work_order()
    _complete(too_old, at(13, 23, 59))  # the day before the first of seven

    figures = selectors.figures(org, days=7, today=TODAY)

    assert figures.days[0] == dt.date(2026, 11, 14) and figures.days[-1] == TODAY
    assert figures.completed == [0, 0, 0, 0, 0, 1, 2]
    assert figures.completed_total == 3


def test_it_computes_the_first_time_fix_rate_over_completed_jobs(org, make_work_order,
                                                                 make_visit, office,
                                                                 technician):
    one = make_visit(start=at(18, 9), end=at(18, 10), crew=[technician]).work_order
    two = make_visit(start=at(18, 9), end=at(18, 10), crew=[technician]).work_order
    make_visit(start=at(19, 9), end=at(19, 10), crew=[technician], wo=two)
    # A cancelled visit was never a trip: this job still needed one visit.
    rebooked = make_visit(start=at(18, 9), end=at(18, 10), crew=[technician]).work_order
    Visit.objects.filter(work_order=rebooked).update(status=VisitStatus.CANCELLED)
    make_visit(start=at(19, 9), end=at(19, 10), crew=[technician], wo=rebooked)
    still_open = make_visit(start=at(18, 9), end=at(18, 10), crew=[technician]).work_order
    for wo in (one, two, rebooked):
        _complete(wo, at(19, 12))

    figures = selectors.figures(org, days=7, today=TODAY)

    assert (figures.first_time_fixes, figures.completed_total) == (2, 3)
    assert figures.first_time_fix_rate == pytest.approx(2 / 3)
    assert still_open.status != Status.COMPLETED


def test_it_has_no_first_time_fix_rate_without_completed_jobs(org):
    assert selectors.figures(org, days=7, today=TODAY).first_time_fix_rate is None


def test_it_averages_time_on_site_over_finished_visits(org, make_visit, technician):
    a = make_visit(start=at(19, 9), end=at(19, 10), crew=[technician])
    _done(a, at(19, 9), at(19, 9, 30))
    b = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    _done(b, at(20, 9), at(20, 10, 30))
    c = make_visit(start=at(20, 11), end=at(20, 12), crew=[technician])
    _done(c, at(20, 11), at(20, 12, 30))
    still_on_site = make_visit(start=at(20, 13), end=at(20, 14), crew=[technician])
    Visit.objects.filter(pk=still_on_site.pk).update(status=VisitStatus.ON_SITE,
                                                     arrived_at=at(20, 13))

    figures = selectors.figures(org, days=7, today=TODAY)

    # (30 + 90 + 90) / 3 visits = 70 minutes; per day 30 and 90.
    assert figures.on_site_average == dt.timedelta(minutes=70)
    assert figures.on_site_visits == 3
    assert figures.on_site[-2:] == [dt.timedelta(minutes=30), dt.timedelta(minutes=90)]
    assert figures.on_site[0] is None


def test_it_totals_revenue_of_issued_and_paid_invoices_in_the_period(org, customer):
    def invoice(status, day, subtotal, tax, currency="USD"):
        Invoice.objects.create(organization=org, customer=customer, status=status,
                               issue_date=day, currency=currency, subtotal=Decimal(subtotal),
                               tax_total=Decimal(tax))

    invoice(InvoiceStatus.ISSUED, TODAY, "100.00", "8.25")
    invoice(InvoiceStatus.PAID, TODAY, "200.00", "0.00")
    invoice(InvoiceStatus.PAID, dt.date(2026, 11, 14), "50.00", "5.00")
    invoice(InvoiceStatus.DRAFT, TODAY, "999.00", "0.00")
    invoice(InvoiceStatus.VOID, TODAY, "999.00", "0.00")
    invoice(InvoiceStatus.ISSUED, dt.date(2026, 11, 13), "999.00", "0.00")
    invoice(InvoiceStatus.ISSUED, TODAY, "40.00", "0.00", currency="CAD")

    figures = selectors.figures(org, days=7, today=TODAY)

    assert figures.revenue_total == Decimal("363.25")
    assert figures.revenue[0] == Decimal("55.00") and figures.revenue[-1] == Decimal("308.25")
    assert figures.revenue_other == {"CAD": Decimal("40.00")}


def test_it_scales_bars_to_the_largest_value_and_marks_empty_days():
    chart = bar_chart([0, 2, 4, None], ["a", "b", "c", "d"], width=400, height=50)

    assert [b.height for b in chart.bars] == [1.5, 25, 50, 1.5]
    assert [b.empty for b in chart.bars] == [True, False, False, True]
    assert [b.x for b in chart.bars] == [10, 110, 210, 310]
    assert chart.view_box == "0 0 400 50"


@pytest.mark.parametrize(("delta", "text"), [
    (dt.timedelta(seconds=20), "under a minute"),
    (dt.timedelta(minutes=25), "25 min"),
    (dt.timedelta(hours=1, minutes=5), "1 h 05 min"),
    (dt.timedelta(days=2, hours=3), "2 d 3 h"),
])
def test_it_writes_durations_for_people(delta, text):
    from crewline.formats.durations import format_duration

    assert format_duration(delta, style="days") == text
