"""Travel between places, for route planning: a matrix of drive times and distances computed
once per plan.

By default the drive is estimated from the straight line: the great-circle distance times a
road factor (roads are longer than the straight line), at an average speed; both are the
organization's settings (``Organization.road_factor``, ``Organization.travel_speed_kmh``;
defaults ``DEFAULT_ROAD_FACTOR`` and ``DEFAULT_SPEED_KMH``). When ``ROUTING_URL`` names an OSRM
server (or anything that answers OSRM's table API: ``/table/v1/driving/<lon,lat;...>
?annotations=duration,distance``), its drive times and distances are used instead, and the
estimate serves only if it cannot be reached.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import numpy as np
from django.conf import settings

logger = logging.getLogger(__name__)

DEFAULT_ROAD_FACTOR = 1.3
DEFAULT_SPEED_KMH = 50.0
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


def great_circle_km(points: Sequence[Point]) -> np.ndarray:
    """The great-circle distances between every two of ``points``, in kilometres."""
    coords = np.radians(np.asarray(points, dtype=float).reshape(-1, 2))
    lat, lon = coords[:, 0][:, None], coords[:, 1][:, None]
    h = (np.sin((lat.T - lat) / 2) ** 2
         + np.cos(lat) * np.cos(lat.T) * np.sin((lon.T - lon) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def estimate(points: Sequence[Point], *, road_factor: float = DEFAULT_ROAD_FACTOR,
             speed_kmh: float = DEFAULT_SPEED_KMH) -> Matrix:
    """The straight-line estimate: distance times ``road_factor`` at ``speed_kmh``."""
    if road_factor < 1 or speed_kmh <= 0:
        raise ValueError("The road factor is at least 1 and the speed above 0.")
    km = great_circle_km(points) * road_factor
    return Matrix(seconds=np.rint(km / speed_kmh * 3600).astype(np.int64),
                  metres=np.rint(km * 1000).astype(np.int64), source="estimate")


def _osrm(points: Sequence[Point], url: str) -> Matrix:
    where = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
    response = httpx.get(f"{url.rstrip('/')}/table/v1/driving/{where}",
                         params={"annotations": "duration,distance"},
                         timeout=ROUTING_TIMEOUT_SECONDS)
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

