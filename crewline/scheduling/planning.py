"""Route planning: who does which visit when, in what order, with the least travel.

``plan`` takes a ``Problem`` (technicians with the spans of the day they are free, the visits
to place, the visits that stay where they are, a travel matrix) and returns a ``Plan``: each
technician's ordered stops with arrival, start and end, the drive before each stop and the time
waited, and what could not be placed with the reason. It knows nothing of the database: the
board's selectors build the problem from it, and the same problem comes from a benchmark's
instance.

The solver is PyVRP (hybrid genetic search for vehicle routing with time windows; MIT; wheels
on PyPI). Hard rules:

- a visit starts inside its window (the customer's window), and ends inside a span its
  technician works (working hours, less time off and the visits that stay);
- a visit needs technicians who have its required skills (for a crew, the crew together);
- a visit needing a crew of two or more gets that many technicians at the same time: those
  are placed first, one by one, at the earliest time in their window where enough technicians
  are free (fewest added drive from their homes), and then stay where they are like a visit
  under way;
- visits under way or locked (``Fixed``) stay with their technician at their time: they cut
  the technician's day into spans, and each span starts where the visit before it ends.

The objective is the total drive time. Every visit is optional to the solver, at a cost far
above any drive, so it places all it can and the rest come back as unplaced: ``NO_LOCATION``,
``NO_SKILL``, ``NO_WINDOW`` (nobody with the skills is free inside its window), ``NO_CAPACITY``
(someone could be, but not with the rest of the day placed).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

NO_LOCATION = "no_location"
NO_SKILL = "no_skill"
NO_WINDOW = "no_window"
NO_CAPACITY = "no_capacity"
REASONS = (NO_LOCATION, NO_SKILL, NO_WINDOW, NO_CAPACITY)

# Leaving a visit out costs this much (seconds of drive): more than any one visit adds, and
# small enough beside the solver's penalty for lateness that an overfull day drops visits
# rather than coming back late (at 10**9 PyVRP keeps every visit and returns routes that run
# late: measured on bench/routes.py's day of 452 hours of work for 450 hours of people).
DROP_COST = 10 ** 6
# An edge a technician may not take (into a visit they lack the skills for).
FORBIDDEN = 10 ** 12
# How finely a crew's start is searched inside its window (seconds).
CREW_STEP = 15 * 60
DEFAULT_SECONDS = 2.0


@dataclass(frozen=True)
class Technician:
    """A technician's day: ``spans`` are ``(start, end)`` in seconds from the plan's origin,
    when they work (a split shift has two); ``home`` indexes the matrix (None: the day starts
    and ends at the first and last visit)."""

    id: int
    spans: tuple[tuple[int, int], ...]
    home: int | None = None
    skills: frozenset[int] = frozenset()
    capacity: int | None = None


@dataclass(frozen=True)
class Job:
    """A visit to place: at ``point`` (matrix index, None: no coordinates), ``duration``
    seconds, starting inside ``window`` (seconds; None: any time its technician works)."""

    id: int
    point: int | None
    duration: int
    window: tuple[int, int] | None = None
    skills: frozenset[int] = frozenset()
    crew_size: int = 1
    demand: int = 0
    # Who has it now: a plan keeps it with them where that costs no drive (``_keep_crews``).
    assigned: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Fixed:
    """A visit that stays: ``technician`` is at ``point`` from ``start`` to ``end``."""

    id: int
    technician: int
    point: int | None
    start: int
    end: int


@dataclass
class Problem:
    technicians: Sequence[Technician]
    jobs: Sequence[Job]
    seconds: np.ndarray  # drive seconds between matrix points: the schedule keeps these
    metres: np.ndarray | None = None
    fixed: Sequence[Fixed] = ()
    # What the solver makes least (default: ``seconds``): the exact drive, where ``seconds``
    # are rounded up to the minutes a schedule is written in.
    cost: np.ndarray | None = None


@dataclass(frozen=True)
class Stop:
    job: int
    technician: int
    arrive: int
    start: int
    end: int
    drive: int  # seconds from the stop (or home) before
    metres: int
    wait: int  # seconds between arriving and starting
    fixed: bool = False


@dataclass
class Plan:
    routes: dict[int, list[Stop]] = field(default_factory=dict)
    unplaced: list[tuple[int, str]] = field(default_factory=list)
    solve_seconds: float = 0.0

    @property
    def drive(self) -> int:
        return sum(s.drive for stops in self.routes.values() for s in stops) + sum(
            self.home_drive.values())

    @property
    def metres(self) -> int:
        return sum(s.metres for stops in self.routes.values() for s in stops) + sum(
            self.home_metres.values())

    home_drive: dict[int, int] = field(default_factory=dict)  # the drive home, per technician
    home_metres: dict[int, int] = field(default_factory=dict)


# --- Spans: a technician's day less what stays ------------------------------------------------

@dataclass(frozen=True)
class _Span:
    technician: int
    start: int
    end: int
    origin: int | None  # matrix point it starts from (None: anywhere)
    finish: int | None  # matrix point it ends at (None: anywhere)


def _spans(tech: Technician, fixed: list[Fixed]) -> list[_Span]:
    """The technician's free spans, each from where they are to where they must be next."""
    spans: list[_Span] = []
    for start, end in sorted(tech.spans):
        cursor, origin = start, tech.home
        for f in sorted((f for f in fixed if f.start < end and f.end > start),
                        key=lambda f: f.start):
            if f.start > cursor:
                spans.append(_Span(tech.id, cursor, f.start, origin, f.point))
            cursor, origin = max(cursor, f.end), f.point
        if end > cursor:
            spans.append(_Span(tech.id, cursor, end, origin, tech.home))
    return spans


