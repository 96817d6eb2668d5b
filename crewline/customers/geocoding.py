"""Addresses to map positions, through a geocoder when the install names one.

``GEOCODER_URL`` is the search endpoint of a Nominatim server (or any that answers its
``/search?q=…&format=jsonv2&limit=1`` with ``[{"lat": "…", "lon": "…"}]``). Without one, or
when it does not answer, nothing is geocoded and a site keeps no position: route planning
lists its visits as not plannable, with the reason.
"""

from __future__ import annotations

import logging

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0


def geocoder_configured() -> bool:
    return bool(getattr(settings, "GEOCODER_URL", ""))


def geocode(address: str, *, country: str = "") -> tuple[float, float] | None:
    """The position of ``address`` (latitude, longitude), or None when it is not found or no
    geocoder answers."""
    url = getattr(settings, "GEOCODER_URL", "")
    if not url or not address.strip():
        return None
    params = {"q": address, "format": "jsonv2", "limit": "1"}
    if country:
        params["countrycodes"] = country.lower()
    try:
        response = httpx.get(url, params=params, timeout=TIMEOUT_SECONDS,
                             headers={"User-Agent": "Crewline"})
        response.raise_for_status()
        found = response.json()
        if not found:
            return None
        lat, lon = float(found[0]["lat"]), float(found[0]["lon"])
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
        logger.warning("Geocoding %r failed: %s", address, exc)
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon
