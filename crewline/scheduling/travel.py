"""Travel between places, for route planning: a matrix of drive times and distances computed
once per plan.

By default the drive is estimated from the straight line: the great-circle distance times a
road factor (roads are longer than the straight line), at an average speed, plus ``BUFFER``
between two different places (parking, walking to the door); the factor and the speed are the
organization's settings (``Organization.road_factor``, ``Organization.travel_speed_kmh``;
defaults ``DEFAULT_ROAD_FACTOR`` 1.3 and ``DEFAULT_SPEED_KMH`` 52, that is 40 km/h as the
crow flies). The board's travel-time conflicts (``conflicts.py``) and route planning both
drive by this estimate (``drive_time``, ``estimate``): a planned day shows no travel warning.

When ``ROUTING_URL`` names an OSRM server (or anything that answers OSRM's table API:
``/table/v1/driving/<lon,lat;...>?annotations=duration,distance``), planning takes its drive
times and distances instead, and the estimate only if it cannot be reached; the board's
warnings stay on the estimate, which needs no server for each check.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import numpy as np
from django.conf import settings

logger = logging.getLogger(__name__)

DEFAULT_ROAD_FACTOR = 1.3
DEFAULT_SPEED_KMH = 52
BUFFER = dt.timedelta(minutes=10)
EARTH_RADIUS_KM = 6371.0088
ROUTING_TIMEOUT_SECONDS = 10.0

Point = tuple[float, float]  # (latitude, longitude)


@dataclass(frozen=True)
class Matrix:
    """Drive times (whole seconds) and distances (whole metres) between ``points``, by index."""

    seconds: np.ndarray
    metres: np.ndarray
    source: str  # "estimate" or "osrm"

    def minutes(self, a: int, b: int) -> float:
        return float(self.seconds[a, b]) / 60

    def km(self, a: int, b: int) -> float:
        return float(self.metres[a, b]) / 1000


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance in kilometres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def drive_time_km(km: float, *, road_factor: float = DEFAULT_ROAD_FACTOR,
                  speed_kmh: float = DEFAULT_SPEED_KMH) -> dt.timedelta:
    """The estimated drive over ``km`` of straight line, ``BUFFER`` included."""
    return dt.timedelta(hours=km * road_factor / speed_kmh) + BUFFER


def drive_time(a: Point, b: Point, *, road_factor: float = DEFAULT_ROAD_FACTOR,
               speed_kmh: float = DEFAULT_SPEED_KMH) -> dt.timedelta:
    """The estimated drive from ``a`` to ``b``, ``BUFFER`` included."""
    return drive_time_km(haversine_km(a, b), road_factor=road_factor, speed_kmh=speed_kmh)


def organization_travel(organization) -> dict[str, float]:
    """The organization's road factor and speed, as ``estimate`` and ``drive_time`` take them."""
    return {"road_factor": float(organization.road_factor),
            "speed_kmh": float(organization.travel_speed_kmh)}


def great_circle_km(points: Sequence[Point]) -> np.ndarray:
    """The great-circle distances between every two of ``points``, in kilometres."""
    coords = np.radians(np.asarray(points, dtype=float).reshape(-1, 2))
    lat, lon = coords[:, 0][:, None], coords[:, 1][:, None]
    h = (np.sin((lat.T - lat) / 2) ** 2
         + np.cos(lat) * np.cos(lat.T) * np.sin((lon.T - lon) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def estimate(points: Sequence[Point], *, road_factor: float = DEFAULT_ROAD_FACTOR,
             speed_kmh: float = DEFAULT_SPEED_KMH) -> Matrix:
    """The straight-line estimate: distance times ``road_factor`` at ``speed_kmh``, plus
    ``BUFFER`` between two different places."""
    if road_factor < 1 or speed_kmh <= 0:
        raise ValueError("The road factor is at least 1 and the speed above 0.")
    km = great_circle_km(points) * road_factor
    seconds = km / speed_kmh * 3600 + np.where(km > 0, BUFFER.total_seconds(), 0)
    return Matrix(seconds=np.rint(seconds).astype(np.int64),
                  metres=np.rint(km * 1000).astype(np.int64), source="estimate")


def _osrm(points: Sequence[Point], url: str, timeout: float = ROUTING_TIMEOUT_SECONDS
          ) -> Matrix:
    where = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
    response = httpx.get(f"{url.rstrip('/')}/table/v1/driving/{where}",
                         params={"annotations": "duration,distance"},
                         timeout=timeout)
    response.raise_for_status()
    body = response.json()
    if body.get("code") != "Ok":
        raise ValueError(f"The routing server answered {body.get('code')!r}.")
    seconds = np.array(body["durations"], dtype=float)
    metres = np.array(body["distances"], dtype=float)
    n = len(points)
    if seconds.shape != (n, n) or metres.shape != (n, n) or np.isnan(seconds).any():
        raise ValueError("The routing server's table does not cover every place.")
    return Matrix(seconds=np.rint(seconds).astype(np.int64),
                  metres=np.rint(metres).astype(np.int64), source="osrm")


def travel_matrix(points: Sequence[Point], *, road_factor: float = DEFAULT_ROAD_FACTOR,
                  speed_kmh: float = DEFAULT_SPEED_KMH) -> Matrix:
    """Drive times and distances between ``points``: from the routing server when one is
    configured and answers, else the straight-line estimate."""
    url = getattr(settings, "ROUTING_URL", "")
    if url and len(points) > 1:
        try:
            return _osrm(points, url)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            logger.warning("Routing server not used (%s); travel is estimated.", exc)
    return estimate(points, road_factor=road_factor, speed_kmh=speed_kmh)



def drive_between(a: Point, b: Point, *, road_factor: float = DEFAULT_ROAD_FACTOR,
                  speed_kmh: float = DEFAULT_SPEED_KMH, timeout: float = 2.0) -> dt.timedelta:
    """The drive from ``a`` to ``b`` itself, no ``BUFFER`` (an arrival estimate for the
    customer): the routing server's when one is configured and answers within ``timeout``
    seconds, else the straight line times ``road_factor`` at ``speed_kmh``."""
    url = getattr(settings, "ROUTING_URL", "")
    if url and a != b:
        try:
            return dt.timedelta(seconds=int(_osrm([a, b], url, timeout).seconds[0, 1]))
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            logger.warning("Routing server not used (%s); the drive is estimated.", exc)
    return dt.timedelta(hours=haversine_km(a, b) * road_factor / speed_kmh)
