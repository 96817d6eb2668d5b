"""The navbar bell's unread count, counted only when a page actually shows it."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def notifications(request: HttpRequest) -> dict:
    member = getattr(request, "member", None)
    if member is None:
        return {}

    def count() -> int:
        from crewline.notifications.selectors import unread_count

        return unread_count(member=member)

    return {"notifications_unread": SimpleLazyObject(count)}
