"""Job reports follow the work order: one is made when it is completed, a new version when what
the customer may see of it changes, and photos are scaled down as they arrive so that reports
need not."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from crewline.workorders.models import EntryKind, Status, TimelineEntry
from crewline.workorders.signals import entry_visibility_changed


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


@receiver(entry_visibility_changed, dispatch_uid="documents_entry_visibility_changed")
def entry_visibility_changed_received(sender, entry: TimelineEntry, by=None, **kwargs) -> None:
    """A note or photo shared or taken back on a job that has a report: a new version, so the
    report the customer may be sent shows what they may now see."""
    from crewline.documents.models import JobReport
    from crewline.documents.selectors import REPORT_KINDS
    from crewline.documents.tasks import job_report_refresh

    if entry.kind not in REPORT_KINDS:
        return
    work_order = entry.work_order
    if work_order.status not in (Status.COMPLETED, Status.INVOICED) and not (
            JobReport.objects.filter(work_order_id=work_order.pk).exists()):
        return  # made on completion, with what is visible then
    requested_at = timezone.now().isoformat()
    by_id = by.pk if by is not None else None
    transaction.on_commit(lambda: job_report_refresh.enqueue(work_order.pk, requested_at,
                                                             by_id))
