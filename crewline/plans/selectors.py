"""Reads of maintenance plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from crewline.core.models import Organization
from crewline.plans.models import MaintenancePlan, PlanOccurrence, PlanStatus
from crewline.plans.recurrence import iter_preview, next_date

ALL = "all"


def plan_list(*, organization: Organization, status: str = "", q: str = "",
              customer_id: int | None = None) -> QuerySet[MaintenancePlan]:
    plans = (MaintenancePlan.objects.filter(organization=organization)
             .select_related("customer", "site"))
    if status and status != ALL:
        plans = plans.filter(status=status)
    if customer_id:
        plans = plans.filter(customer_id=customer_id)
    q = " ".join(q.split())
    if q:
        plans = plans.filter(Q(name__icontains=q) | Q(customer__name__icontains=q)
                             | Q(site__address_line1__icontains=q)
                             | Q(site__name__icontains=q))
    return plans.order_by("customer__name", "name", "id")


def plan_next_date(plan: MaintenancePlan, today: dt.date) -> dt.date | None:
    """The rule's next date from today, for an active plan (no query)."""
    if plan.status != PlanStatus.ACTIVE:
        return None
    return next_date(plan.rrule, start=plan.start_date, after=today, end=plan.end_date)


def plan_occurrences(plan: MaintenancePlan) -> QuerySet[PlanOccurrence]:
    return (plan.occurrences.select_related("work_order", "visit")
            .prefetch_related("visit__crew__user"))


@dataclass
class UpcomingRow:
    date: dt.date
    occurrence: PlanOccurrence | None


def plan_upcoming(plan: MaintenancePlan, today: dt.date, *, at_least: int = 5
                  ) -> list[UpcomingRow]:
    """From today on: the dates with work raised (or skipped), and the rule's next dates not
    raised yet (at least ``at_least`` rows when the plan has them)."""
    raised = {o.date: o for o in plan_occurrences(plan).filter(date__gte=today)}
    dates = set(raised)
    if plan.status != PlanStatus.ENDED:
        horizon_end = today + dt.timedelta(days=plan.horizon_days)
        rule_dates = iter_preview(plan.rrule, plan.start_date, today, count=400,
                                  end=plan.end_date)
        for count, day in enumerate(rule_dates, start=1):
            if day > horizon_end and count > at_least:
                break
            dates.add(day)
    return [UpcomingRow(day, raised.get(day)) for day in sorted(dates)]


def plan_past(plan: MaintenancePlan, today: dt.date, limit: int = 50) -> list[UpcomingRow]:
    """The latest ``limit`` dates before today that had work raised or were skipped."""
    past = plan_occurrences(plan).filter(date__lt=today).order_by("-date")[:limit]
    return [UpcomingRow(o.date, o) for o in past]
