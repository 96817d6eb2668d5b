"""Background work for notifications: the email about a (batch of) change(s)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from crewline.notifications.models import Notification

# A worker may pick a delayed task up a little early by its own clock.
CLOCK_SLACK = dt.timedelta(seconds=2)


@task()
def send_notification_email(notification_id: int) -> str:
    """Email the notification to its recipient, once.

    Sends only when the notification still exists, is unread, not yet emailed, its recipient
    still wants emails, and no change has touched it for the batch window (a later task covers a
    later change). Returns what it did, for the task log.
    """
    from crewline.notifications.services import BATCH_WINDOW

    with transaction.atomic():
        notification = (Notification.objects.select_for_update(of=("self",))
                        .select_related("recipient__user", "organization")
                        .filter(pk=notification_id).first())
        if notification is None:
            return "gone"
        if notification.read_at is not None or notification.emailed_at is not None:
            return "already read or emailed"
        member = notification.recipient
        if not (member.is_active and member.notify_by_email and member.user.email):
            return "not wanted"
        if timezone.now() + CLOCK_SLACK < notification.updated_at + BATCH_WINDOW:
            return "batch still open"
        site = settings.SITE_URL
        context = {
            "notification": notification,
            "organization": notification.organization,
            "member": member,
            "link": site + notification.url if notification.url else site + "/",
            "list_link": site + reverse("notifications:list"),
            "profile_link": site + reverse("core:profile"),
        }
        with translation.override(member.language or settings.LANGUAGE_CODE):
            subject = f"[{notification.organization.name}] {notification.title}"
            text = render_to_string("notifications/email/notification.txt", context)
            html = render_to_string("notifications/email/notification.html", context)
        send_mail(subject, text, None, [member.user.email], html_message=html)
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return "sent"
