"""What customers are sent, listening to the signals the job record's services send (rows
only, in their transaction; sending waits for the commit):

- a visit changed (``workorders.signals.visit_changed``): booked, moved, cancelled, the crew
  on its way → ``services.visit_messages_plan``;
- a work order completed (``work_order_completed``) → ``services.work_order_messages_plan``.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from crewline.messaging.services import visit_messages_plan, work_order_messages_plan
from crewline.workorders.signals import visit_changed, work_order_completed


@receiver(visit_changed, dispatch_uid="messaging.visit_changed")
def on_visit_changed(sender: Any, *, visit, change, before, after, **kwargs: Any) -> None:
    visit_messages_plan(visit=visit, change=change, before=before, after=after)


@receiver(work_order_completed, dispatch_uid="messaging.work_order_completed")
def on_work_order_completed(sender: Any, *, work_order, **kwargs: Any) -> None:
    work_order_messages_plan(work_order=work_order)
