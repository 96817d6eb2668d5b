"""Background delivery of webhooks.

``webhooks_deliver`` is queued when a change with deliveries commits (``outbox.wake``): it
sends what is due and queues itself again for the next retry due within ``SWEEP_EVERY``. The
sweep, ``webhooks_sweep``, runs every ``SWEEP_EVERY`` without cron, as the late visit check
does: it sends what a lost wake-up or a killed worker left behind, and queues its own next run;
``ensure_sweep`` (after every ``migrate``, which ``crewline run`` does on each start) queues one
if none is waiting. Backends that cannot defer (the tests' immediate backend) get neither.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import DatabaseError
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)

SWEEP_EVERY = dt.timedelta(seconds=60)


def waiting(task_obj, *, before: dt.datetime | None = None) -> bool:
    """Is a run of ``task_obj`` queued and not started (due by ``before``, if given)?"""
    from django.db.models import Q
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(task_path=task_obj.module_path,
                                         status=TaskResultStatus.READY)
    if before is not None:
        queued = queued.filter(Q(run_after__isnull=True) | Q(run_after__lte=before))
    return queued.exists()


@task()
def webhooks_deliver() -> dict:
    """Send the deliveries that are due; queue the next run for a retry due soon."""
    from crewline.webhooks.delivery import deliver_pending, next_due

    sent = deliver_pending()
    at = next_due()
    now = timezone.now()
    if (at is not None and at < now + SWEEP_EVERY
            and webhooks_deliver.get_backend().supports_defer):
        try:
            if not waiting(webhooks_deliver, before=max(at, now)):
                webhooks_deliver.using(run_after=max(at, now)).enqueue()
        except (ImportError, DatabaseError):
            logger.warning("Could not queue the next webhook delivery run", exc_info=True)
    # A worker killed during the sweep left none waiting: any delivery run queues it again.
    ensure_sweep()
    return {"attempted": sent}


@task()
def webhooks_sweep() -> dict:
    """The periodic run: send whatever is due, then queue the next run."""
    from crewline.webhooks.delivery import deliver_pending

    try:
        return {"attempted": deliver_pending()}
    finally:
        ensure_sweep()


def ensure_sweep(now: dt.datetime | None = None) -> bool:
    """Queue the sweep for ``SWEEP_EVERY`` from now unless one is already waiting (once, however
    many processes ask at the same moment: ``crewline.core.periodic``)."""
    from crewline.core.periodic import queue_once

    return queue_once(webhooks_sweep, run_after=(now or timezone.now()) + SWEEP_EVERY,
                      what="webhook sweep")
