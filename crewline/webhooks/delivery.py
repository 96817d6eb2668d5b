"""Sending the outbox: Standard Webhooks requests from the background worker, never a request.

``deliver_due`` takes the pending deliveries that are due, oldest first, each only when no
earlier delivery of the same resource to the same endpoint is still pending (so a resource's
events arrive in order), holds each with a lease while it is sent, and records the attempt:

- 2xx: delivered;
- 410 Gone: the endpoint is turned off (the receiver said it is gone);
- anything else, a timeout, a refused address: tried again after ``RETRY_SCHEDULE`` (with
  jitter; a Retry-After is honoured), about three days in all; after the last the endpoint is
  turned off for failing and its owners are emailed.

A worker killed mid-request leaves its deliveries pending with a lease that runs out
(``LEASE_EXTRA`` after the timeouts of the rounds it had taken them for): the next run sends
them again with the same webhook-id.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import logging
import math
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from crewline.webhooks.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from crewline.webhooks.urls_guard import UrlRefused, resolve

logger = logging.getLogger(__name__)

# The wait after the 1st, 2nd, ... failed attempt (Standard Webhooks' schedule): ten attempts
# over about 75 hours.
RETRY_SCHEDULE = tuple(dt.timedelta(seconds=s) for s in (
    5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600))
JITTER = 0.2  # each wait is stretched or shrunk by up to this share, at random
MAX_RETRY_AFTER = dt.timedelta(hours=24)
LEASE_EXTRA = dt.timedelta(seconds=30)
EXCERPT = 500
USER_AGENT = "Crewline-Webhooks/1.0"


@dataclasses.dataclass
class Outcome:
    status: int | None = None
    latency_ms: int = 0
    excerpt: str = ""
    error: str = ""
    retry_after: dt.timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def body_of(payload: dict) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=False)


def signed_headers(*, secrets: list[str], msg_id: str, body: str, now: dt.datetime) -> dict:
    """The Standard Webhooks headers of a request made at ``now``: one ``v1`` signature per
    secret (two during a rotation), space-separated."""
    at = now.astimezone(dt.UTC)
    signatures = " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signatures, "content-type": "application/json",
            "user-agent": USER_AGENT}


def _retry_after(value: str | None) -> dt.timedelta | None:
    if value and value.strip().isdigit():
        return min(dt.timedelta(seconds=int(value.strip())), MAX_RETRY_AFTER)
    return None


_clients: collections.OrderedDict[tuple[int, str], httpx.Client] = collections.OrderedDict()
MAX_CLIENTS = 32


def _client(host: str) -> httpx.Client:
    """A client per host name (and thread), the latest ``MAX_CLIENTS`` kept: its TLS context
    is costly to make (tens of ms) and its connections stay open between events. One per
    name, because requests go to the checked address: a pool shared by names would send one
    name's request over a connection opened (and its certificate checked) for another."""
    key = (threading.get_ident(), host)
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = httpx.Client(follow_redirects=False, trust_env=False)
        while len(_clients) > MAX_CLIENTS:
            _clients.popitem(last=False)[1].close()
    _clients.move_to_end(key)
    return client


def post(url: str, *, body: str, headers: dict, timeout: float) -> Outcome:
    """POST ``body`` to ``url`` at the address that was checked (``urls_guard.resolve``), no
    redirects followed, within ``timeout`` seconds in all; keeps the start of the answer."""
    started = time.monotonic()
    outcome = Outcome()
    try:
        scheme, host, port, address = resolve(url)
        parts = urlsplit(url)
        netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        target = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
        host_header = f"[{host}]" if ":" in host else host
        if parts.port:
            host_header += f":{parts.port}"
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        with _client(host).stream("POST", target, content=body.encode(),
                              headers={**headers, "host": host_header}, timeout=timeout,
                              extensions=extensions) as response:
            outcome.status = response.status_code
            outcome.retry_after = _retry_after(response.headers.get("retry-after"))
            kept = b""
            for chunk in response.iter_bytes():
                kept += chunk
                if len(kept) >= EXCERPT * 4 or time.monotonic() - started > timeout:
                    break
            outcome.excerpt = kept.decode("utf-8", "replace")[:EXCERPT]
    except UrlRefused as exc:
        outcome.error = str(exc)
    except httpx.TimeoutException:
        outcome.error = f"No answer within {timeout:g} s."
    except httpx.HTTPError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"[:300]
    outcome.latency_ms = int((time.monotonic() - started) * 1000)
    return outcome


def due(now: dt.datetime):
    """The deliveries that may be sent now, oldest first: pending, due, not held by a worker,
    to an enabled endpoint, and with no earlier pending one of their resource to their
    endpoint."""
    earlier = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"), resource_key=OuterRef("resource_key"),
        id__lt=OuterRef("id"), state=DeliveryState.PENDING)
    return (WebhookDelivery.objects
            .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now,
                    endpoint__enabled=True)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .exclude(Exists(earlier))
            .select_related("endpoint").order_by("id"))


