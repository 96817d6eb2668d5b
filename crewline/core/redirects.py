"""Redirects to an address that came with the request (``next``) or from stored data.

Every view that redirects to such an address goes through here, so that a link or form made by
someone else can never send a member to another site (an open redirect).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_url(request: HttpRequest, url: str | None, default: str) -> str:
    """``url`` when it stays on this site (a path, or this host over the request's scheme),
    else ``default``."""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return default


def next_url(request: HttpRequest, default: str, *, field: str = "next") -> str:
    """Where the request asks to go afterwards (``field`` in the POST body, else the query
    string), if that stays on this site; else ``default``."""
    return safe_url(request, request.POST.get(field) or request.GET.get(field), default)
