"""The dashboard's rules for "late", at their boundaries, in the organization's time zone."""

from __future__ import annotations

import datetime as dt

import pytest

from crewline.dashboard import selectors
from crewline.dashboard.tests.conftest import at
from crewline.workorders.models import Status, WorkOrder
from crewline.workorders.services import (
    visit_arrive,
    visit_cancel,
    visit_complete,
    visit_en_route,
)

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)


def test_it_counts_a_visit_not_reached_as_late_only_after_its_window_ends(org, make_visit,
                                                                          technician):
    visit = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])

    assert list(selectors.late_arrivals(org, at(20, 10))) == []
    assert list(selectors.late_arrivals(org, at(20, 10) + MINUTE)) == [visit]


def test_it_counts_a_crew_still_on_the_way_at_the_end_of_the_window_as_late(org, make_visit,
                                                                            technician):
    visit = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    visit_en_route(visit=visit, by=technician)

    assert list(selectors.late_arrivals(org, at(20, 10))) == []
    assert list(selectors.late_arrivals(org, at(20, 10, 1))) == [visit]


def test_it_does_not_count_visits_reached_finished_cancelled_or_unbooked(org, make_visit,
                                                                         technician, office):
    on_site = make_visit(start=at(20, 8), end=at(20, 9), crew=[technician])
    visit_arrive(visit=on_site, by=technician, device_time=at(20, 8, 50))
    cancelled = make_visit(start=at(20, 8), end=at(20, 9), crew=[technician])
    visit_cancel(visit=cancelled, by=office, reason="Customer away")
    make_visit(start=None, end=None)

    assert list(selectors.late_arrivals(org, at(20, 12))) == []


def test_it_reads_the_window_in_the_organizations_time_zone(org, make_visit, technician):
    # 10:00 in Chicago is 16:00 UTC; at 15:30 UTC the window has not ended yet.
    visit = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    utc = dt.UTC

    assert list(selectors.late_arrivals(org, dt.datetime(2026, 11, 20, 15, 30, tzinfo=utc))) == []
    assert list(selectors.late_arrivals(org, dt.datetime(2026, 11, 20, 16, 1, tzinfo=utc))) == [
        visit]


def test_it_counts_a_visit_on_site_past_its_planned_duration_as_running_over(org, make_visit,
                                                                             technician):
    # One hour planned; arrived 9:30, so it should be done by 10:30 whatever the window says.
    visit = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    visit_arrive(visit=visit, by=technician, device_time=at(20, 9, 30))

    assert selectors.overruns(org, at(20, 10, 30)) == []
    late = selectors.overruns(org, at(20, 10, 31))
    assert late == [visit]
    assert late[0].due_at == at(20, 10, 30)
    assert late[0].over == MINUTE


def test_it_does_not_count_a_finished_visit_as_running_over(org, make_visit, technician):
    visit = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    visit_arrive(visit=visit, by=technician, device_time=at(20, 9))
    visit_complete(visit=visit, by=technician, device_time=at(20, 11))

    assert selectors.overruns(org, at(20, 12)) == []


def test_it_counts_open_work_orders_as_overdue_from_the_day_after_the_due_date(
        org, make_work_order):
    wo = make_work_order(due_date=dt.date(2026, 11, 20))
    done = make_work_order(due_date=dt.date(2026, 11, 19))
    WorkOrder.objects.filter(pk=done.pk).update(status=Status.COMPLETED)

    assert list(selectors.overdue_work_orders(org, dt.date(2026, 11, 20))) == []
    assert list(selectors.overdue_work_orders(org, dt.date(2026, 11, 21))) == [wo]


def test_it_lists_late_work_on_the_page_by_the_organizations_day(office_client, make_work_order,
                                                                 time_machine):
    # 23:30 on the 20th in Chicago is already the 21st in UTC: due the 20th is not overdue yet.
    wo = make_work_order(title="Boiler service", due_date=dt.date(2026, 11, 20))
    time_machine.move_to(at(20, 23, 30), tick=False)
    page = office_client.get("/dashboard/").content.decode()
    assert "Nothing is late." in page

    time_machine.move_to(at(21, 0, 1), tick=False)
    page = office_client.get("/dashboard/").content.decode()
    assert "Past the due date" in page
    assert f'href="/work-orders/{wo.number}/"' in page


def test_it_counts_todays_visits_by_the_local_day_across_a_clock_change(org, make_visit,
                                                                        technician):
    # 8 March 2026 has 23 hours in Chicago: its last visit ends at 23:59 local, 05:59 UTC.
    make_visit(start=dt.datetime(2026, 3, 8, 23, 0, tzinfo=at(1, 0).tzinfo),
               end=dt.datetime(2026, 3, 8, 23, 59, tzinfo=at(1, 0).tzinfo), crew=[technician])
    make_visit(start=dt.datetime(2026, 3, 9, 0, 30, tzinfo=at(1, 0).tzinfo),
               end=dt.datetime(2026, 3, 9, 1, 30, tzinfo=at(1, 0).tzinfo), crew=[technician])
    start, end = selectors.day_bounds(dt.date(2026, 3, 8), org.tzinfo)

    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=23)
    assert selectors.visits_by_status(org, dt.date(2026, 3, 8))["scheduled"] == 1
    assert selectors.visits_by_status(org, dt.date(2026, 3, 9))["scheduled"] == 1


def test_it_marks_a_technician_whose_visit_runs_over(office_client, make_visit, technician,
                                                     time_machine):
    visit = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    visit_arrive(visit=visit, by=technician, device_time=at(20, 9))
    time_machine.move_to(at(20, 10), tick=False)
    assert "running over" not in office_client.get("/dashboard/").content.decode()

    time_machine.move_to(at(20, 10, 1), tick=False)
    page = office_client.get("/dashboard/").content.decode()
    assert "running over" in page and "On site longer than planned" in page
