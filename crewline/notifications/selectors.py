"""Reads of notifications: always a member's own."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from crewline.core.models import Member
from crewline.notifications.models import Notification


def notifications_for_member(*, member: Member) -> QuerySet[Notification]:
    """The member's notifications, unread first, then newest first."""
    return (Notification.objects.filter(organization_id=member.organization_id, recipient=member)
            .alias(unread=ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField()))
            .order_by("-unread", "-updated_at", "-id"))


def unread_count(*, member: Member) -> int:
    return Notification.objects.filter(organization_id=member.organization_id, recipient=member,
                                       read_at__isnull=True).count()


def notification_for_member_or_404(*, member: Member, pk: int) -> Notification:
    """One of the member's own notifications; anybody else's (or none) is a 404."""
    from crewline.core.access import get_for_org_or_404

    return get_for_org_or_404(Notification.objects.filter(recipient=member),
                              member.organization, pk=pk)
