"""Each technician's state now, from open time entries and the visits' status."""

from __future__ import annotations

import pytest

from crewline.core.models import Role
from crewline.dashboard import selectors
from crewline.dashboard.tests.conftest import at
from crewline.factories import MemberFactory
from crewline.timesheets.services import break_end, break_start, clock_in, clock_out
from crewline.workorders.services import visit_arrive, visit_complete, visit_en_route

pytestmark = pytest.mark.django_db


def _state(org, member):
    return next(s for s in selectors.technician_states(org) if s.member == member)


def test_it_shows_a_technician_without_an_open_shift_as_off_shift(org, technician, office):
    clock_in(member=technician, by=office, at=at(20, 7))
    clock_out(member=technician, by=office, at=at(20, 15))

    state = _state(org, technician)
    assert (state.state, state.since, state.visit) == (selectors.OFF_SHIFT, None, None)


def test_it_shows_a_clocked_in_technician_since_the_start_of_the_shift(org, technician, office):
    clock_in(member=technician, by=office, at=at(20, 7, 15))

    state = _state(org, technician)
    assert (state.state, state.since) == (selectors.CLOCKED_IN, at(20, 7, 15))


def test_it_shows_a_break_while_it_is_open_and_the_shift_after_it(org, technician, office):
    clock_in(member=technician, by=office, at=at(20, 7))
    break_start(member=technician, by=office, at=at(20, 12))
    assert (_state(org, technician).state, _state(org, technician).since) == (
        selectors.ON_BREAK, at(20, 12))

    break_end(member=technician, by=office, at=at(20, 12, 30))
    assert _state(org, technician).state == selectors.CLOCKED_IN


def test_it_shows_the_job_a_technician_is_on_the_way_to(org, technician, office, make_visit):
    clock_in(member=technician, by=office, at=at(20, 7))
    visit = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    visit_en_route(visit=visit, by=technician)

    state = _state(org, technician)
    assert (state.state, state.visit) == (selectors.EN_ROUTE, visit)


def test_it_shows_the_job_on_site_since_the_arrival(org, technician, make_visit):
    first = make_visit(start=at(20, 8), end=at(20, 9), crew=[technician])
    visit_arrive(visit=first, by=technician, device_time=at(20, 8, 5))
    visit_complete(visit=first, by=technician, device_time=at(20, 8, 45))
    second = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    visit_en_route(visit=second, by=technician)
    visit_arrive(visit=second, by=technician, device_time=at(20, 9, 10))

    state = _state(org, technician)
    assert (state.state, state.visit, state.since) == (selectors.ON_SITE, second, at(20, 9, 10))
    assert state.visit.work_order.customer.name == "Maple Street Dental"


def test_it_shows_a_break_taken_on_site_as_a_break_at_that_job(org, technician, office,
                                                              make_visit):
    clock_in(member=technician, by=office, at=at(20, 7))
    visit = make_visit(start=at(20, 9), end=at(20, 12), crew=[technician])
    visit_arrive(visit=visit, by=technician, device_time=at(20, 9))
    break_start(member=technician, by=office, at=at(20, 10, 30))

    state = _state(org, technician)
    assert (state.state, state.visit, state.since) == (selectors.ON_BREAK, visit, at(20, 10, 30))


def test_it_lists_active_technicians_of_the_organization_only(org, technician, outsider):
    MemberFactory(organization=org, role=Role.TECHNICIAN, is_active=False)
    MemberFactory(organization=outsider.organization, role=Role.TECHNICIAN)

    assert [s.member for s in selectors.technician_states(org)] == [technician]


def test_it_lists_the_busiest_first(org, technician, make_visit, office):
    idle = MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Aaron Idle")
    visit = make_visit(start=at(20, 9), end=at(20, 10), crew=[technician])
    visit_arrive(visit=visit, by=technician, device_time=at(20, 9))

    assert [s.member for s in selectors.technician_states(org)] == [technician, idle]
