"""The field app listens to ``workorders.signals.visit_changed``: a visit that is no longer on
the way (arrived, cancelled, back to scheduled) forgets where its technician was."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from crewline.workorders.models import VisitStatus
from crewline.workorders.signals import visit_changed


@receiver(visit_changed, dispatch_uid="field.travel_positions")
def on_visit_changed(sender: Any, *, visit, change, before, after, **kwargs: Any) -> None:
    if (before.get("status") == VisitStatus.EN_ROUTE
            and after.get("status") != VisitStatus.EN_ROUTE):
        from crewline.field.services.positions import travel_positions_forget

        travel_positions_forget(visit=visit)
