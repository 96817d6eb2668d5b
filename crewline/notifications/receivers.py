"""Signal receivers: other apps' events become notifications (rows only; email and push go by
task once the event's transaction commits).

- visit changes (``visit_changed``) → the crew;
- a visit that could not be completed (the follow-up entry ``visit_incomplete`` writes on the
  work order's timeline) → the office;
- a change from a phone that was rejected: the field app writes the office's notifications
  itself (in bulk, so without signals); here they only get their emails and pushes;
- a quote approved by the customer → the office;
- any new notification → a Web Push to its recipient's browsers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from crewline.notifications.models import Notification, NotificationKind
from crewline.notifications.services import (
    _enqueue_email,
    notify_office,
    notify_visit_changed,
    wants_email,
)
from crewline.workorders.models import TimelineEntry
from crewline.workorders.signals import visit_changed


@receiver(visit_changed, dispatch_uid="notifications.visit_changed")
def on_visit_changed(sender: Any, *, visit, by, change, before, after, **kwargs: Any) -> None:
    notify_visit_changed(visit=visit, by=by, change=change, before=before, after=after)


@receiver(post_save, sender=Notification, dispatch_uid="notifications.push_new")
def on_notification_created(sender: Any, instance: Notification, created: bool,
                            raw: bool = False, update_fields=None, **kwargs: Any) -> None:
    # A batch rewritten by a later change (assigned, then moved a minute later) pushes again;
    # the phone replaces the alert it shows, which has the same tag.
    rewritten = update_fields is not None and "title" in update_fields
    if (created or rewritten) and not raw:
        _enqueue_push(instance.pk)


def _enqueue_push(notification_id: int) -> None:
    from crewline.notifications.tasks import send_notification_push

    if not settings.VAPID_PRIVATE_KEY:
        return
    transaction.on_commit(lambda: send_notification_push.enqueue(notification_id))


@receiver(post_save, sender=TimelineEntry, dispatch_uid="notifications.job_incomplete")
def on_timeline_entry(sender: Any, instance: TimelineEntry, created: bool, raw: bool = False,
                      **kwargs: Any) -> None:
    if not created or raw or (instance.data or {}).get("event") != "follow_up":
        return
    wo = instance.work_order
    author = instance.author
    who = author.name if author is not None else _("A technician")
    notify_office(
        organization_id=instance.organization_id, kind=NotificationKind.JOB_INCOMPLETE,
        title=_("%(who)s could not complete %(ref)s %(title)s")
        % {"who": who, "ref": wo.reference, "title": wo.title},
        body=instance.body,
        url=reverse("workorders:detail", kwargs={"number": wo.number}),
        data={"work_order": wo.number, "visit": instance.visit_id}, exclude=author,
    )


def _connect_optional() -> None:
    """Hooks on apps that may not be installed."""
    from django.apps import apps

    if apps.is_installed("crewline.field"):
        from crewline.field.models import RejectedMutation

        post_save.connect(on_rejected_mutation, sender=RejectedMutation,
                          dispatch_uid="notifications.sync_rejected")
    if apps.is_installed("crewline.billing"):
        from crewline.billing.models import Quote

        pre_save.connect(remember_quote_status, sender=Quote,
                         dispatch_uid="notifications.quote_status_before")
        post_save.connect(on_quote_saved, sender=Quote,
                          dispatch_uid="notifications.quote_approved")


def on_rejected_mutation(sender: Any, instance: Any, created: bool, raw: bool = False,
                         **kwargs: Any) -> None:
    """The field app notifies the office of a rejected change in bulk right after saving it;
    once that commits, send those notifications' emails and pushes."""
    if not created or raw:
        return
    rejected_id = instance.pk

    def follow_up() -> None:
        for notification in (Notification.objects.select_related("recipient__user")
                             .filter(organization_id=instance.organization_id,
                                     kind=NotificationKind.SYNC_REJECTED,
                                     data__rejected=rejected_id)):
            if wants_email(notification.recipient, notification.kind):
                _enqueue_email(notification)
            _enqueue_push(notification.pk)

    transaction.on_commit(follow_up)


def remember_quote_status(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if raw or instance.pk is None or (update_fields is not None
                                      and "status" not in update_fields):
        return
    instance._status_before_save = (sender.objects.filter(pk=instance.pk)
                                    .values_list("status", flat=True).first())


def on_quote_saved(sender: Any, instance: Any, created: bool, raw: bool = False,
                   **kwargs: Any) -> None:
    from crewline.billing.models import QuoteStatus

    before = getattr(instance, "_status_before_save", None)
    instance._status_before_save = instance.status
    if raw or instance.status != QuoteStatus.APPROVED or before in (None, QuoteStatus.APPROVED):
        return
    name = instance.approved_by_name or instance.customer.name
    notify_office(
        organization_id=instance.organization_id, kind=NotificationKind.QUOTE_APPROVED,
        title=_("%(ref)s %(title)s approved by %(name)s")
        % {"ref": instance.reference, "title": instance.title, "name": name},
        url=reverse("billing:quote", kwargs={"pk": instance.pk}),
        data={"quote": instance.pk},
    )


_connect_optional()
