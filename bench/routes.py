"""Route planning measured: the product's planner (crewline.scheduling.planning, PyVRP) on the
56 Solomon VRPTW instances and on a contractor's day.

    bench/run routes                       both, 10 s an instance
    bench/run routes --seconds 2           quicker
    bench/run routes --only C1,R101        some instances (classes or names)
    bench/run routes --skip-solomon        the contractor's day alone

(a) Each Solomon instance goes through a thin adapter to the planner's own input (vehicles as
technicians working the depot's window from the depot, customers as visits with their service
time, window and demand; Euclidean distances times 100 as drive seconds), and the cost of the
plan, the routes' distance computed again from the coordinates, is compared with the
distance-only records in ``../shared/bench-data/vrptw/BKS-solomon.json``. Target: mean gap at
most 1.0% with at most 10 s an instance.

(b) A day of 50 technicians and 400 visits around a city, with skills, home bases and customer
windows on a third of them, as the board would hand it over: time to a plan and its total drive
against the same visits planned by hand (each on the skilled technician nearest their home
who has room left, in the order of their windows, not counting the drive: it places fewer and
keeps no window, so travel is compared per visit placed). Target: at most 10 s. (c) Suggest
(the best three places for one more visit) on a planned day of 300 visits: target under 1 s.
(d) The board benchmark's busy day (50 technicians, 400 visits), read from its database through
the product's own path and planned, against the day as it was scheduled by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import solvers  # noqa: E402  (bench/solvers.py: the instances, their reading and checking)

from crewline.scheduling import planning  # noqa: E402
from crewline.scheduling.travel import estimate  # noqa: E402

GAP_TARGET = 1.0
SECONDS_TARGET = 10.0


def solomon_problem(inst: solvers.Instance) -> planning.Problem:
    """The instance as the planner's input: matrix point 0 is the depot, i the customer i."""
    _x, _y, _d, ready, due, _s = inst.rows[0]
    scale = solvers.SCALE
    techs = [planning.Technician(id=v + 1, spans=((ready * scale, due * scale),), home=0,
                                 capacity=inst.capacity) for v in range(inst.vehicles)]
    jobs = [planning.Job(id=i, point=i, duration=service * scale,
                         window=(r * scale, d * scale), demand=demand)
            for i, (_x, _y, demand, r, d, service) in enumerate(inst.rows[1:], start=1)]
    # Drives rounded up, so that a plan on time in whole hundredths is on time in the
    # instance's real distances too (its check allows no lateness at all); the cost is the
    # distance rounded to the nearest hundredth.
    cost = np.array(inst.matrix(), dtype=np.int64)
    distance = np.array([[inst.distance(i, j) for j in range(len(inst.rows))]
                         for i in range(len(inst.rows))])
    seconds = np.ceil(distance * scale - 1e-9).astype(np.int64)
    return planning.Problem(technicians=techs, jobs=jobs, seconds=seconds, cost=cost)


def run_solomon(paths: list[Path], seconds: float) -> bool:
    records = json.loads((solvers.DATA / "BKS-solomon.json").read_text())
    by_class: dict[str, list[tuple[float, float]]] = {}
    failed = False
    for path in paths:
        inst = solvers.read(path)
        result = planning.plan(solomon_problem(inst), seconds=seconds)
        routes = [[s.job for s in stops] for stops in result.routes.values()]
        problem = inst.check(routes) or ("visits left out" if result.unplaced else None)
        if problem:
            print(f"  {inst.name}: not a solution ({problem})")
            failed = True
            continue
        best = records[f"{inst.name}_distance"]["best_known_cost"]
        gap = (inst.cost(routes) - best) / best * 100
        by_class.setdefault(inst.klass, []).append((gap, result.solve_seconds))
    print(f"(a) Solomon VRPTW through the planner, {seconds:g} s an instance; gap against the "
          "distance-only records\n")
    print(f"  {'class':<6} {'n':>3} {'mean gap':>9} {'worst':>8} {'s/instance':>11}")
    every = []
    for k in solvers.CLASSES:
        if k not in by_class:
            continue
        results = by_class[k]
        every += results
        print(f"  {k:<6} {len(results):>3} {statistics.mean(g for g, _ in results):>8.2f}% "
              f"{max(g for g, _ in results):>7.2f}% "
              f"{statistics.mean(t for _, t in results):>10.2f}")
    if every:
        mean_gap = statistics.mean(g for g, _ in every)
        mean_s = statistics.mean(t for _, t in every)
        ok = mean_gap <= GAP_TARGET and mean_s <= SECONDS_TARGET
        print(f"  {'all':<6} {len(every):>3} {mean_gap:>8.2f}% "
              f"{max(g for g, _ in every):>7.2f}% {mean_s:>10.2f}   target "
              f"<= {GAP_TARGET}% at <= {SECONDS_TARGET:g} s: {'yes' if ok else 'NO'}\n")
        failed |= not ok
    return not failed