def _drive(seconds: np.ndarray, a: int | None, b: int | None) -> int:
    return 0 if a is None or b is None else int(seconds[a, b])


def _fits(span: _Span, job: Job, start: int, seconds: np.ndarray) -> bool:
    """Could the job start at ``start`` in ``span`` with nothing else in it?"""
    return (start - _drive(seconds, span.origin, job.point) >= span.start
            and start + job.duration + _drive(seconds, job.point, span.finish) <= span.end)


def _earliest(span: _Span, job: Job, seconds: np.ndarray) -> int | None:
    """The earliest start of ``job`` alone in ``span`` inside its window, or None."""
    lo, hi = job.window or (span.start, span.end)
    start = max(lo, span.start + _drive(seconds, span.origin, job.point))
    if start > hi:
        return None
    return start if _fits(span, job, start, seconds) else None


# --- Crews of two or more, placed first -----------------------------------------------------

def _place_crew(job: Job, techs: dict[int, Technician], fixed: dict[int, list[Fixed]],
                seconds: np.ndarray) -> list[int] | None:
    """Technicians for ``job`` at the earliest start that enough of them can make (the nearest
    first, those adding a missing skill before the others), recorded as fixed; or None."""
    lo, hi = job.window or (min((s for t in techs.values() for s, _e in t.spans), default=0),
                            max((e for t in techs.values() for _s, e in t.spans), default=0))
    for start in range(lo, hi + 1, CREW_STEP):
        free = []
        for tech in techs.values():
            for span in _spans(tech, fixed[tech.id]):
                if span.start <= start < span.end and _fits(span, job, start, seconds):
                    free.append((_drive(seconds, span.origin, job.point), tech.id, tech))
                    break
        free.sort()
        crew, missing = [], set(job.skills)
        for _d, _id, tech in sorted(free, key=lambda f: (not (f[2].skills & missing), f[0])):
            if len(crew) == job.crew_size:
                break
            crew.append(tech)
            missing -= tech.skills
        if len(crew) == job.crew_size and not missing:
            for tech in crew:
                fixed[tech.id].append(Fixed(job.id, tech.id, job.point, start,
                                            start + job.duration))
            return [t.id for t in crew]
    return None


# --- The solver -----------------------------------------------------------------------------

