"""What customers are sent, listening to the signals the job record's services send (rows
only, in their transaction; sending waits for the commit):

- a visit changed (``workorders.signals.visit_changed``): booked, moved, cancelled, the crew
  on its way → ``services.visit_messages_plan``;
- a work order completed (``work_order_completed``) → ``services.work_order_messages_plan``.

Planning a message never undoes the change it follows: it runs in a savepoint of its own, and
a failure there is logged and rolled back alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from crewline.messaging.services import visit_messages_plan, work_order_messages_plan
from crewline.workorders.signals import visit_changed, work_order_completed

logger = logging.getLogger(__name__)


def _apart(plan: Callable[..., None], what: str, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            plan(**kwargs)
    except Exception:
        logger.exception("Messages to the customer could not be planned after %s", what)


@receiver(visit_changed, dispatch_uid="messaging.visit_changed")
def on_visit_changed(sender: Any, *, visit, change, before, after, **kwargs: Any) -> None:
    _apart(visit_messages_plan, f"visit {visit.pk} {change}", visit=visit, change=change,
           before=before, after=after)


@receiver(work_order_completed, dispatch_uid="messaging.work_order_completed")
def on_work_order_completed(sender: Any, *, work_order, **kwargs: Any) -> None:
    _apart(work_order_messages_plan, f"work order {work_order.pk} completed",
           work_order=work_order)
