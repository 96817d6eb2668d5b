"""Signal receivers: visit changes become notifications (rows only; email goes by task)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from crewline.notifications.services import notify_visit_changed
from crewline.workorders.signals import visit_changed


@receiver(visit_changed, dispatch_uid="notifications.visit_changed")
def on_visit_changed(sender: Any, *, visit, by, change, before, after, **kwargs: Any) -> None:
    notify_visit_changed(visit=visit, by=by, change=change, before=before, after=after)
