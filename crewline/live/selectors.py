"""Reading the event log for streams catching up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db.models import Max, QuerySet

from crewline.live.models import Event

REPLAY_LIMIT = 500


def events_after(*, organization_id: int, topics: Collection[str], after_id: int | None = None,
                 since: dt.datetime | None = None) -> QuerySet[Event]:
    """The organization's events on ``topics`` after event ``after_id`` (or created at or after
    ``since``), oldest first, at most ``REPLAY_LIMIT``."""
    events = Event.objects.filter(organization_id=organization_id, topic__in=list(topics))
    if after_id is not None:
        events = events.filter(id__gt=after_id)
    elif since is not None:
        events = events.filter(created_at__gte=since)
    else:
        return events.none()
    return events.order_by("id")[:REPLAY_LIMIT]


async def latest_event_id(*, organization_id: int) -> int:
    """The organization's newest event id (0 if none): where a fresh stream starts."""
    found = await Event.objects.filter(organization_id=organization_id).aaggregate(top=Max("id"))
    return found["top"] or 0
