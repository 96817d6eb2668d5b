"""Job reports follow the work order: one is made when it is completed, a new version when what
the customer may see of it changes, and photos and signatures are scaled down as they arrive so
that reports need not. Each listens to a signal the work order services send
(``crewline.workorders.signals``); the work waits for the commit, in a task."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from crewline.workorders.models import EntryKind, Status, TimelineEntry
from crewline.workorders.signals import (
    entry_visibility_changed,
    timeline_file_added,
    work_order_completed,
)


@receiver(work_order_completed, dispatch_uid="documents.work_order_completed")
def on_work_order_completed(sender, work_order, by=None, **kwargs) -> None:
    from crewline.documents.tasks import job_report_on_completion

    work_order_id = work_order.pk
    transaction.on_commit(lambda: job_report_on_completion.enqueue(work_order_id))


@receiver(timeline_file_added, dispatch_uid="documents.timeline_file_added")
def on_timeline_file_added(sender, entry: TimelineEntry, **kwargs) -> None:
    if entry.kind not in (EntryKind.PHOTO, EntryKind.SIGNATURE):
        return
    from crewline.documents.tasks import make_rendition

    entry_id = entry.pk
    transaction.on_commit(lambda: make_rendition.enqueue(entry_id))


@receiver(entry_visibility_changed, dispatch_uid="documents.entry_visibility_changed")
def on_entry_visibility_changed(sender, entry: TimelineEntry, by=None, **kwargs) -> None:
    """A note or photo shared or taken back on a job that has a report: a new version, so the
    report the customer may be sent shows what they may now see."""
    from crewline.documents.models import JobReport
    from crewline.documents.tasks import job_report_refresh
    from crewline.workorders.selectors import REPORT_KINDS

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