def _reason(job: Job, techs: Sequence[Technician], spans: list[_Span],
            seconds: np.ndarray) -> str | None:
    """Why ``job`` can be nobody's, before solving, or None."""
    if job.point is None:
        return NO_LOCATION
    if job.crew_size == 1:
        able = {t.id for t in techs if job.skills <= t.skills}
    else:
        union = frozenset().union(*(t.skills for t in techs)) if techs else frozenset()
        able = {t.id for t in techs} if job.skills <= union else set()
    if not able or len(able) < job.crew_size:
        return NO_SKILL
    if not any(s.technician in able and _earliest(s, job, seconds) is not None for s in spans):
        return NO_WINDOW
    return None


# The share of a plan's time kept for finishing it after the search (see ``plan``).
FINISH_SHARE = 0.02


def plan(problem: Problem, *, seconds: float = DEFAULT_SECONDS, seed: int = 1) -> Plan:
    """The plan of ``problem``, searched for ``seconds`` at most."""
    started = time.perf_counter()
    matrix = np.asarray(problem.seconds, dtype=np.int64)
    metres = (np.asarray(problem.metres, dtype=np.int64) if problem.metres is not None
              else matrix)
    techs = {t.id: t for t in problem.technicians}
    fixed: dict[int, list[Fixed]] = defaultdict(list)
    for f in problem.fixed:
        if f.technician in techs:
            fixed[f.technician].append(f)
    result = Plan()
    fixed_jobs: set[int] = set()

    def spans_now() -> list[_Span]:
        return [s for t in techs.values() for s in _spans(t, fixed[t.id])]

    singles: list[Job] = []
    crews = sorted((j for j in problem.jobs if j.crew_size > 1),
                   key=lambda j: (j.window[1] if j.window else 1 << 62, j.id))
    for job in crews:
        reason = _reason(job, problem.technicians, spans_now(), matrix)
        if reason is None and _place_crew(job, techs, fixed, matrix) is None:
            reason = NO_CAPACITY
        if reason:
            result.unplaced.append((job.id, reason))
        else:
            fixed_jobs.add(job.id)
    spans = spans_now()
    for job in problem.jobs:
        if job.crew_size > 1:
            continue
        reason = _reason(job, problem.technicians, spans, matrix)
        if reason:
            result.unplaced.append((job.id, reason))
        else:
            singles.append(job)

    cost = np.asarray(problem.cost, dtype=np.int64) if problem.cost is not None else matrix
    # The search stops short of the time allowed by what the plan takes to finish after it
    # (crews kept together, times worked out, the result built): the whole call keeps to it.
    routed = _solve(singles, spans, techs, matrix, cost,
                    deadline=started + seconds * (1 - FINISH_SHARE), seed=seed)
    routed = _keep_crews(routed, spans, techs, {j.id: j for j in singles})
    placed = {stop_job for stops in routed.values() for stop_job, _ in stops}
    result.unplaced.extend((j.id, NO_CAPACITY) for j in singles if j.id not in placed)
    _schedule(result, routed, spans, techs, fixed, {j.id: j for j in singles}, matrix, metres)
    result.unplaced.sort(key=lambda u: u[0])
    result.solve_seconds = time.perf_counter() - started
    return result