def next_due() -> dt.datetime | None:
    """When the next pending delivery is due (held ones included), or None."""
    return (WebhookDelivery.objects.filter(state=DeliveryState.PENDING, endpoint__enabled=True)
            .aggregate(at=Min("next_attempt_at"))["at"])


def _timeout() -> float:
    return float(settings.WEBHOOKS_TIMEOUT_SECONDS)


def claim(now: dt.datetime, limit: int, *, rounds: int = 1) -> list[WebhookDelivery]:
    """Take up to ``limit`` due deliveries for this worker, to be sent in ``rounds`` one after
    the other: each is held (``lease_until``) until the last round's timeout has passed, so
    that no other worker sends it meanwhile. PostgreSQL skips rows another worker is taking;
    SQLite has one writer at a time."""
    lease = now + dt.timedelta(seconds=_timeout() * rounds) + LEASE_EXTRA
    with transaction.atomic():
        taken = list(due(now).select_for_update(skip_locked=True, of=("self",))[:limit])
        if taken:
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in taken]).update(
                lease_until=lease)
    return taken


def retry_delay(attempts: int, outcome: Outcome) -> dt.timedelta | None:
    """The wait after the ``attempts``-th failed attempt, or None when that was the last."""
    if attempts > len(RETRY_SCHEDULE):
        return None
    base = RETRY_SCHEDULE[attempts - 1]
    delay = base * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - jitter, not a secret
    if outcome.retry_after is not None:
        delay = max(delay, outcome.retry_after)
    return delay


def attempt(delivery: WebhookDelivery) -> Outcome:
    """Send one claimed delivery and record what came of it."""
    from crewline.webhooks.services import endpoint_disable

    endpoint: WebhookEndpoint = delivery.endpoint
    now = timezone.now()
    body = body_of(delivery.payload)
    headers = signed_headers(secrets=endpoint.secrets_now(now), msg_id=delivery.msg_id,
                             body=body, now=now)
    outcome = post(endpoint.url, body=body, headers=headers, timeout=_timeout())
    done = timezone.now()
    attempts = delivery.attempts + 1
    update = {"attempts": attempts, "lease_until": None, "last_status": outcome.status,
              "last_error": outcome.error[:300]}
    disable = ""
    if outcome.ok:
        update.update(state=DeliveryState.DELIVERED, delivered_at=done)
    elif outcome.status == 410:
        update.update(state=DeliveryState.FAILED)
        disable = "gone"
    else:
        delay = retry_delay(attempts, outcome)
        if delay is None:
            update.update(state=DeliveryState.FAILED)
            disable = "failing"
        else:
            update.update(next_attempt_at=done + delay)
    rows = WebhookDelivery.objects.filter(pk=delivery.pk)
    if not outcome.ok:
        # Skipped meanwhile (the endpoint was turned off): not tried again.
        rows = rows.filter(state=DeliveryState.PENDING)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            organization_id=delivery.organization_id, endpoint_id=endpoint.pk,
            delivery=delivery, started_at=now, status_code=outcome.status,
            latency_ms=outcome.latency_ms, response_excerpt=outcome.excerpt,
            error=outcome.error[:300])
        if rows.update(**update) and disable:
            endpoint_disable(endpoint=endpoint, by=None, reason=disable)
    for name, value in update.items():
        setattr(delivery, name, value)
    return outcome


def _attempt_logged(delivery: WebhookDelivery, *, own_connection: bool) -> None:
    try:
        attempt(delivery)
    except Exception:
        # Its lease runs out and it is sent again; one broken delivery does not stop the rest.
        logger.exception("Webhook delivery %s failed unexpectedly", delivery.pk)
    finally:
        if own_connection:
            connection.close()  # a thread's own connection (back to the pool, if any)


def deliver_due(*, limit: int | None = None) -> int:
    """Send up to ``limit`` deliveries that are due now (by default four rounds of
    ``WEBHOOKS_CONCURRENCY``, at least 16), that many at a time (each of another resource or
    endpoint: a resource's next event waits for the one before); returns how many were
    attempted."""
    concurrency = int(settings.WEBHOOKS_CONCURRENCY)
    limit = limit or max(16, 4 * concurrency)
    taken = claim(timezone.now(), limit, rounds=math.ceil(limit / concurrency))
    threads = min(concurrency, len(taken))
    if threads <= 1:
        for delivery in taken:
            _attempt_logged(delivery, own_connection=False)
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhooks") as pool:
            list(pool.map(lambda d: _attempt_logged(d, own_connection=True), taken))
    return len(taken)


def deliver_pending(*, budget: dt.timedelta = dt.timedelta(seconds=50)) -> int:
    """``deliver_due`` until nothing is due or ``budget`` is spent; returns how many."""
    started = time.monotonic()
    total = 0
    while time.monotonic() - started < budget.total_seconds():
        count = deliver_due()
        total += count
        if not count:
            break
    return total
