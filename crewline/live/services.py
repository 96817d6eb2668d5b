"""Recording live events in the transaction of a change and publishing them after it commits."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from crewline.core.models import Member
from crewline.live.broker import get_broker
from crewline.live.models import Event

logger = logging.getLogger(__name__)

KEEP = dt.timedelta(days=1)
# Old events are pruned by the process that writes every PRUNE_EVERY-th one: no scheduled job.
PRUNE_EVERY = 500
TOPIC_RE = re.compile(r"^(?:wo:\d+|quote:\d+|board:\d{4}-\d{2}-\d{2}|list|member:\d+)$")
OFFICE_PREFIXES = ("wo:", "quote:", "board:", "list")


def topic_allowed(member: Member, topic: str) -> bool:
    """May ``member`` listen to ``topic``? The office hears everything of its organization;
    a technician only their own ``member:`` topic."""
    if not TOPIC_RE.match(topic):
        return False
    if member.is_office:
        return True
    return topic == f"member:{member.pk}"


def event_record(*, organization_id: int, topics: Iterable[str], payload: dict) -> list[Event]:
    """Write one event per topic in the current transaction; publish them once it commits."""
    events = [Event(organization_id=organization_id, topic=topic, payload=payload)
              for topic in dict.fromkeys(topics)]
    if not events:
        return []
    events = Event.objects.bulk_create(events)
    transaction.on_commit(lambda: events_publish(events))
    return events


def events_publish(events: list[Event]) -> None:
    broker = get_broker()
    for event in events:
        try:
            broker.publish(event.message())
        except Exception:
            # The change is committed; a stream that missed it catches up from the table when
            # it reconnects. A broken broker must not fail the request that made the change.
            logger.exception("Could not publish live event %s.", event.pk)
    if any(e.pk % PRUNE_EVERY == 0 for e in events):
        events_prune()


def events_prune(*, now: dt.datetime | None = None) -> int:
    """Delete events older than a day; returns how many."""
    cutoff = (now or timezone.now()) - KEEP
    deleted, _ = Event.objects.filter(created_at__lt=cutoff).delete()
    return deleted
