"""Write a change-log row whenever something a phone shows changes, in the same transaction.

Receivers only insert rows. Bulk ``update()`` calls send no signal; the services that use them
also write a timeline entry of the work order, which is logged here and covers its visits.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from crewline.customers.models import Customer, Equipment, Site
from crewline.field.models import ChangeKind, ChangeLog, FieldSettings
from crewline.notifications.models import Notification
from crewline.timesheets.models import TimeEntry
from crewline.workorders.models import TimelineEntry, Visit, WorkOrder
from crewline.workorders.signals import visit_changed

_batch: contextvars.ContextVar[dict[tuple[int, str, int | None], None] | None] = (
    contextvars.ContextVar("crewline_change_batch", default=None))


def log_change(organization_id: int, kind: str, object_id: int | None) -> None:
    batch = _batch.get()
    if batch is not None:
        batch[(organization_id, kind, object_id)] = None
        return
    ChangeLog.objects.create(organization_id=organization_id, kind=kind, object_id=object_id)


@contextmanager
def changes_batched() -> Iterator[None]:
    """Inside a transaction: write the block's change-log rows at its end, each change once, in
    one insert (the sync push). Rows of a savepoint that rolled back inside the block are
    written too: a phone is then sent an unchanged object again, which is harmless."""
    pending: dict[tuple[int, str, int | None], None] = {}
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
    ChangeLog.objects.bulk_create([ChangeLog(organization_id=org, kind=kind, object_id=pk)
                                   for org, kind, pk in pending])


@receiver(visit_changed, dispatch_uid="field.visit_changed")
def on_visit_changed(sender: Any, *, visit: Visit, **kwargs: Any) -> None:
    log_change(visit.organization_id, ChangeKind.VISIT, visit.pk)


@receiver(post_save, sender=Visit, dispatch_uid="field.visit_saved")
def on_visit_saved(sender: Any, instance: Visit, **kwargs: Any) -> None:
    log_change(instance.organization_id, ChangeKind.VISIT, instance.pk)


@receiver(post_save, sender=WorkOrder, dispatch_uid="field.work_order_saved")
def on_work_order_saved(sender: Any, instance: WorkOrder, **kwargs: Any) -> None:
    log_change(instance.organization_id, ChangeKind.WORK_ORDER, instance.pk)


@receiver(post_save, sender=TimelineEntry, dispatch_uid="field.timeline_saved")
def on_timeline_saved(sender: Any, instance: TimelineEntry, **kwargs: Any) -> None:
    log_change(instance.organization_id, ChangeKind.WORK_ORDER, instance.work_order_id)


@receiver(post_save, sender=Site, dispatch_uid="field.site_saved")
def on_site_saved(sender: Any, instance: Site, **kwargs: Any) -> None:
    log_change(instance.organization_id, ChangeKind.SITE, instance.pk)


@receiver(post_save, sender=Equipment, dispatch_uid="field.equipment_saved")
def on_equipment_saved(sender: Any, instance: Equipment, **kwargs: Any) -> None:
    log_change(instance.organization_id, ChangeKind.SITE, instance.site_id)


@receiver(post_save, sender=Customer, dispatch_uid="field.customer_saved")
def on_customer_saved(sender: Any, instance: Customer, **kwargs: Any) -> None:
    log_change(instance.organization_id, ChangeKind.CUSTOMER, instance.pk)


@receiver(post_save, sender=Notification, dispatch_uid="field.notification_saved")
@receiver(post_delete, sender=Notification, dispatch_uid="field.notification_deleted")
def on_notification_changed(sender: Any, instance: Notification, **kwargs: Any) -> None:
    log_change(instance.organization_id, ChangeKind.NOTIFICATION, instance.recipient_id)


@receiver(post_save, sender=TimeEntry, dispatch_uid="field.time_entry_saved")
def on_time_entry_saved(sender: Any, instance: TimeEntry, **kwargs: Any) -> None:
    log_change(instance.organization_id, ChangeKind.MEMBER, instance.member_id)


@receiver(post_save, sender=FieldSettings, dispatch_uid="field.settings_saved")
def on_settings_saved(sender: Any, instance: FieldSettings, **kwargs: Any) -> None:
    # Who sees what may have changed: every phone starts again from a full snapshot.
    log_change(instance.organization_id, ChangeKind.RESET, None)


def on_price_item_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # The phone keeps the price book for picking parts offline: added, renamed and archived
    # items reach it with the next pull.
    log_change(instance.organization_id, ChangeKind.PRICE_ITEM, instance.pk)


if apps.is_installed("crewline.billing"):
    post_save.connect(on_price_item_changed, sender="billing.PriceBookItem",
                      dispatch_uid="field.price_item_saved")
    post_delete.connect(on_price_item_changed, sender="billing.PriceBookItem",
                        dispatch_uid="field.price_item_deleted")
