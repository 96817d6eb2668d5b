"""Postal addresses for documents and exports: a customer's billing address in the parts that
accounting systems ask for (lines, city, region, postal code, country).

Sites keep their address in structured fields; a customer's billing address is free text. When
the billing address is a site's address (or there is none), the site's fields are used as they
are; otherwise the free text is split only where that is safe: a last line such as
"Chicago, IL 60630" or "Toronto ON M5V 2T6" gives city, region and postal code, and anything
else stays in the address lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from crewline.customers.models import Customer, Site

CITY_LINE = re.compile(
    r"^(?P<city>[^,\d][^,]*?),?\s+(?P<region>[A-Za-z]{2})\.?,?\s+"
    r"(?P<postal>\d{5}(?:-\d{4})?|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d)$")


@dataclass(frozen=True)
class PostalAddress:
    lines: list[str] = field(default_factory=list)
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


def site_address(site: Site, *, default_country: str = "") -> PostalAddress:
    return PostalAddress(lines=[x for x in (site.address_line1, site.address_line2) if x],
                         city=site.city, region=site.region, postal_code=site.postal_code,
                         country=site.country or default_country)


def split_city_line(line: str) -> tuple[str, str, str] | None:
    """``"Chicago, IL 60630"`` → ``("Chicago", "IL", "60630")``; None when the line is not
    plainly a city, a two-letter region and a US ZIP or Canadian postal code."""
    match = CITY_LINE.match(line.strip())
    if match is None:
        return None
    return match["city"].strip(), match["region"].upper(), match["postal"].upper()


def postal_address(customer: Customer, *, sites: Iterable[Site] = (), site: Site | None = None,
                   default_country: str = "") -> PostalAddress:
    """Where ``customer``'s post goes. ``sites`` are the customer's sites (already loaded);
    ``site`` is the one the document is about, used when the customer has no billing address."""
    lines = [x.strip() for x in customer.billing_address.splitlines() if x.strip()]
    if not lines:
        if site is None:
            site = next((s for s in sites if not s.is_archived), None)
        return (site_address(site, default_country=default_country) if site is not None
                else PostalAddress())
    first = lines[0].lower()
    for candidate in (site, *sites):
        if candidate is not None and candidate.address_line1.strip().lower() == first:
            return site_address(candidate, default_country=default_country)
    parts = split_city_line(lines[-1]) if len(lines) > 1 else None
    if parts is None and len(lines) == 1 and "," in lines[0]:
        # "12 Maple Ave, Springfield IL 62701" on one line.
        street, rest = lines[0].split(",", 1)
        parts = split_city_line(rest)
        if parts is not None:
            lines = [street.strip(), rest]
    if parts is None:
        return PostalAddress(lines=lines)
    city, region, postal = parts
    return PostalAddress(lines=lines[:-1], city=city, region=region, postal_code=postal,
                         country=default_country)
