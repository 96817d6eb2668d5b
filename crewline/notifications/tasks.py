"""Background work for notifications: the email about a (batch of) change(s), Web Push, and
the check for late visits.

The late check runs every ``LATE_CHECK_EVERY`` without cron, as the maintenance plans' daily run
does: ``late_visits_check`` queues its own next run when it finishes, and ``ensure_late_check``
(called after every ``migrate``, which ``crewline run`` does on each start) queues one if none
is waiting. Backends that cannot defer (the immediate backend of the tests) get no periodic run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
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
                        .select_related("recipient__user", "recipient__organization",
                                        "organization")
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
            "link": site + link_path(notification),
            "list_link": site + reverse("notifications:list"),
            "profile_link": site + reverse("core:profile"),
        }
        with translation.override(member.messages_language):
            subject = f"[{notification.organization.name}] {notification.title}"
            text = render_to_string("notifications/email/notification.txt", context)
            html = render_to_string("notifications/email/notification.html", context)
        send_mail(subject, text, None, [member.user.email], html_message=html)
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return "sent"


# How long a push service keeps a message for an offline phone.
PUSH_TTL = 24 * 60 * 60


def link_path(notification: Notification) -> str:
    """Where an email's or a push's link goes. A technician's visit change opens that visit in
    the phone app, which has it offline (``/field/?visit=<id>``, which survives the login a
    phone may ask for first); the rest open the notification's own page."""
    from crewline.field.links import app_visit_path
    from crewline.notifications.models import TECHNICIAN_KINDS

    visit = (notification.data or {}).get("visit")
    if notification.kind in TECHNICIAN_KINDS and visit:
        return app_visit_path(int(visit))
    return notification.url or "/"


def push_payload(notification: Notification) -> dict[str, str]:
    """What the phone's service worker shows: a title, a line of text and where a tap goes
    (``link_path``)."""
    return {"title": notification.title, "body": notification.body[:300],
            "url": settings.SITE_URL + link_path(notification),
            "tag": f"notification-{notification.pk}"}


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
                # Gone for every member who shares that browser.
                PushSubscription.objects.filter(endpoint=subscription.endpoint).delete()
            else:
                logger.warning("Push to %s failed: %s", subscription.endpoint[:60], exc)
    return f"sent {sent} of {len(subscriptions)}"


# How often the office's "late" notifications are looked for.
LATE_CHECK_EVERY = dt.timedelta(minutes=5)


def check_late_visits_now(now: dt.datetime | None = None) -> dict:
    """``late_visits_notify`` for every organization that may have a late visit. One
    organization failing is logged and does not stop the others."""
    from crewline.core.models import Organization
    from crewline.notifications.services import LATE_NOTICE_WITHIN, late_visits_notify
    from crewline.workorders.models import Visit, VisitStatus

    now = now or timezone.now()
    # A cheap superset of the organizations with a late visit (the dashboard's rules decide
    # which visits are), so that organizations with nothing going on cost nothing.
    maybe_late = (Visit.objects.filter(
        Q(status__in=[VisitStatus.SCHEDULED, VisitStatus.EN_ROUTE],
          end__lt=now, end__gte=now - LATE_NOTICE_WITHIN)
        | Q(status=VisitStatus.ON_SITE, arrived_at__isnull=False))
        .order_by().values("organization_id").distinct())
    totals = {"organizations": 0, "notified": 0, "failed": 0}
    for organization in Organization.objects.filter(pk__in=maybe_late).order_by("pk"):
        try:
            notices = late_visits_notify(organization=organization, now=now)
        except Exception:
            logger.exception("Late visits of organization %s could not be checked",
                             organization.pk)
            totals["failed"] += 1
            continue
        totals["organizations"] += 1
        totals["notified"] += len(notices)
    return totals


@task()
def late_visits_check() -> dict:
    """The periodic run: tell the office of newly late visits, then queue the next run."""
    try:
        return check_late_visits_now()
    finally:
        ensure_late_check()


def ensure_late_check(now: dt.datetime | None = None) -> bool:
    """Queue the late check for ``LATE_CHECK_EVERY`` from now unless one is already waiting.
    True if queued (once, however many processes ask at the same moment:
    ``crewline.core.periodic``)."""
    from crewline.core.periodic import queue_once

    return queue_once(late_visits_check, run_after=(now or timezone.now()) + LATE_CHECK_EVERY,
                      what="late visit check")
