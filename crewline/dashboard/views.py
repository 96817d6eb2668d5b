from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from crewline.core.access import office_required
from crewline.dashboard import selectors
from crewline.dashboard.charts import bar_chart
from crewline.formats.durations import format_duration
from crewline.workorders.models import VisitStatus
from crewline.workorders.selectors import ready_to_close
from crewline.workorders.services import technician_closes_jobs

# Each list shows its first few items and how many there are in all.
LIMIT = 8


class PeriodForm(forms.Form):
    period = forms.TypedChoiceField(
        label=gettext_lazy("Period"), coerce=int, required=False, empty_value=7,
        choices=[(7, gettext_lazy("Last 7 days")), (30, gettext_lazy("Last 30 days")),
                 (90, gettext_lazy("Last 90 days"))])


def _board_url(day: dt.date, status: str | None = None) -> str:
    pairs = [("date", day.isoformat())]
    if status:
        pairs.append(("status", status))
    return f"{reverse('scheduling:board')}?{urlencode(pairs)}"


def _first(qs) -> tuple[list, int]:
    """The first LIMIT rows and the count of all: the same queries whatever the size."""
    return list(qs[:LIMIT]), qs.count()


def _today_context(request: HttpRequest, now: dt.datetime) -> dict:
    org = request.organization
    today = timezone.localdate(now, org.tzinfo)
    counts = selectors.visits_by_status(org, today)
    chips = [{"status": value, "label": label, "count": counts[value],
              "url": _board_url(today, value)}
             for value, label in VisitStatus.choices]
    late_visits, late_count = _first(selectors.late_arrivals(org, now))
    overruns = selectors.overruns(org, now)
    overdue, overdue_count = _first(selectors.overdue_work_orders(org, today))
    unscheduled, unscheduled_count = _first(selectors.unscheduled_work_orders(org))
    to_close, to_close_count = _first(ready_to_close(org))
    incomplete, incomplete_count = _first(selectors.incomplete_visits(org))
    to_invoice, to_invoice_count = _first(selectors.awaiting_invoice(org))
    rejected_qs = selectors.rejected_changes(org)
    rejected, rejected_count = _first(rejected_qs) if rejected_qs is not None else (None, 0)
    return {
        "now": now, "today": today, "board_url": _board_url(today),
        "chips": chips, "visits_today": sum(c["count"] for c in chips
                                            if c["status"] != VisitStatus.CANCELLED),
        "states": selectors.technician_states(org),
        "late_visits": late_visits, "late_count": late_count,
        "overruns": overruns[:LIMIT], "overrun_count": len(overruns),
        "overrun_ids": {v.pk for v in overruns},
        "overdue": overdue, "overdue_count": overdue_count,
        "late_total": late_count + len(overruns) + overdue_count,
        "unscheduled": unscheduled, "unscheduled_count": unscheduled_count,
        "to_close": to_close, "to_close_count": to_close_count,
        "office_closes": not technician_closes_jobs(org.pk),
        "incomplete": incomplete, "incomplete_count": incomplete_count,
        "to_invoice": to_invoice, "to_invoice_count": to_invoice_count,
        "rejected": rejected, "rejected_count": rejected_count,
    }


def _figures_context(request: HttpRequest, days: int, now: dt.datetime) -> dict:
    org = request.organization
    today = timezone.localdate(now, org.tzinfo)
    figures = selectors.figures(org, days=days, today=today)
    labels = [date_format(d, "D j M") for d in figures.days]
    completed_chart = bar_chart(
        figures.completed,
        [f"{label}: {n}" for label, n in zip(labels, figures.completed, strict=True)])
    on_site_chart = bar_chart(
        [t.total_seconds() if t else None for t in figures.on_site],
        [f"{label}: {format_duration(t, style='days') if t else '–'}"
         for label, t in zip(labels, figures.on_site, strict=True)])
    revenue_chart = None
    if figures.revenue is not None:
        revenue_chart = bar_chart(
            [float(v) for v in figures.revenue],
            [f"{label}: {figures.currency} {number_format(v, 2, force_grouping=True)}"
             for label, v in zip(labels, figures.revenue, strict=True)])
    rate = figures.first_time_fix_rate
    return {"figures": figures, "days": days, "completed_chart": completed_chart,
            "on_site_chart": on_site_chart, "revenue_chart": revenue_chart,
            "rate_percent": None if rate is None else round(rate * 100),
            "first_day": figures.days[0], "last_day": figures.days[-1]}


@office_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """/dashboard/: what needs attention today, and figures over a chosen period. htmx asks
    for one part (?part=today every minute, ?part=figures when the period changes)."""
    now = timezone.now()
    form = PeriodForm(request.GET)
    days = form.cleaned_data["period"] if form.is_valid() else 7
    part = request.GET.get("part")
    if request.htmx and part == "today":
        return render(request, "dashboard/_today.html", _today_context(request, now))
    if request.htmx and part == "figures":
        return render(request, "dashboard/_figures.html",
                      {**_figures_context(request, days, now), "form": form})
    context = {"nav": "dashboard", "title": _("Dashboard"), "form": form,
               **_today_context(request, now), **_figures_context(request, days, now)}
    return render(request, "dashboard/home.html", context)
