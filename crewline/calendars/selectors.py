"""Reads for calendar feeds: the feed behind a token, and the visits a feed publishes."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from crewline.calendars.models import CalendarFeed
from crewline.core.models import Member
from crewline.workorders.models import Visit

# What a feed covers: recent past (so yesterday's visits do not vanish) and the months ahead.
DAYS_BACK = 30
DAYS_AHEAD = 180


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed the token opens, or None (unknown, revoked, or its member has left)."""
    if not token or len(token) > 200:
        return None
    feed = (CalendarFeed.objects.select_related("organization", "member__user")
            .filter(token_hash=CalendarFeed.hash_token(token), revoked_at__isnull=True).first())
    if feed is None or (feed.member is not None and not feed.member.is_active):
        return None
    return feed


def live_feeds(*, member: Member) -> dict[str, CalendarFeed | None]:
    """The live feeds the member manages: ``{"mine": ..., "office": ...}`` (office: staff only)."""
    feeds = CalendarFeed.objects.filter(organization_id=member.organization_id,
                                        revoked_at__isnull=True)
    if member.is_office:
        feeds = feeds.filter(member__isnull=True) | feeds.filter(member=member)
    else:
        feeds = feeds.filter(member=member)
    found = {("office" if f.member_id is None else "mine"): f for f in feeds}
    return {"mine": found.get("mine"), "office": found.get("office")}


def feed_visits(*, feed: CalendarFeed, now: dt.datetime | None = None) -> QuerySet[Visit]:
    """The visits ``feed`` publishes: the member's (or, for the office feed, everyone's) timed
    visits from ``DAYS_BACK`` ago to ``DAYS_AHEAD`` ahead, cancelled ones included so that
    calendars take them off."""
    now = now or timezone.now()
    visits = (Visit.objects.filter(organization_id=feed.organization_id, start__isnull=False,
                                   end__gte=now - dt.timedelta(days=DAYS_BACK),
                                   start__lt=now + dt.timedelta(days=DAYS_AHEAD))
              .select_related("work_order__customer", "work_order__site")
              .prefetch_related(Prefetch("crew", queryset=Member.objects.select_related("user")
                                         .order_by("user__full_name", "pk")))
              .order_by("start", "id"))
    if feed.member_id is not None:
        visits = visits.filter(crew=feed.member_id)
    return visits
