"""The outbox: a change that is an event writes, in its own transaction, one delivery per
enabled endpoint of its organization that subscribed to the event.

Why here and not a worker reading the change log by a cursor: a delivery row committed with
its change is the endpoint's own queue, with its attempts and next try, and it is there until it
is sent, whatever happens to a worker; a cursor per endpoint would have to keep all of that too.
The cost is one indexed query per change that is an
event (none that is not), and a row per subscribed endpoint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from crewline.live.models import Change
from crewline.webhooks.models import WebhookDelivery, WebhookEndpoint


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def event_payload(change: Change) -> dict:
    """The body of the change's webhook (Standard Webhooks: type, timestamp, data); ``data`` is
    the change as the API's change feed gives it, with the same id."""
    from crewline.api.feed import change_entry  # the feed's one shape of an entry

    entry = change_entry(change, _absolute)
    entry["created_at"] = _utc(change.created_at)
    return {"type": change.event, "timestamp": entry["created_at"], "data": entry}


def resource_key(change: Change) -> str:
    return f"{change.kind}:{change.object_id or ''}"


def delivery_for(change: Change, endpoint_id: int) -> WebhookDelivery:
    return WebhookDelivery(organization_id=change.organization_id, endpoint_id=endpoint_id,
                           change=change, msg_id=str(change.pk), event=change.event,
                           resource_key=resource_key(change), payload=event_payload(change))


def outbox_write(*, changes: Iterable[Change]) -> list[WebhookDelivery]:
    """In the changes' transaction: the deliveries of the ``changes`` (saved) that are events,
    to every enabled endpoint subscribed to them; the worker is woken once it commits."""
    evented = [c for c in changes if c.event]
    if not evented:
        return []
    endpoints = list(WebhookEndpoint.objects.filter(
        organization_id__in={c.organization_id for c in evented}, enabled=True)
        .values_list("id", "organization_id", "events"))
    rows = [delivery_for(change, endpoint_id)
            for change in evented
            for endpoint_id, organization_id, events in endpoints
            if organization_id == change.organization_id and change.event in events]
    if rows:
        WebhookDelivery.objects.bulk_create(rows)
        transaction.on_commit(wake)
    return rows


def wake() -> None:
    """Ask the worker to send what is due now. Without a worker (the tests' immediate backend)
    nothing is queued: deliveries wait for ``deliver_due`` or the sweep."""
    from crewline.webhooks.tasks import waiting, webhooks_deliver

    if not webhooks_deliver.get_backend().supports_defer:
        return
    # One run waiting to start is enough: it claims what is due when it starts, which is after
    # this change committed. A run under way (or none) gets one queued after it. Without this,
    # every change queued a run of its own, and at 50 changes a second the worker spent its
    # time starting runs that found nothing, while the queue, and the delay, grew.
    try:
        if waiting(webhooks_deliver, before=timezone.now()):
            return
    except (ImportError, DatabaseError):
        pass
    webhooks_deliver.enqueue()
