"""Background work for notifications: the email about a (batch of) change(s), Web Push."""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from crewline.notifications.models import Notification, PushSubscription

logger = logging.getLogger(__name__)

# A worker may pick a delayed task up a little early by its own clock.
CLOCK_SLACK = dt.timedelta(seconds=2)


@task()
def send_notification_email(notification_id: int) -> str:
    """Email the notification to its recipient, once.

    Sends only when the notification still exists, is unread, not yet emailed, its recipient
    still wants emails, and no change has touched it for the batch window (a later task covers a
    later change). Returns what it did, for the task log.
    """
    from crewline.notifications.services import BATCH_WINDOW, wants_email

    with transaction.atomic():
        notification = (Notification.objects.select_for_update(of=("self",))
                        .select_related("recipient__user", "organization")
                        .filter(pk=notification_id).first())
        if notification is None:
            return "gone"
        if notification.read_at is not None or notification.emailed_at is not None:
            return "already read or emailed"
        member = notification.recipient
        if not wants_email(member, notification.kind):
            return "not wanted"
        if notification.batch_key and (
                timezone.now() + CLOCK_SLACK < notification.updated_at + BATCH_WINDOW):
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


# How long a push service keeps a message for an offline phone.
PUSH_TTL = 24 * 60 * 60


def push_payload(notification: Notification) -> dict[str, str]:
    """What the phone's service worker shows: a title, a line of text and where a tap goes.

    A technician's visit change opens that visit in the phone app, which has it offline; the
    rest open the notification's own page."""
    from crewline.notifications.models import TECHNICIAN_KINDS

    url = notification.url or "/"
    visit = (notification.data or {}).get("visit")
    if notification.kind in TECHNICIAN_KINDS and visit:
        url = reverse("field:app") + f"#visit/{int(visit)}"
    return {"title": notification.title, "body": notification.body[:300],
            "url": settings.SITE_URL + url, "tag": f"notification-{notification.pk}"}


@task()
def send_notification_push(notification_id: int) -> str:
    """Send a notification to each of its recipient's browsers by Web Push (VAPID).

    Does nothing without ``VAPID_PRIVATE_KEY``. A subscription the push service says is gone
    (404 or 410) is deleted. Returns what it did, for the task log.
    """
    from pywebpush import WebPushException, webpush

    if not settings.VAPID_PRIVATE_KEY:
        return "push not configured"
    notification = (Notification.objects.select_related("recipient")
                    .filter(pk=notification_id).first())
    if notification is None:
        return "gone"
    if notification.read_at is not None:
        return "already read"
    subscriptions = list(PushSubscription.objects.filter(member_id=notification.recipient_id))
    if not subscriptions:
        return "no subscriptions"
    data = json.dumps(push_payload(notification))
    sent = 0
    for subscription in subscriptions:
        try:
            webpush(
                subscription_info={"endpoint": subscription.endpoint,
                                   "keys": {"p256dh": subscription.p256dh,
                                            "auth": subscription.auth}},
                data=data, vapid_private_key=settings.VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.VAPID_SUBJECT}, ttl=PUSH_TTL, timeout=10,
            )
            sent += 1
        except WebPushException as exc:
            status = getattr(exc.response, "status_code", None)
            if status in (404, 410):
                subscription.delete()
            else:
                logger.warning("Push to %s failed: %s", subscription.endpoint[:60], exc)
    return f"sent {sent} of {len(subscriptions)}"
