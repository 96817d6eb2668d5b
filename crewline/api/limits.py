"""Rate limits: each API key (and each member's session) may make ``limit`` requests a minute,
the key's own ``rate_limit`` or ``settings.API_RATE_LIMIT`` (600). Counted in the ``api`` cache
(Redis when ``REDIS_URL`` is set, so every server process counts together) in windows of a
minute; Django Ninja's throttling runs the check after authentication and before the view,
so a request refused with 429 did nothing, and one that was let in is answered whatever
comes after it.

Every answer to a caller carries the IETF draft's headers (draft-ietf-httpapi-ratelimit-
headers): ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` (seconds until
the window ends) and ``RateLimit-Policy: 600;w=60``; a 429 also ``Retry-After``.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import InvalidCacheBackendError
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

WINDOW = 60


@dataclass(frozen=True)
class Usage:
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.reset),
                "RateLimit-Policy": f"{self.limit};w={WINDOW}"}


def _cache():
    try:
        return caches["api"]
    except InvalidCacheBackendError:
        return caches["default"]


def limit_for(principal) -> int:
    key = principal.api_key
    if key is not None and key.rate_limit:
        return key.rate_limit
    return settings.API_RATE_LIMIT


def _ident(principal) -> str:
    # The key's prefix (random, never reused) rather than its id.
    if principal.api_key is not None:
        return f"k:{principal.api_key.prefix}"
    return f"m:{principal.member.pk}:{principal.member.user_id}"


def count(principal, *, now: float | None = None) -> tuple[Usage, bool]:
    """Count one request of ``principal`` in this window: its usage, and whether it may go
    ahead."""
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    limit = limit_for(principal)
    name = f"api-rate:{_ident(principal)}:{window}"
    cache = _cache()
    cache.add(name, 0, timeout=WINDOW * 2)
    try:
        used = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=WINDOW * 2)
        used = 1
    reset = max(1, math.ceil((window + 1) * WINDOW - now))
    return Usage(limit=limit, remaining=max(0, limit - used), reset=reset), used <= limit


class PerKeyLimit(BaseThrottle):
    """Django Ninja's throttle hook: the caller's requests this minute against its limit."""

    def allow_request(self, request: HttpRequest) -> bool:
        principal = getattr(request, "auth", None)
        if principal is None:
            return True
        usage, allowed = count(principal)
        request._rate_usage = usage
        return allowed

    def wait(self) -> float | None:
        # Ninja asks without the request; the 429's own Retry-After is set from its usage.
        return None


def with_headers(view):
    """Put the caller's usage on every answer of ``view`` (a URL pattern's callback)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        usage: Usage | None = getattr(request, "_rate_usage", None)
        if usage is not None:
            for name, value in usage.headers().items():
                response[name] = value
            if response.status_code == 429:
                response["Retry-After"] = str(usage.reset)
        return response

    return wrapper
