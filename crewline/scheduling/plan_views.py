"""The office's "Plan the day": the route planner's proposal beside the day as it stands, applied
on confirmation and undone within a few minutes (``crewline.scheduling.routes``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from crewline.core.access import get_for_org_or_404, office_required
from crewline.core.models import Member
from crewline.scheduling import planning, routes
from crewline.scheduling.models import RoutePlan
from crewline.workorders.models import WorkOrder

REASONS = {
    planning.NO_LOCATION: gettext_lazy("The site has no map position."),
    planning.NO_SKILL: gettext_lazy("Nobody has the skills it needs."),
    planning.NO_WINDOW: gettext_lazy("Nobody with the skills is free in its window."),
    planning.NO_CAPACITY: gettext_lazy("No room left in the day."),
}


@dataclass
class MoveRow:
    number: int
    title: str
    customer: str
    before: str
    after: str
    new: bool
    order: str  # the planned start, ISO 8601


def _when(organization, value: dict | None, names: dict[int, str], *, dated: bool) -> str:
    """``09:00–10:00 · Tara Nguyen`` (with the day first when the plan has several)."""
    if not value:
        return ""
    tz = organization.tzinfo
    start = dt.datetime.fromisoformat(value["start"]).astimezone(tz)
    end = dt.datetime.fromisoformat(value["end"]).astimezone(tz)
    crew = ", ".join(names.get(m, "?") for m in value["crew"])
    day = f"{date_format(start.date(), 'D j M')} " if dated else ""
    return f"{day}{start:%H:%M}–{end:%H:%M} · {crew}"


@office_required
@require_POST
def plan_propose(request: HttpRequest) -> HttpResponse:
    try:
        day = dt.date.fromisoformat(request.POST.get("date", ""))
    except ValueError:
        messages.error(request, _("Choose the day to plan."))
        return redirect("scheduling:board")
    try:
        days = int(request.POST.get("days") or 1)
    except ValueError:
        days = 0  # refused, with the service's message
    try:
        plan = routes.route_plan_propose(organization=request.organization, day=day,
                                         days=days, by=request.member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{reverse('scheduling:board')}?date={day.isoformat()}")
    return redirect("scheduling:route_plan", pk=plan.pk)


@office_required
@require_GET
def plan_show(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_for_org_or_404(RoutePlan, request.organization, pk=pk)
    org = request.organization
    member_ids = {m for move in plan.moves for side in ("before", "after")
                  for m in (move[side] or {}).get("crew", [])}
    names = {m.pk: m.name for m in Member.objects.for_org(org).filter(pk__in=member_ids)
             .select_related("user")}
    wo_ids = {m["work_order"] for m in plan.moves} | {u["work_order"] for u in plan.unplaced}
    work_orders = {wo.pk: wo for wo in WorkOrder.objects.filter(organization=org,
                                                                pk__in=wo_ids)
                   .select_related("customer")}
    rows = sorted((MoveRow(number=work_orders[m["work_order"]].number,
                           title=work_orders[m["work_order"]].title,
                           customer=work_orders[m["work_order"]].customer.name,
                           before=_when(org, m["before"], names, dated=plan.days > 1),
                           after=_when(org, m["after"], names, dated=plan.days > 1),
                           new=m["before"] is None, order=m["after"]["start"])
                   for m in plan.moves), key=lambda r: r.order)
    unplaced = [(work_orders[u["work_order"]], REASONS.get(u["reason"], u["reason"]))
                for u in plan.unplaced]
    can_undo = (plan.applied_at is not None and plan.undone_at is None
                and timezone.now() - plan.applied_at <= routes.UNDO_WINDOW)
    return render(request, "scheduling/route_plan.html", {
        "plan": plan, "rows": rows,
        "last_day": plan.day + dt.timedelta(days=plan.days - 1), "unplaced": unplaced,
        "can_undo": can_undo,
        "undo_minutes": routes.UNDO_WINDOW.seconds // 60,
        "before_minutes": round(plan.drive_before_seconds / 60),
        "after_minutes": round(plan.drive_after_seconds / 60),
        "before_km": round(plan.drive_before_metres / 1000),
        "after_km": round(plan.drive_after_metres / 1000),
        "board_url": f"{reverse('scheduling:board')}?date={plan.day.isoformat()}"})


@office_required
@require_POST
def plan_apply(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_for_org_or_404(RoutePlan, request.organization, pk=pk)
    try:
        routes.route_plan_apply(plan=plan, by=request.member)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("scheduling:route_plan", pk=plan.pk)
    messages.success(request, _("The plan was applied; each crew is told of its changes."))
    return redirect("scheduling:route_plan", pk=plan.pk)


@office_required
@require_POST
def plan_undo(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_for_org_or_404(RoutePlan, request.organization, pk=pk)
    try:
        routes.route_plan_undo(plan=plan, by=request.member)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("scheduling:route_plan", pk=plan.pk)
    messages.success(request, _("The day is back as it was before the plan."))
    return redirect(f"{reverse('scheduling:board')}?date={plan.day.isoformat()}")
