"""How often a new portal link may be asked for: per address typed and per client IP, in
windows of an hour, counted in the ``api`` cache (Redis when ``REDIS_URL`` is set, so every
server process counts together)."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import InvalidCacheBackendError

WINDOW = 3600


def _cache():
    try:
        return caches["api"]
    except InvalidCacheBackendError:
        return caches["default"]


def _hit(kind: str, ident: str, limit: int) -> bool:
    """Count one request for ``ident``; True while it is within ``limit`` this window."""
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    key = f"portal:{kind}:{digest}:{int(time.time() // WINDOW)}"
    cache = _cache()
    cache.add(key, 0, WINDOW + 60)
    try:
        count = cache.incr(key)
    except ValueError:
        # Evicted between add and incr: count this one as the first.
        cache.set(key, 1, WINDOW + 60)
        count = 1
    return count <= limit


def link_request_allowed(*, address: str, ip: str | None) -> bool:
    """Count a request for a new link; False once the address or the IP has asked too often."""
    by_ip = _hit("ip", ip or "unknown", settings.PORTAL_REQUESTS_PER_IP)
    by_address = _hit("address", address.strip().lower(), settings.PORTAL_REQUESTS_PER_ADDRESS)
    return by_ip and by_address


def work_request_allowed(*, email: str, phone: str, ip: str | None) -> bool:
    """Count a request for work; False once the IP, the email or the phone sent too many."""
    allowed = _hit("form-ip", ip or "unknown", settings.WORK_REQUESTS_PER_IP)
    for kind, value in (("form-email", email.strip().lower()),
                        ("form-phone", "".join(c for c in phone if c.isdigit()))):
        if value:
            allowed = _hit(kind, value, settings.WORK_REQUESTS_PER_ADDRESS) and allowed
    return allowed
