"""The time zones offered when choosing an organization's time zone.

Canonical zone names only (``zone.tab`` of the IANA database, as the ``tzdata`` package ships
it: one or more per country, no backward-compatible aliases such as ``US/Eastern``), grouped by
region for the select. Browsers sometimes report an alias (Chromium says ``Asia/Calcutta``);
``aliases()`` maps those to the zone offered, for preselecting the browser's zone.
"""

from __future__ import annotations

import importlib.resources
import zoneinfo
from functools import cache

UTC = "UTC"


def _tzdata_text(name: str) -> str:
    try:
        return importlib.resources.files("tzdata.zoneinfo").joinpath(name).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return ""


@cache
def canonical_zones() -> tuple[str, ...]:
    """Every zone of ``zone.tab`` that this Python knows, sorted; UTC last."""
    known = zoneinfo.available_timezones()
    names = {line.split("\t")[2] for line in _tzdata_text("zone.tab").splitlines()
             if line and not line.startswith("#") and line.count("\t") >= 2}
    names &= known
    if not names:  # No tzdata tables: fall back to the names that look like Region/City.
        names = {z for z in known if "/" in z and z.split("/")[0] in {
            "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
            "Europe", "Indian", "Pacific"}}
    return (*sorted(names), UTC)


def label(zone: str) -> str:
    """``America/Argentina/Buenos_Aires`` → ``Argentina / Buenos Aires`` (shown in its
    region's group)."""
    if "/" not in zone:
        return zone
    return zone.split("/", 1)[1].replace("_", " ").replace("/", " / ")


@cache
def grouped_choices() -> list[tuple[str, object]]:
    """Choices for a select: UTC, then one group per region."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for zone in canonical_zones():
        if "/" in zone:
            groups.setdefault(zone.split("/")[0], []).append((zone, label(zone)))
    return [(UTC, UTC), *((region, zones) for region, zones in sorted(groups.items()))]


@cache
def aliases() -> dict[str, str]:
    """Other names of offered zones (``Asia/Calcutta`` → ``Asia/Kolkata``)."""
    offered = set(canonical_zones())
    result = {}
    for line in _tzdata_text("tzdata.zi").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "L" and parts[1] in offered \
                and parts[2] not in offered:
            result[parts[2]] = parts[1]
    return result


def choices_with(current: str | None) -> list[tuple[str, object]]:
    """``grouped_choices()``, plus ``current`` when it is a zone not offered (an organization
    set up with an alias keeps it until someone picks another)."""
    choices = grouped_choices()
    if current and current not in canonical_zones():
        return [(current, current), *choices]
    return choices


@cache
def _zone_countries() -> dict[str, str]:
    countries = {}
    for line in _tzdata_text("zone.tab").splitlines():
        parts = line.split("\t")
        if line and not line.startswith("#") and len(parts) >= 3:
            countries[parts[2]] = parts[0]
    return countries


def country_for_zone(zone: str) -> str:
    """The two-letter country of a canonical zone (``Europe/Paris`` → ``FR``), or ``""``
    (UTC, an alias, or no tzdata tables)."""
    zone = aliases().get(zone, zone)
    return _zone_countries().get(zone, "")
