"""Turning changes of work orders, visits and timelines into live events.

Receivers run inside the transaction of the change, so the event rows commit or roll back with
it; publishing waits for the commit (``event_record``).
"""

from __future__ import annotations

import zoneinfo

from django.db.models.signals import post_save

from crewline.core.models import Organization
from crewline.live.services import event_record
from crewline.workorders.models import TimelineEntry, Visit, WorkOrder
from crewline.workorders.signals import visit_changed


def connect() -> None:
    visit_changed.connect(on_visit_changed, dispatch_uid="live.visit_changed")
    post_save.connect(on_work_order_saved, sender=WorkOrder, dispatch_uid="live.work_order")
    post_save.connect(on_timeline_entry_saved, sender=TimelineEntry,
                      dispatch_uid="live.timeline_entry")


def on_work_order_saved(sender, instance: WorkOrder, created: bool, raw: bool = False,
                        **kwargs) -> None:
    if raw:
        return
    event_record(organization_id=instance.organization_id,
                 topics=[f"wo:{instance.pk}", "list"],
                 payload={"wo": instance.pk, "what": "work_order",
                          "status": instance.status})


def on_timeline_entry_saved(sender, instance: TimelineEntry, created: bool, raw: bool = False,
                            **kwargs) -> None:
    if raw or not created:
        return
    event_record(organization_id=instance.organization_id,
                 topics=[f"wo:{instance.work_order_id}"],
                 payload={"wo": instance.work_order_id, "what": "timeline",
                          "kind": instance.kind})


def _tz(visit: Visit, by) -> zoneinfo.ZoneInfo:
    # The organization is usually loaded already (by the member who acted); avoid a query.
    org = visit._state.fields_cache.get("organization")
    if org is None and by is not None and by.organization_id == visit.organization_id:
        org = by._state.fields_cache.get("organization")
    if org is None:
        org = Organization.objects.only("time_zone").get(pk=visit.organization_id)
    return org.tzinfo


def on_visit_changed(sender, visit: Visit, by=None, change: str = "", before=None, after=None,
                     **kwargs) -> None:
    before, after = before or {}, after or {}
    tz = None
    days: set[str] = set()
    for state in (before, after):
        start, end = state.get("start"), state.get("end")
        if start is None:
            continue
        tz = tz or _tz(visit, by)
        day = start.astimezone(tz).date()
        last = (end or start).astimezone(tz).date()
        while day <= last and len(days) < 14:
            days.add(day.isoformat())
            day = day.fromordinal(day.toordinal() + 1)
    crew = set(before.get("crew") or ()) | set(after.get("crew") or ())
    topics = [f"wo:{visit.work_order_id}", "list", *(f"board:{d}" for d in sorted(days)),
              *(f"member:{m}" for m in sorted(crew))]
    event_record(organization_id=visit.organization_id, topics=topics,
                 payload={"wo": visit.work_order_id, "visit": visit.pk, "what": "visit",
                          "change": change})