def contractor_day(seed: int = 7, visits: int = 400
                   ) -> tuple[planning.Problem, dict[int, list[int]]]:
    """50 technicians, 400 visits of 30 to 120 minutes within 25 km of a city centre (452 hours
    of work for 450 hours of people: a day too full, as a busy one is), 4 skills
    (each technician has one to three, a quarter of the visits need one), windows of four
    hours on a third of the visits; 08:00 to 17:00 in seconds from midnight. Also the plan
    by hand: ``{technician: [visit ids in order]}``."""
    rng = random.Random(seed)
    centre = (41.88, -87.63)

    def near(km: float) -> tuple[float, float]:
        return (centre[0] + rng.uniform(-1, 1) * km / 111,
                centre[1] + rng.uniform(-1, 1) * km / 83)

    homes = [near(30) for _ in range(50)]
    sites = [near(25) for _ in range(visits)]
    matrix = estimate(homes + sites)
    techs = [planning.Technician(id=t + 1, spans=((8 * 3600, 17 * 3600),), home=t,
                                 skills=frozenset(rng.sample(range(4), rng.randint(1, 3))))
             for t in range(50)]
    jobs = []
    for v in range(visits):
        window = None
        if rng.random() < 1 / 3:
            start = rng.choice([8, 10, 12]) * 3600
            window = (start, start + 4 * 3600)
        jobs.append(planning.Job(id=v + 1, point=50 + v, duration=rng.choice([30, 45, 60, 90,
                                                                              120]) * 60,
                                 window=window,
                                 skills=frozenset([rng.randrange(4)]) if rng.random() < .25
                                 else frozenset()))
    by_hand: dict[int, list[int]] = {t.id: [] for t in techs}
    booked = {t.id: 0 for t in techs}
    for job in sorted(jobs, key=lambda j: (j.window or (0, 0))[0]):
        able = [t for t in techs if job.skills <= t.skills and booked[t.id] + job.duration
                <= 7 * 3600]
        if not able:
            continue
        tech = min(able, key=lambda t: matrix.seconds[t.home, job.point])
        by_hand[tech.id].append(job.id)
        booked[tech.id] += job.duration
    return planning.Problem(technicians=techs, jobs=jobs, seconds=matrix.seconds,
                            metres=matrix.metres), by_hand


def run_day(seconds: float) -> bool:
    problem, by_hand = contractor_day()
    jobs = {j.id: j for j in problem.jobs}
    homes = {t.id: t.home for t in problem.technicians}

    def drive_of(routes: dict[int, list[int]]) -> tuple[float, float]:
        total_s = total_m = 0
        for tech, visits in routes.items():
            stops = [homes[tech], *(jobs[v].point for v in visits), homes[tech]] if visits else []
            for a, b in zip(stops, stops[1:], strict=False):
                total_s += problem.seconds[a, b]
                total_m += problem.metres[a, b]
        return total_s / 3600, total_m / 1000

    started = time.perf_counter()
    result = planning.plan(problem, seconds=seconds)
    took = time.perf_counter() - started
    broken = planning.plan_problems(problem, result)
    if broken:
        print(f"  the plan breaks a rule: {broken[0]} (and {len(broken) - 1} more)")
        return False
    planned = {t: [s.job for s in stops] for t, stops in result.routes.items()}
    hand_h, hand_km = drive_of(by_hand)
    plan_h, plan_km = drive_of(planned)
    placed = sum(len(v) for v in planned.values())
    hand_placed = sum(len(v) for v in by_hand.values())
    reasons = {r: sum(1 for _j, why in result.unplaced if why == r) for r in planning.REASONS}
    ok = took <= SECONDS_TARGET
    print("(b) A contractor's day: 50 technicians, 400 visits (skills, windows on a third)\n")
    print("  travel: the drive plus 10 minutes a stop (parking, walking to the door), as the "
          "board's travel warnings count it\n")
    print(f"  planner: {placed} visits placed in {took:.1f} s, {plan_h:.1f} h of travel, "
          f"{plan_km:,.0f} km, {60 * plan_h / max(placed, 1):.1f} min a visit; not placed: "
          + (", ".join(f"{n} {r}" for r, n in reasons.items() if n) or "none"))
    print(f"  by hand: {hand_placed} visits placed, {hand_h:.1f} h of travel, "
          f"{hand_km:,.0f} km, {60 * hand_h / max(hand_placed, 1):.1f} min a visit")
    if hand_h and hand_placed:
        per_plan, per_hand = plan_h / max(placed, 1), hand_h / hand_placed
        print(f"  travel a visit {100 * (per_plan - per_hand) / per_hand:+.0f}% against the "
              f"plan by hand; target <= {SECONDS_TARGET:g} s: {'yes' if ok else 'NO'}\n")
    run_suggest()
    return ok


