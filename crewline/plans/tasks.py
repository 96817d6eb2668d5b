"""Background runs of the maintenance plans.

Daily without cron: ``plans_generate_all`` queues its own next run for the next 02:00 (server
time) when it finishes, and ``ensure_daily_run`` (called after every ``migrate``, which
``crewline run`` does on each start) queues one if none is waiting, so a fresh install, a
worker that was down, or a failed run all come back to one waiting run. Backends that cannot
defer (the immediate backend of the tests) get no daily run.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)

DAILY_AT = dt.time(2, 0)


@task()
def plan_generate_task(plan_id: int) -> dict:
    """Bring one plan's work up to date (queued whenever a plan is saved or resumed)."""
    from crewline.plans.models import MaintenancePlan
    from crewline.plans.services import plan_generate

    plan = MaintenancePlan.objects.filter(pk=plan_id).select_related("organization").first()
    if plan is None:
        return {"created": 0, "updated": 0, "cancelled": 0}
    result = plan_generate(plan=plan)
    return {"created": len(result.created), "updated": len(result.updated),
            "cancelled": len(result.cancelled)}


def generate_all() -> dict:
    """``plan_generate`` for every active plan of every organization. One plan failing is
    logged and does not stop the others."""
    from crewline.plans.models import MaintenancePlan, PlanStatus
    from crewline.plans.services import plan_generate

    totals = {"plans": 0, "created": 0, "updated": 0, "cancelled": 0, "failed": 0}
    plans = (MaintenancePlan.objects.filter(status=PlanStatus.ACTIVE)
             .select_related("organization").order_by("organization_id", "id"))
    for plan in plans.iterator(chunk_size=200):
        try:
            result = plan_generate(plan=plan)
        except Exception:
            logger.exception("Maintenance plan %s could not be generated", plan.pk)
            totals["failed"] += 1
            continue
        totals["plans"] += 1
        totals["created"] += len(result.created)
        totals["updated"] += len(result.updated)
        totals["cancelled"] += len(result.cancelled)
    return totals


@task()
def plans_generate_all() -> dict:
    """The daily run: every active plan, then the next run is queued for tomorrow 02:00."""
    try:
        return generate_all()
    finally:
        ensure_daily_run()


def next_run_time(now: dt.datetime | None = None) -> dt.datetime:
    """The next 02:00 in the server's time zone after ``now``."""
    local = timezone.localtime(now or timezone.now(), timezone.get_default_timezone())
    when = dt.datetime.combine(local.date(), DAILY_AT, tzinfo=local.tzinfo)
    if when <= local:
        when = dt.datetime.combine(local.date() + dt.timedelta(days=1), DAILY_AT,
                                   tzinfo=local.tzinfo)
    return when


def ensure_daily_run(now: dt.datetime | None = None) -> bool:
    """Queue the daily run for the next 02:00 unless one is already waiting. True if queued
    (once, however many processes ask at the same moment: ``crewline.core.periodic``)."""
    from crewline.core.periodic import queue_once

    return queue_once(plans_generate_all, run_after=next_run_time(now),
                      what="maintenance plan run")
