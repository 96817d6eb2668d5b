from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crewline.factories import CustomerFactory, SiteFactory
from crewline.workorders.models import Status, Tag, Visit, WorkOrder
from crewline.workorders.selectors import cheap_page, visits_for_technician, work_order_list


def _numbers(qs) -> list[int]:
    return list(qs.values_list("number", flat=True))


@pytest.fixture
def orders(make_wo, org, other_org, outsider):
    a = make_wo(title="Boiler making noise")
    b = make_wo(title="Annual AC check", priority=4, due_date=dt.date(2030, 3, 10))
    c = make_wo(title="Replace thermostat")
    WorkOrder.objects.filter(pk=c.pk).update(status=Status.COMPLETED)
    rival = CustomerFactory(organization=other_org)
    WorkOrder.objects.create(organization=other_org, number=1001, customer=rival, title="Boiler")
    return a, b, c


def test_it_lists_open_work_orders_newest_first_by_default(org, orders):
    a, b, _ = orders
    assert _numbers(work_order_list(organization=org)) == [b.number, a.number]


def test_it_filters_by_status_with_all_for_every_status(org, orders):
    a, b, c = orders
    assert _numbers(work_order_list(organization=org, status=["completed"])) == [c.number]
    assert _numbers(work_order_list(organization=org, status=["all"])) == [
        c.number, b.number, a.number]
    assert _numbers(work_order_list(organization=org, status=["nonsense"])) == [
        b.number, a.number]


@pytest.mark.parametrize("q", ["1001", "WO-1001", "wo1001", " wo-1001 "])
def test_it_finds_a_work_order_by_number(org, orders, q):
    assert _numbers(work_order_list(organization=org, q=q)) == [1001]


def test_it_searches_title_customer_and_address(org, orders, customer, make_wo):
    a, b, _ = orders
    assert _numbers(work_order_list(organization=org, q="boiler")) == [a.number]
    assert _numbers(work_order_list(organization=org, q="maple street")) == [b.number, a.number]
    other_site = SiteFactory(customer=customer, address_line1="77 Harbor Road")
    d = make_wo(title="Leak", site=other_site)
    assert _numbers(work_order_list(organization=org, q="harbor")) == [d.number]


def test_it_filters_by_priority_customer_and_tag(org, orders, make_wo):
    a, b, _ = orders
    assert _numbers(work_order_list(organization=org, priority=4)) == [b.number]
    other = CustomerFactory(organization=org)
    d = make_wo(customer=other, site=None)
    assert _numbers(work_order_list(organization=org, customer=other)) == [d.number]
    vip = Tag.objects.create(organization=org, name="VIP")
    a.tags.add(vip)
    assert _numbers(work_order_list(organization=org, tags=[vip])) == [a.number]


def test_it_filters_by_technician_and_dates(org, orders, technician):
    a, b, _ = orders
    start = timezone.make_aware(dt.datetime(2030, 3, 5, 9))
    visit = Visit.objects.create(organization=org, work_order=a, start=start,
                                 end=start + dt.timedelta(hours=1))
    visit.crew.add(technician)
    assert _numbers(work_order_list(organization=org, technician=technician)) == [a.number]
    # Visit dates and due dates both count.
    assert _numbers(work_order_list(organization=org, date_from=dt.date(2030, 3, 1),
                                    date_to=dt.date(2030, 3, 31))) == [b.number, a.number]
    assert _numbers(work_order_list(organization=org, date_from=dt.date(2030, 3, 5),
                                    date_to=dt.date(2030, 3, 5))) == [a.number]
    assert _numbers(work_order_list(organization=org, date_from=dt.date(2030, 3, 6))) == [
        b.number]


def test_it_pages_without_counting(org, make_wo):
    for _ in range(5):
        make_wo()
    first = cheap_page(work_order_list(organization=org), "1", per_page=2)
    last = cheap_page(work_order_list(organization=org), "3", per_page=2)
    assert first.has_next and not first.has_previous
    assert [w.number for w in first] == [1005, 1004]
    assert not last.has_next and last.has_previous and len(last) == 1
    assert cheap_page(work_order_list(organization=org), "x", per_page=2).number == 1


def test_it_lists_a_technicians_visits_for_the_coming_week(org, make_wo, technician, office):
    wo = make_wo()
    now = timezone.localtime()
    when = [now + dt.timedelta(hours=1), now + dt.timedelta(days=6), now + dt.timedelta(days=9),
            now - dt.timedelta(days=2)]
    for start in when:
        v = Visit.objects.create(organization=org, work_order=wo, start=start,
                                 end=start + dt.timedelta(hours=1))
        v.crew.add(technician)
    not_mine = Visit.objects.create(organization=org, work_order=wo, start=when[0],
                                    end=when[0] + dt.timedelta(hours=1))
    not_mine.crew.add(office)
    assert [v.start for v in visits_for_technician(member=technician)] == when[:2]