class _Deadline:
    """PyVRP's stopping criterion at a moment (``time.perf_counter``), so that the search's
    own start (an exhaustive local search of a first solution) counts in the time allowed;
    PyVRP's ``MaxRuntime`` starts its clock after it."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self, best_cost: int) -> bool:
        return time.perf_counter() >= self.at


def _solve(jobs: list[Job], spans: list[_Span], techs: dict[int, Technician],
           matrix: np.ndarray, cost: np.ndarray, *, deadline: float, seed: int
           ) -> dict[int, list[tuple[int, int]]]:
    """``{span index: [(job id, start), ...]}`` from PyVRP, searched until ``deadline``."""
    if not jobs or not spans:
        return {}
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType, solve

    # Matrix points of the solver's locations: each span's origin and finish (None: a place
    # with no drive to or from anywhere), then one location per job.
    points: list[int | None] = []
    depots: list[Depot] = []
    vehicle_types: list[VehicleType] = []
    profiles: dict[frozenset[int], int] = {}
    depot_of: dict[int | None, int] = {}

    def depot(point: int | None) -> int:
        if point not in depot_of:
            depot_of[point] = len(depots)
            points.append(point)
            depots.append(Depot(location=len(points) - 1))
        return depot_of[point]

    # Spans alike (the same places, hours, skills and capacity: a team that starts from one
    # yard) are one vehicle type with as many vehicles: the search does not try swapping the
    # same day between identical vehicles, and each route goes to one of the type's spans.
    span_profiles: list[frozenset[int]] = []
    type_spans: list[list[int]] = []
    type_of: dict[tuple, int] = {}
    for index, span in enumerate(spans):
        tech = techs[span.technician]
        start, end = depot(span.origin), depot(span.finish)
        profile = profiles.setdefault(tech.skills, len(profiles))
        key = (start, end, span.start, span.end, profile, tech.capacity)
        if key not in type_of:
            type_of[key] = len(type_spans)
            type_spans.append([])
            span_profiles.append(tech.skills)
        type_spans[type_of[key]].append(index)
    for (start, end, early, late, profile, capacity), k in type_of.items():
        vehicle_types.append(VehicleType(
            num_available=len(type_spans[k]),
            capacity=[capacity] if capacity is not None else [0], start_depot=start,
            end_depot=end, tw_early=early, tw_late=late, profile=profile,
            unit_distance_cost=1))
    first_client = len(points)
    clients = []
    for job in jobs:
        points.append(job.point)
        lo, hi = job.window or (0, 1 << 40)
        clients.append(Client(location=len(points) - 1, delivery=[job.demand],
                              service_duration=job.duration, tw_early=lo, tw_late=hi,
                              prize=DROP_COST, required=False))
    if all(tech.capacity is None for tech in techs.values()):
        # No capacities: every vehicle carries as much as it is given.
        total = sum(j.demand for j in jobs)
        vehicle_types = [_with_capacity(v, max(total, 1)) for v in vehicle_types]

    index = np.array([p if p is not None else -1 for p in points])
    known = index >= 0

    def over_points(source: np.ndarray) -> np.ndarray:
        out = np.zeros((len(points), len(points)), dtype=np.int64)
        out[np.ix_(known, known)] = source[np.ix_(index[known], index[known])]
        return out

    base, cost_base = over_points(matrix), over_points(cost)
    distance_matrices, duration_matrices = [], []
    for skills in sorted(profiles, key=profiles.get):
        costs = cost_base.copy()
        for k, job in enumerate(jobs):
            if not job.skills <= skills:
                column = first_client + k
                costs[:, column] = FORBIDDEN
                costs[column, column] = 0
        distance_matrices.append(costs)
        duration_matrices.append(base)
    data = ProblemData(locations=[Location(0.0, 0.0) for _ in points], clients=clients,
                       depots=depots, vehicle_types=vehicle_types,
                       distance_matrices=distance_matrices,
                       duration_matrices=duration_matrices)
    # What is left, less a margin for reading the routes back.
    solution = solve(data, stop=_Deadline(deadline - 0.2), seed=seed,
                     collect_stats=False).best
    routed: dict[int, list[tuple[int, int]]] = {}
    for route in solution.routes():
        if not route.is_feasible():
            # Late somewhere (or over capacity): none of its visits is placed, rather than a
            # day that cannot be kept; they come back as NO_CAPACITY.
            continue
        kind = route.vehicle_type()
        skills = span_profiles[kind]
        span = type_spans[kind].pop(0)
        stops = []
        for activity in route.schedule():
            if activity.is_client():
                job = jobs[activity.idx]
                if not job.skills <= skills:
                    raise RuntimeError("The solver used a technician without the skills.")
                stops.append((job.id, int(activity.start_time)))
        if stops:
            routed[span] = stops
    return routed


def _keep_crews(routed: dict[int, list[tuple[int, int]]], spans: list[_Span],
                techs: dict[int, Technician], jobs: dict[int, Job]
                ) -> dict[int, list[tuple[int, int]]]:
    """Hand each planned day to the technician who has most of its visits now, among those
    whose day is the same (same free spans from the same places, the skills its visits need):
    the drive is the same, and fewer visits change hands. An assignment problem, solved by
    SciPy's ``linear_sum_assignment``."""
    from scipy.optimize import linear_sum_assignment

    by_tech: dict[int, list[int]] = defaultdict(list)
    for index, span in enumerate(spans):
        by_tech[span.technician].append(index)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for tech_id, indexes in by_tech.items():
        groups[tuple((spans[i].start, spans[i].end, spans[i].origin, spans[i].finish)
                     for i in indexes)].append(tech_id)
    moved: dict[int, list[tuple[int, int]]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        days = [[job for i in by_tech[t] for job, _start in routed.get(i, [])]
                for t in members]
        if not any(days):
            continue
        score = np.zeros((len(members), len(members)))
        for a, day in enumerate(days):
            needs = frozenset().union(*(jobs[j].skills for j in day)) if day else frozenset()
            for b, tech_id in enumerate(members):
                if not needs <= techs[tech_id].skills:
                    score[a, b] = -1e9
                    continue
                score[a, b] = sum(1 for j in day if tech_id in jobs[j].assigned)
        rows, cols = linear_sum_assignment(score, maximize=True)
        for a, b in zip(rows, cols, strict=True):
            if a == b or score[a, b] < 0:
                continue
            for i, k in zip(by_tech[members[a]], by_tech[members[b]], strict=True):
                moved[k] = routed.get(i, [])
    if not moved:
        return routed
    kept = dict(routed)
    for k in moved:
        kept.pop(k, None)
    kept.update({k: v for k, v in moved.items() if v})
    return kept


def _with_capacity(vehicle, capacity: int):
    from pyvrp import VehicleType

    return VehicleType(num_available=vehicle.num_available, capacity=[capacity],
                       start_depot=vehicle.start_depot,
                       end_depot=vehicle.end_depot, tw_early=vehicle.tw_early,
                       tw_late=vehicle.tw_late, profile=vehicle.profile,
                       unit_distance_cost=vehicle.unit_distance_cost)


def _schedule(result: Plan, routed: dict[int, list[tuple[int, int]]], spans: list[_Span],
              techs: dict[int, Technician], fixed: dict[int, list[Fixed]],
              jobs: dict[int, Job], matrix: np.ndarray, metres: np.ndarray) -> None:
    """Each technician's day in order, the visits that stay among the planned ones, with the
    drive to each stop worked out from where they were before."""
    for tech_id, tech in techs.items():
        items: list[tuple[int, int, int | None, bool]] = []  # (start, job, point, fixed)
        for f in fixed[tech_id]:
            items.append((f.start, f.id, f.point, True))
        for span_index, stops in routed.items():
            if spans[span_index].technician == tech_id:
                items.extend((start, job, jobs[job].point, False) for job, start in stops)
        if not items:
            continue
        items.sort()
        durations = {f.id: f.end - f.start for f in fixed[tech_id]}
        # They leave as soon as a visit is done: the wait is before the next one.
        here, free_at, day = tech.home, None, []
        for start, job_id, point, is_fixed in items:
            drive = _drive(matrix, here, point)
            duration = durations[job_id] if is_fixed else jobs[job_id].duration
            arrive = start if free_at is None else min(start, free_at + drive)
            day.append(Stop(job=job_id, technician=tech_id, arrive=arrive, start=start,
                            end=start + duration, drive=drive,
                            metres=_drive(metres, here, point), wait=start - arrive,
                            fixed=is_fixed))
            here, free_at = point, start + duration
        result.routes[tech_id] = day
        result.home_drive[tech_id] = _drive(matrix, here, tech.home)
        result.home_metres[tech_id] = _drive(metres, here, tech.home)



def plan_problems(problem: Problem, result: Plan) -> list[str]:
    """What in ``result`` breaks a hard rule of ``problem`` (empty: none). The tests, the
    benchmark and applying a plan ask it."""
    found: list[str] = []
    jobs = {j.id: j for j in problem.jobs}
    techs = {t.id: t for t in problem.technicians}
    matrix = np.asarray(problem.seconds)
    crews: dict[int, list[Stop]] = defaultdict(list)
    for tech_id, stops in result.routes.items():
        tech = techs[tech_id]
        here, free_at = tech.home, None
        for stop in stops:
            job = jobs.get(stop.job)
            if job is None:
                here, free_at = (next((f.point for f in problem.fixed if f.id == stop.job),
                                      here), stop.end)
                continue
            crews[job.id].append(stop)
            if stop.end - stop.start != job.duration:
                found.append(f"visit {job.id}: lasts {stop.end - stop.start} s, not "
                             f"{job.duration}")
            if job.window and not job.window[0] <= stop.start <= job.window[1]:
                found.append(f"visit {job.id}: starts outside its window")
            if not job.skills <= tech.skills and job.crew_size == 1:
                found.append(f"visit {job.id}: technician {tech_id} lacks a skill")
            leave = stop.start - _drive(matrix, here, job.point)
            if free_at is not None and leave < free_at:
                found.append(f"visit {job.id}: technician {tech_id} cannot be there in time")
            if not any(s <= leave and stop.end <= e for s, e in tech.spans) and (
                    free_at is None or not any(s <= free_at and stop.end <= e
                                               for s, e in tech.spans)):
                found.append(f"visit {job.id}: outside technician {tech_id}'s hours")
            here, free_at = job.point, stop.end
    for job_id, stops in crews.items():
        job = jobs[job_id]
        if len(stops) != job.crew_size:
            found.append(f"visit {job_id}: {len(stops)} technicians, needs {job.crew_size}")
        if len({s.start for s in stops}) > 1:
            found.append(f"visit {job_id}: its crew starts at different times")
        skills = frozenset().union(*(techs[s.technician].skills for s in stops))
        if not job.skills <= skills:
            found.append(f"visit {job_id}: its crew lacks a skill")
    placed = set(crews) | {j for j, _r in result.unplaced}
    found += [f"visit {j.id}: neither placed nor said why" for j in problem.jobs
              if j.id not in placed]
    return found


# --- Suggestions: one visit into the day as it stands ------------------------------------------

WINDOW_BENT = "window"


@dataclass(frozen=True)
class Suggestion:
    technician: int
    start: int
    added_drive: int  # seconds more than the day drives without the visit
    bent: tuple[str, ...] = ()  # rules it bends (WINDOW_BENT: starts outside the window)


def suggest(problem: Problem, job: Job, *, limit: int = 3) -> list[Suggestion]:
    """The best places for ``job`` in the day as it stands (``problem.fixed`` holds every visit
    already on it): for each technician with the skills, the free span where it adds the least
    drive, at the earliest start there; the ``limit`` best, least added drive first. Bending the
    customer's window is offered only when nothing keeps it."""
    if job.point is None:
        return []
    matrix = np.asarray(problem.seconds, dtype=np.int64)
    fixed: dict[int, list[Fixed]] = defaultdict(list)
    for f in problem.fixed:
        fixed[f.technician].append(f)
    options: list[Suggestion] = []
    relaxed: list[Suggestion] = []
    loose = Job(id=job.id, point=job.point, duration=job.duration, skills=job.skills)
    for tech in problem.technicians:
        if not job.skills <= tech.skills:
            continue
        best: Suggestion | None = None
        fallback: Suggestion | None = None
        for span in _spans(tech, fixed[tech.id]):
            added = (_drive(matrix, span.origin, job.point) + _drive(matrix, job.point, span.finish)
                     - _drive(matrix, span.origin, span.finish))
            start = _earliest(span, job, matrix)
            if start is not None and (best is None or added < best.added_drive):
                best = Suggestion(tech.id, start, added)
            start = _earliest(span, loose, matrix) if job.window else None
            if start is not None and (fallback is None or added < fallback.added_drive):
                fallback = Suggestion(tech.id, start, added, bent=(WINDOW_BENT,))
        if best:
            options.append(best)
        elif fallback:
            relaxed.append(fallback)
    options.sort(key=lambda s: (s.added_drive, s.start, s.technician))
    if not options:
        options = sorted(relaxed, key=lambda s: (s.added_drive, s.start, s.technician))
    return options[:limit]
