"""Route planning's hard rules, each tried on a small day and broken on purpose."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from crewline.scheduling import planning, travel
from crewline.scheduling.planning import Fixed, Job, Problem, Technician

H = 3600
DAY = ((8 * H, 17 * H),)


def line_matrix(n: int, step: int = 10 * 60) -> np.ndarray:
    """Points 0..n-1 on a line, ``step`` seconds apart."""
    idx = np.arange(n)
    return np.abs(idx[:, None] - idx[None, :]) * step


def solve(problem: Problem) -> planning.Plan:
    result = planning.plan(problem, seconds=0.3)
    assert planning.plan_problems(problem, result) == []
    return result


def where(result: planning.Plan) -> dict[int, tuple[int, int]]:
    """``{job: (technician, start)}``."""
    return {s.job: (t, s.start) for t, stops in result.routes.items() for s in stops}


def test_a_visit_starts_inside_its_window_and_the_drive_is_counted():
    problem = Problem(technicians=[Technician(1, DAY, home=0)],
                      jobs=[Job(1, point=3, duration=H, window=(13 * H, 14 * H)),
                            Job(2, point=1, duration=H)],
                      seconds=line_matrix(4))
    result = solve(problem)
    placed = where(result)
    assert 13 * H <= placed[1][1] <= 14 * H
    stops = result.routes[1]
    assert [s.job for s in stops] == [2, 1]
    assert stops[0].drive == 10 * 60 and stops[1].drive == 20 * 60
    assert result.home_drive[1] == 30 * 60
    assert result.drive == 60 * 60
    assert result.unplaced == []


def test_a_visit_longer_than_anyones_day_is_not_placed_outside_the_hours():
    problem = Problem(technicians=[Technician(1, ((8 * H, 12 * H),), home=0)],
                      jobs=[Job(1, point=1, duration=5 * H)], seconds=line_matrix(2))
    assert solve(problem).unplaced == [(1, planning.NO_WINDOW)]


def test_time_off_splits_the_day_and_nothing_is_placed_in_it():
    # Free 08-12 and 13-17: a 2-hour visit whose window is 11:00-12:30 cannot start before
    # 11:00 nor end in the hour off.
    problem = Problem(technicians=[Technician(1, ((8 * H, 12 * H), (13 * H, 17 * H)), home=0)],
                      jobs=[Job(1, point=1, duration=2 * H, window=(11 * H, 12 * H + 1800))],
                      seconds=line_matrix(2))
    assert solve(problem).unplaced == [(1, planning.NO_WINDOW)]
    fits = Problem(technicians=problem.technicians,
                   jobs=[Job(1, point=1, duration=2 * H, window=(9 * H, 13 * H + 1800))],
                   seconds=line_matrix(2))
    start = where(solve(fits))[1][1]
    assert start + 2 * H + 600 <= 12 * H or start >= 13 * H + 600


def test_skills_go_to_who_has_them_and_nobody_else():
    techs = [Technician(1, DAY, home=0, skills=frozenset({7})),
             Technician(2, DAY, home=1, skills=frozenset())]
    jobs = [Job(1, point=1, duration=H, skills=frozenset({7})),
            Job(2, point=1, duration=H, skills=frozenset({9}))]
    result = solve(Problem(technicians=techs, jobs=jobs, seconds=line_matrix(2)))
    # Technician 2 lives at the site, but only 1 has the skill.
    assert where(result)[1][0] == 1
    assert result.unplaced == [(2, planning.NO_SKILL)]


def test_each_visit_goes_to_the_nearest_technician():
    techs = [Technician(1, DAY, home=0), Technician(2, DAY, home=9)]
    jobs = [Job(1, point=1, duration=H), Job(2, point=8, duration=H)]
    result = solve(Problem(technicians=techs, jobs=jobs, seconds=line_matrix(10)))
    assert where(result)[1][0] == 1 and where(result)[2][0] == 2
    assert result.drive == 4 * 10 * 60


def test_a_crew_visit_gets_two_technicians_at_the_same_time_with_the_skill_between_them():
    techs = [Technician(1, DAY, home=0, skills=frozenset({1})),
             Technician(2, DAY, home=0, skills=frozenset({2})),
             Technician(3, DAY, home=0)]
    jobs = [Job(1, point=1, duration=2 * H, window=(9 * H, 10 * H), crew_size=2,
                skills=frozenset({1, 2})),
            Job(2, point=2, duration=H)]
    result = solve(Problem(technicians=techs, jobs=jobs, seconds=line_matrix(3)))
    crew = sorted((t, s.start) for t, stops in result.routes.items() for s in stops
                  if s.job == 1)
    assert [t for t, _ in crew] == [1, 2]
    assert crew[0][1] == crew[1][1] and 9 * H <= crew[0][1] <= 10 * H
    assert result.unplaced == []


def test_a_crew_visit_without_enough_people_is_not_placed():
    techs = [Technician(1, DAY, home=0)]
    jobs = [Job(1, point=1, duration=H, crew_size=2)]
    assert solve(Problem(technicians=techs, jobs=jobs, seconds=line_matrix(2))).unplaced == [
        (1, planning.NO_SKILL)]


def test_a_visit_under_way_stays_and_the_rest_fit_around_it():
    fixed = [Fixed(100, technician=1, point=2, start=9 * H, end=12 * H)]
    problem = Problem(technicians=[Technician(1, DAY, home=0)],
                      jobs=[Job(1, point=1, duration=H), Job(2, point=3, duration=H)],
                      seconds=line_matrix(4), fixed=fixed)
    result = solve(problem)
    stops = result.routes[1]
    assert [s.job for s in stops if s.fixed] == [100]
    fixed_stop = next(s for s in stops if s.job == 100)
    assert (fixed_stop.start, fixed_stop.end) == (9 * H, 12 * H)
    for stop in stops:
        if not stop.fixed:
            assert stop.end + 600 <= 9 * H or stop.start >= 12 * H + 600


def test_what_does_not_fit_the_day_says_so():
    problem = Problem(technicians=[Technician(1, DAY, home=0)],
                      jobs=[Job(1, point=1, duration=6 * H), Job(2, point=1, duration=6 * H),
                            Job(3, point=None, duration=H)],
                      seconds=line_matrix(2))
    result = solve(problem)
    assert len(where(result)) == 1
    assert sorted(r for _j, r in result.unplaced) == [planning.NO_CAPACITY,
                                                      planning.NO_LOCATION]


def test_the_checker_finds_a_broken_plan():
    problem = Problem(technicians=[Technician(1, DAY, home=0)],
                      jobs=[Job(1, point=1, duration=H, window=(9 * H, 10 * H))],
                      seconds=line_matrix(2))
    late = planning.Plan(routes={1: [planning.Stop(job=1, technician=1, arrive=15 * H,
                                                   start=15 * H, end=16 * H, drive=600,
                                                   metres=0, wait=0)]})
    assert planning.plan_problems(problem, late) == ["visit 1: starts outside its window"]
    assert planning.plan_problems(problem, planning.Plan()) == [
        "visit 1: neither placed nor said why"]


# --- Travel --------------------------------------------------------------------------------

CHICAGO, MILWAUKEE = (41.8781, -87.6298), (43.0389, -87.9065)


def test_the_estimate_is_the_straight_line_times_the_road_factor_at_the_speed():
    matrix = travel.estimate([CHICAGO, MILWAUKEE], road_factor=1.3, speed_kmh=50)
    km = travel.great_circle_km([CHICAGO, MILWAUKEE])[0, 1]
    assert 130 < km < 132
    assert km == pytest.approx(travel.haversine_km(CHICAGO, MILWAUKEE))
    assert matrix.metres[0, 1] == round(km * 1.3 * 1000)
    # Plus the buffer between two places, as the board's travel warning counts it.
    assert matrix.seconds[0, 1] == round(km * 1.3 / 50 * 3600 + 600)
    assert matrix.seconds[0, 1] == round(travel.drive_time(CHICAGO, MILWAUKEE, road_factor=1.3,
                                                           speed_kmh=50).total_seconds())
    assert matrix.seconds[0, 0] == 0 and matrix.source == "estimate"
    with pytest.raises(ValueError):
        travel.estimate([CHICAGO], road_factor=0.5)


class _Table(BaseHTTPRequestHandler):
    calls: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        _Table.calls.append(self.path)
        n = self.path.split("/driving/")[1].split("?")[0].count(";") + 1
        body = {"code": "Ok", "durations": [[0 if i == j else 777 for j in range(n)]
                                            for i in range(n)],
                "distances": [[0 if i == j else 9000 for j in range(n)] for i in range(n)]}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Table)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_configured_routing_server_gives_the_drive_times(osrm, settings):
    settings.ROUTING_URL = osrm
    _Table.calls.clear()
    matrix = travel.travel_matrix([CHICAGO, MILWAUKEE])
    assert matrix.source == "osrm"
    assert matrix.seconds[0, 1] == 777 and matrix.metres[1, 0] == 9000
    assert _Table.calls == ["/table/v1/driving/-87.629800,41.878100;-87.906500,43.038900"
                            "?annotations=duration%2Cdistance"]


def test_an_unreachable_routing_server_falls_back_to_the_estimate(settings):
    with ThreadingHTTPServer(("127.0.0.1", 0), _Table) as server:
        port = server.server_address[1]
    settings.ROUTING_URL = f"http://127.0.0.1:{port}"  # closed: nothing listens there now
    matrix = travel.travel_matrix([CHICAGO, MILWAUKEE])
    assert matrix.source == "estimate"
    assert matrix.seconds[0, 1] > 0


def test_a_day_stays_with_who_has_its_visits_when_that_costs_no_drive():
    # Two technicians alike (home, hours, skills): whichever the solver picks, the visits stay
    # with the one who has them now.
    techs = [Technician(1, DAY, home=0), Technician(2, DAY, home=0),
             Technician(3, DAY, home=0, skills=frozenset({5}))]
    jobs = [Job(1, point=1, duration=H, assigned=frozenset({2})),
            Job(2, point=2, duration=H, assigned=frozenset({2})),
            Job(3, point=3, duration=H, assigned=frozenset({1}))]
    for seed in (1, 2, 3):
        result = planning.plan(Problem(technicians=techs, jobs=jobs, seconds=line_matrix(4)),
                               seconds=0.2, seed=seed)
        placed = where(result)
        # All on one route is least drive; it goes to the one who has most of them.
        assert {placed[j][0] for j in (1, 2, 3)} == {2}, seed


def test_the_solver_makes_the_exact_drive_least_and_the_schedule_keeps_the_rounded_one():
    exact = line_matrix(3, step=7 * 60)
    rounded = -(-exact // 300) * 300
    problem = Problem(technicians=[Technician(1, DAY, home=0)],
                      jobs=[Job(1, point=1, duration=H), Job(2, point=2, duration=H)],
                      seconds=rounded, cost=exact)
    result = solve(problem)
    # 7 and 14 minutes of drive, kept as 10 and 15 on the schedule, whichever way round.
    assert sorted(s.drive for s in result.routes[1]) == [600, 900]
    assert all(s.start % 300 == 0 for s in result.routes[1])


@pytest.mark.parametrize("capacity", [None, 10])
def test_technicians_alike_each_take_a_day_of_their_own(capacity):
    # Four technicians alike (one yard, the same hours): the solver sees them as one kind of
    # vehicle, four of it. Eight hours of work each, at the same morning hour: all four go.
    techs = [Technician(t, DAY, home=0, capacity=capacity) for t in (1, 2, 3, 4)]
    jobs = [Job(j, point=j, duration=8 * H, window=(8 * H + 600 * j, 8 * H + 600 * j + 600))
            for j in (1, 2, 3, 4)]
    result = solve(Problem(technicians=techs, jobs=jobs, seconds=line_matrix(5, step=60)))
    assert not result.unplaced
    assert sorted(t for t, _start in where(result).values()) == [1, 2, 3, 4]
