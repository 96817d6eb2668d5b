"""Writes to calendar feeds: make (or remake) one, revoke one. Both are audited."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from crewline.calendars.models import CalendarFeed
from crewline.core.audit import audit_record
from crewline.core.models import Member, Organization


def _revoke_live(*, organization: Organization, member: Member | None, by: Member) -> int:
    live = CalendarFeed.objects.select_for_update().filter(
        organization=organization, member=member, revoked_at__isnull=True)
    revoked = 0
    for feed in live:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        audit_record(organization=organization, actor=by, action="calendar_feed.revoke",
                     obj=feed, object_repr=_feed_repr(member),
                     changes={"revoked_at": [None, feed.revoked_at]})
        revoked += 1
    return revoked


def _feed_repr(member: Member | None) -> str:
    return f"Calendar feed of {member.name}" if member else "Office calendar feed"


def calendar_feed_create(*, organization: Organization, member: Member | None,
                         by: Member) -> tuple[CalendarFeed, str]:
    """A new feed for ``member`` (None: the office feed); the live one it replaces is revoked.

    Returns the feed and its token: the only time the token exists in clear. Preconditions
    (checked by the caller's view): a member makes their own feed; owners and office staff make
    the office feed.
    """
    if member is not None and member.organization_id != organization.pk:
        raise ValueError("The member belongs to another organization.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        _revoke_live(organization=organization, member=member, by=by)
        feed = CalendarFeed.objects.create(organization=organization, member=member,
                                           token_hash=CalendarFeed.hash_token(token),
                                           created_by=by)
        audit_record(organization=organization, actor=by, action="calendar_feed.create",
                     obj=feed, object_repr=_feed_repr(member))
    return feed, token


def calendar_feed_revoke(*, organization: Organization, member: Member | None,
                         by: Member) -> int:
    """Revoke the live feed of ``member`` (None: the office feed); returns how many (0 or 1)."""
    with transaction.atomic():
        return _revoke_live(organization=organization, member=member, by=by)
