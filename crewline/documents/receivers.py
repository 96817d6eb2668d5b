"""Job reports follow the work order: one is made when it is completed, and photos are scaled
down as they arrive so that reports need not."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from crewline.workorders.models import EntryKind, Status, TimelineEntry


@receiver(post_save, sender=TimelineEntry, dispatch_uid="documents_timeline_entry_saved")
def timeline_entry_saved(sender, instance: TimelineEntry, created: bool, raw: bool = False,
                         **kwargs) -> None:
    """Every status change writes a timeline entry (workorders.services._transition), so the
    entry recording "→ completed" is the one place every way of completing a job passes."""
    if not created or raw:
        return
    from crewline.documents.tasks import job_report_on_completion, make_rendition

    if (instance.kind == EntryKind.STATUS and isinstance(instance.data, dict)
            and instance.data.get("to") == Status.COMPLETED):
        work_order_id = instance.work_order_id
        transaction.on_commit(lambda: job_report_on_completion.enqueue(work_order_id))
    elif instance.kind in (EntryKind.PHOTO, EntryKind.SIGNATURE) and instance.attachment:
        entry_id = instance.pk
        transaction.on_commit(lambda: make_rendition.enqueue(entry_id))