def run_suggest() -> None:
    """(c) Suggest: 30 new visits, each put into a planned day of 300 visits as it stands."""
    problem, _hand = contractor_day(visits=300)
    result = planning.plan(problem, seconds=2)
    jobs = {j.id: j for j in problem.jobs}
    fixed = [planning.Fixed(s.job, technician=t, point=jobs[s.job].point, start=s.start,
                            end=s.end) for t, stops in result.routes.items() for s in stops]
    day = planning.Problem(technicians=problem.technicians, jobs=[], seconds=problem.seconds,
                           fixed=fixed)
    times, placed = [], 0
    for k in range(30):
        job = planning.Job(id=10_000 + k, point=50 + (k * 13) % 300, duration=3600,
                           window=(10 * 3600, 14 * 3600) if k % 2 else None)
        started = time.perf_counter()
        found = planning.suggest(day, job)
        times.append((time.perf_counter() - started) * 1000)
        placed += bool(found)
    times.sort()
    print(f"(c) Suggest on a planned day of 300 visits (30 new ones, {placed} with a place "
          "left): median "
          f"{statistics.median(times):.1f} ms, p95 {times[int(len(times) * .95) - 1]:.1f} ms "
          "(target under 1 s)\n")


def run_board_day(seconds: float) -> bool:
    """(d) The board benchmark's busy day (bench/board.py: 50 technicians, 400 visits, each
    technician in a neighbourhood of their own, windows and skills), planned from the database
    through the product's path (``routes.day_problem`` then the planner), against the day as
    the seed scheduled it by hand."""
    import os

    import board
    import run as common

    common.configure(None)
    url = f"sqlite:///{common.VAR / 'board.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from crewline.core.models import Organization
    from crewline.scheduling import routes

    board.ensure_seeded(url)
    org = Organization.objects.get(slug=board.SEED["slug"])
    day = dt.date.fromisoformat(board.SEED["day"])
    started = time.perf_counter()
    problem = routes.day_problem(organization=org, day=day, with_queue=False,
                                 now=routes.local_midnight(day, org.tzinfo))
    read = time.perf_counter() - started
    result = planning.plan(problem.problem, seconds=seconds)
    took = time.perf_counter() - started
    broken = planning.plan_problems(problem.problem, result)
    before_s, before_m = routes._current_drive(problem)
    after_s, after_m = routes._current_drive(problem, result)
    placed = sum(1 for stops in result.routes.values() for s in stops if not s.fixed)
    jobs = len(problem.problem.jobs)
    moved = sum(1 for t, stops in result.routes.items() for s in stops if not s.fixed
                and problem.current.get(s.job, (None, None, []))[2] != [t])
    print(f"(d) The board's busy day from the database: {jobs} visits, "
          f"{len(problem.problem.technicians)} technicians\n")
    print(f"  read and matrix {read:.1f} s, planned in {took:.1f} s; {placed} of {jobs} placed, "
          f"{moved} with another technician"
          + (f"; breaks a rule: {broken[0]}" if broken else ""))
    print(f"  travel by hand (the seed's plan): {before_s / 3600:.1f} h, {before_m / 1000:,.0f} km")
    print(f"  travel planned: {after_s / 3600:.1f} h, {after_m / 1000:,.0f} km"
          f" ({100 * (after_s - before_s) / max(before_s, 1):+.0f}%)\n")
    return not broken and took <= SECONDS_TARGET


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="search time per Solomon instance")
    parser.add_argument("--day-seconds", type=float, default=5.0,
                        help="search time for a day, as \"Plan the day\" has by default "
                             "(ROUTE_PLAN_TENTHS=50)")
    parser.add_argument("--only", help="Solomon classes or instance names, comma-separated")
    parser.add_argument("--skip-solomon", action="store_true")
    args = parser.parse_args(argv)
    ok = True
    if not args.skip_solomon:
        if not solvers.DATA.is_dir():
            print(f"No benchmark data at {solvers.DATA}: (a) left out.")
        else:
            paths = sorted((solvers.DATA / "solomon").glob("*.txt"))
            if args.only:
                wanted = [w.strip().upper() for w in args.only.split(",")]
                paths = [p for p in paths
                         if p.stem.upper() in wanted or solvers.read(p).klass in wanted]
            ok &= run_solomon(paths, args.seconds)
    ok &= run_day(args.day_seconds)
    ok &= run_board_day(args.day_seconds)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
