"""Background sending of messages to customers.

``messages_send`` is queued when a planned message commits (``wake``): it sends what is due
and queues itself for the next message due within ``SWEEP_EVERY``. The sweep,
``messages_sweep``, runs every ``SWEEP_EVERY`` without cron, as the webhooks' does: it sends
what a re-planned reminder, a lost wake-up or a killed worker left, and queues its own next
run; ``ensure_sweep`` (after every ``migrate``) queues one if none is waiting. Backends that
cannot defer (the tests' immediate backend) run what is due at once and get no sweep: tests
call ``send_due`` with the clock moved.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import DatabaseError
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)

SWEEP_EVERY = dt.timedelta(seconds=60)


@task()
def messages_send() -> dict:
    """Send the messages that are due; queue the next run for one due soon."""
    from crewline.messaging.sending import next_due, send_due
    from crewline.webhooks.tasks import waiting

    totals = send_due()
    at, now = next_due(), timezone.now()
    if (at is not None and at < now + SWEEP_EVERY
            and messages_send.get_backend().supports_defer):
        try:
            if not waiting(messages_send, before=max(at, now)):
                messages_send.using(run_after=max(at, now)).enqueue()
        except (ImportError, DatabaseError):
            logger.warning("Could not queue the next message run", exc_info=True)
    ensure_sweep()
    return totals


@task()
def messages_sweep() -> dict:
    """The periodic run: send whatever is due, then queue the next run."""
    from crewline.messaging.sending import send_due

    try:
        return send_due()
    finally:
        ensure_sweep()


def wake() -> None:
    """Send what is due now (on commit of the transaction that planned it)."""
    from crewline.webhooks.tasks import waiting

    try:
        if messages_send.get_backend().supports_defer and waiting(
                messages_send, before=timezone.now()):
            return
        messages_send.enqueue()
    except (ImportError, DatabaseError):
        logger.warning("Could not queue the message run", exc_info=True)


def ensure_sweep(now: dt.datetime | None = None) -> bool:
    from crewline.core.periodic import queue_once

    return queue_once(messages_sweep, run_after=(now or timezone.now()) + SWEEP_EVERY,
                      what="message sweep")
