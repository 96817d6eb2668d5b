"""Route solvers compared on the 56 Solomon VRPTW instances, to choose the one route planning uses.

    .venv/bin/python bench/solvers.py                       every solver, 2 s an instance
    .venv/bin/python bench/solvers.py --solver pyvrp --seconds 10
    .venv/bin/python bench/solvers.py --only C1,R2          some classes

Reads the instances and their best known results from ``../shared/bench-data/vrptw/`` (never
copied into the repository). Each solver gets the same instance: Euclidean distances scaled by
100 and rounded to whole units (travel time equals distance), service times, time windows, the
vehicles' capacity, vehicles starting and ending at the depot within its window, as many vehicles
as the instance allows, and it minimises the total distance. The cost printed is the routes'
distance computed again from the coordinates, and the gap is against the distance-only records
(``<name>_distance``).

The solvers are optional packages (``pip install pyvrp pyvroom ortools``); one that is missing is
left out with a message.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "bench-data" / "vrptw"
SCALE = 100
CLASSES = ("C1", "C2", "R1", "R2", "RC1", "RC2")


@dataclass
class Instance:
    name: str
    vehicles: int
    capacity: int
    # Row 0 is the depot: (x, y, demand, ready, due, service).
    rows: list[tuple[float, float, int, int, int, int]]

    @property
    def klass(self) -> str:
        return self.name[:3] if self.name.startswith("RC") else self.name[:2]

    def distance(self, i: int, j: int) -> float:
        (xi, yi, *_), (xj, yj, *_) = self.rows[i], self.rows[j]
        return math.hypot(xi - xj, yi - yj)

    def matrix(self) -> list[list[int]]:
        n = len(self.rows)
        return [[round(self.distance(i, j) * SCALE) for j in range(n)] for i in range(n)]

    def cost(self, routes: list[list[int]]) -> float:
        total = 0.0
        for route in routes:
            stops = [0, *route, 0]
            total += sum(self.distance(a, b) for a, b in zip(stops, stops[1:], strict=False))
        return total

    def check(self, routes: list[list[int]]) -> str | None:
        """Why ``routes`` are not a solution (every customer once, capacity, windows), or None."""
        seen = sorted(c for r in routes for c in r)
        if seen != list(range(1, len(self.rows))):
            return "customers missing or doubled"
        if len(routes) > self.vehicles:
            return "too many vehicles"
        for route in routes:
            if sum(self.rows[c][2] for c in route) > self.capacity:
                return "over capacity"
            t, here = float(self.rows[0][3]), 0
            for c in [*route, 0]:
                t += self.distance(here, c)
                _x, _y, _d, ready, due, service = self.rows[c]
                t = max(t, ready)
                if t > due + 1e-6:
                    return f"late at {c}"
                t += service
                here = c
        return None


def read(path: Path) -> Instance:
    lines = [ln.split() for ln in path.read_text().splitlines()]
    name = lines[0][0]
    vehicles, capacity = (int(v) for v in next(ln for ln in lines[1:]
                                               if len(ln) == 2 and ln[0].isdigit()))
    rows = []
    for ln in lines:
        if len(ln) == 7 and all(p.replace(".", "", 1).isdigit() for p in ln):
            _no, x, y, demand, ready, due, service = ln
            rows.append((float(x), float(y), int(demand), int(ready), int(due), int(service)))
    return Instance(name, vehicles, capacity, rows)


# --- Solvers: each takes an instance and seconds, returns routes of customer numbers ----------

def solve_pyvrp(inst: Instance, seconds: float) -> list[list[int]]:
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    m = Model()
    locations = [m.add_location(x=x, y=y) for x, y, *_ in inst.rows]
    _x, _y, _d, ready, due, _s = inst.rows[0]
    depot = m.add_depot(locations[0], tw_early=ready * SCALE, tw_late=due * SCALE)
    m.add_vehicle_type(num_available=inst.vehicles, capacity=inst.capacity, start_depot=depot,
                       end_depot=depot, tw_early=ready * SCALE, tw_late=due * SCALE)
    for i, (_x, _y, demand, ready, due, service) in enumerate(inst.rows[1:], start=1):
        m.add_client(locations[i], delivery=demand, service_duration=service * SCALE,
                     tw_early=ready * SCALE, tw_late=due * SCALE)
    matrix = inst.matrix()
    for i, a in enumerate(locations):
        for j, b in enumerate(locations):
            m.add_edge(a, b, distance=matrix[i][j], duration=matrix[i][j])
    result = m.solve(stop=MaxRuntime(seconds), seed=1, display=False)
    # Client indices come after the one depot.
    # Activities name clients by their index among the clients (customer number - 1).
    return [[a.idx + 1 for a in route.schedule() if a.is_client()]
            for route in result.best.routes()]


def solve_vroom(inst: Instance, seconds: float) -> list[list[int]]:
    import datetime as dt

    import vroom

    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=inst.matrix())
    _x, _y, _d, ready, due, _s = inst.rows[0]
    for v in range(inst.vehicles):
        problem.add_vehicle(vroom.Vehicle(v + 1, start=0, end=0, capacity=[inst.capacity],
                                          time_window=vroom.TimeWindow(ready * SCALE,
                                                                       due * SCALE)))
    for i, (_x, _y, demand, ready, due, service) in enumerate(inst.rows[1:], start=1):
        problem.add_job(vroom.Job(i, location=i, default_service=service * SCALE,
                                  delivery=[demand],
                                  time_windows=[vroom.TimeWindow(ready * SCALE, due * SCALE)]))
    solution = problem.solve(exploration_level=5, nb_threads=2,
                             timeout=dt.timedelta(seconds=seconds))
    routes: dict[int, list[int]] = {}
    for row in solution.routes.itertuples():
        if row.type == "job":
            routes.setdefault(row.vehicle_id, []).append(int(row.id))
    return list(routes.values())


def solve_ortools(inst: Instance, seconds: float) -> list[list[int]]:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    matrix = inst.matrix()
    n = len(matrix)
    manager = pywrapcp.RoutingIndexManager(n, inst.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    travel = routing.RegisterTransitCallback(
        lambda a, b: matrix[manager.IndexToNode(a)][manager.IndexToNode(b)])
    routing.SetArcCostEvaluatorOfAllVehicles(travel)
    time_cb = routing.RegisterTransitCallback(
        lambda a, b: (matrix[manager.IndexToNode(a)][manager.IndexToNode(b)]
                      + inst.rows[manager.IndexToNode(a)][5] * SCALE))
    horizon = inst.rows[0][4] * SCALE
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    dim = routing.GetDimensionOrDie("time")
    for node in range(1, n):
        dim.CumulVar(manager.NodeToIndex(node)).SetRange(inst.rows[node][3] * SCALE,
                                                         inst.rows[node][4] * SCALE)
    demand = routing.RegisterUnaryTransitCallback(
        lambda a: inst.rows[manager.IndexToNode(a)][2])
    routing.AddDimensionWithVehicleCapacity(demand, 0, [inst.capacity] * inst.vehicles, True,
                                            "load")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION)
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return []
    routes = []
    for v in range(inst.vehicles):
        index, route = solution.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return routes


SOLVERS = {"pyvrp": ("pyvrp", solve_pyvrp), "vroom": ("vroom", solve_vroom),
           "ortools": ("ortools", solve_ortools)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--solver", choices=sorted(SOLVERS), action="append")
    parser.add_argument("--seconds", type=float, default=2.0, help="time limit per instance")
    parser.add_argument("--only", help="classes or instance names, comma-separated")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"No benchmark data at {DATA}.")
        return 1
    records = json.loads((DATA / "BKS-solomon.json").read_text())
    paths = sorted((DATA / "solomon").glob("*.txt"))
    if args.only:
        wanted = [w.strip().upper() for w in args.only.split(",")]
        paths = [p for p in paths if any(p.stem.upper() == w or
                                         read(p).klass == w for w in wanted)]
    instances = [read(p) for p in paths]
    names = args.solver or list(SOLVERS)
    print(f"{len(instances)} Solomon instances, {args.seconds:g} s each, gap against the "
          "distance-only records.\n")
    status = 0
    for name in names:
        module, solve = SOLVERS[name]
        try:
            __import__(module)
        except ImportError:
            print(f"{name}: not installed, left out (pip install {module}).")
            continue
        by_class: dict[str, list[tuple[float, float]]] = {}
        for inst in instances:
            started = time.perf_counter()
            routes = solve(inst, args.seconds)
            took = time.perf_counter() - started
            problem = inst.check(routes)
            if problem:
                print(f"  {name} {inst.name}: not a solution ({problem})")
                status = 1
                continue
            best = records[f"{inst.name}_distance"]["best_known_cost"]
            gap = (inst.cost(routes) - best) / best * 100
            by_class.setdefault(inst.klass, []).append((gap, took))
        rows = [(k, by_class[k]) for k in CLASSES if k in by_class]
        print(f"{name}")
        print(f"  {'class':<6} {'n':>3} {'mean gap':>9} {'worst':>8} {'s/instance':>11}")
        for k, results in rows:
            gaps, times = [g for g, _ in results], [t for _, t in results]
            print(f"  {k:<6} {len(results):>3} {statistics.mean(gaps):>8.2f}% "
                  f"{max(gaps):>7.2f}% {statistics.mean(times):>10.2f}")
        every = [r for _, results in rows for r in results]
        if every:
            print(f"  {'all':<6} {len(every):>3} {statistics.mean(g for g, _ in every):>8.2f}% "
                  f"{max(g for g, _ in every):>7.2f}% "
                  f"{statistics.mean(t for _, t in every):>10.2f}\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
