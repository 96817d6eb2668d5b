"""Office pages of the maintenance plans."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crewline.core.access import get_for_org_or_404, office_required
from crewline.core.forms import errors_to_form
from crewline.customers.models import Customer, Site
from crewline.plans import selectors, services
from crewline.plans.forms import PlanForm, RecurrenceForm, SkipForm
from crewline.plans.models import MaintenancePlan, PlanStatus
from crewline.plans.recurrence import humanise, iter_preview

PAGE_SIZE = 50


@office_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", PlanStatus.ACTIVE)
    if status not in (*PlanStatus.values, selectors.ALL):
        status = PlanStatus.ACTIVE
    q = request.GET.get("q", "")[:100]
    plans = selectors.plan_list(organization=request.organization, status=status, q=q)
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [{"plan": p, "words": humanise(p.rrule), "next": selectors.plan_next_date(p, today)}
            for p in page.object_list]
    context = {"nav": "plans", "page": page, "rows": rows, "status": status, "q": q,
               "statuses": [(selectors.ALL, _("All")), *PlanStatus.choices]}
    if request.htmx:
        return render(request, "plans/_plan_rows.html", context)
    return render(request, "plans/list.html", context)


def _save(request: HttpRequest, form: PlanForm, plan: MaintenancePlan | None
          ) -> MaintenancePlan | None:
    try:
        if plan is None:
            return services.plan_create(organization=request.organization, by=request.member,
                                        **form.service_values())
        return services.plan_update(plan=plan, by=request.member, **form.service_values())
    except ValidationError as exc:
        errors_to_form(form, exc, fields={"rrule": "advanced_rrule"})
        return None


def _create_initial(request: HttpRequest) -> dict:
    initial: dict = {"start_date": timezone.localdate()}
    raw = request.GET.get("customer") or ""
    if not raw.isdigit():
        return initial
    customer = Customer.objects.filter(organization=request.organization, pk=int(raw),
                                       archived_at__isnull=True).first()
    if customer is None:
        return initial
    initial["customer"] = customer
    sites = Site.objects.filter(customer=customer, archived_at__isnull=True)
    wanted = request.GET.get("site") or ""
    site = sites.filter(pk=int(wanted)).first() if wanted.isdigit() else None
    if site is None:
        first_two = list(sites[:2])
        site = first_two[0] if len(first_two) == 1 else None
    initial["site"] = site
    return initial


@office_required
def plan_create(request: HttpRequest) -> HttpResponse:
    org = request.organization
    if request.method == "POST":
        form = PlanForm(request.POST, organization=org)
        if form.is_valid():
            plan = _save(request, form, None)
            if plan is not None:
                messages.success(request, _("Plan created. Its work orders are being raised in "
                                            "the background."))
                return redirect("plans:detail", pk=plan.pk)
    else:
        form = PlanForm(initial=_create_initial(request), organization=org)
    status = 400 if request.method == "POST" else 200
    return render(request, "plans/form.html", {"nav": "plans", "form": form, "plan": None},
                  status=status)


@office_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.organization
    plan = get_for_org_or_404(MaintenancePlan, org, pk=pk)
    if request.method == "POST":
        form = PlanForm(request.POST, organization=org)
        if form.is_valid():
            saved = _save(request, form, plan)
            if saved is not None:
                messages.success(request, _("Plan saved. Upcoming work orders that nobody has "
                                            "changed are being brought up to date."))
                return redirect("plans:detail", pk=plan.pk)
    else:
        form = PlanForm(initial=PlanForm.initial_for(plan), organization=org)
    status = 400 if request.method == "POST" else 200
    return render(request, "plans/form.html", {"nav": "plans", "form": form, "plan": plan},
                  status=status)


@office_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_for_org_or_404(
        MaintenancePlan.objects.select_related("customer", "site", "job_type"),
        request.organization, pk=pk)
    today = timezone.localdate()
    upcoming = selectors.plan_upcoming(plan, today)
    return render(request, "plans/detail.html", {
        "nav": "plans", "plan": plan, "today": today, "words": humanise(plan.rrule),
        "upcoming": upcoming, "past": selectors.plan_past(plan, today),
        "next": selectors.plan_next_date(plan, today),
        "skills": list(plan.required_skills.all()),
        "crew": list(plan.default_crew.select_related("user")),
        "horizon_end": today + dt.timedelta(days=plan.horizon_days),
    })


def _status_action(request: HttpRequest, pk: int, service, done: str) -> HttpResponse:
    plan = get_for_org_or_404(MaintenancePlan, request.organization, pk=pk)
    try:
        service(plan=plan, by=request.member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("plans:detail", pk=plan.pk)


@office_required
@require_POST
def plan_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, services.plan_pause,
                          _("Plan paused: no new work orders are raised until it is resumed."))


@office_required
@require_POST
def plan_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, services.plan_resume,
                          _("Plan resumed: its work orders are being raised again."))


@office_required
@require_POST
def plan_end(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, services.plan_end,
                          _("Plan ended. Upcoming work orders nobody had changed were "
                            "cancelled."))


@office_required
@require_POST
def occurrence_skip(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_for_org_or_404(MaintenancePlan, request.organization, pk=pk)
    form = SkipForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a date to skip."))
        return redirect("plans:detail", pk=plan.pk)
    try:
        occ = services.occurrence_skip(plan=plan, date=form.cleaned_data["date"],
                                       by=request.member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(date)s skipped.") % {
            "date": occ.date.strftime("%Y-%m-%d")})
    return redirect("plans:detail", pk=plan.pk)


@office_required
@require_GET
def rule_preview(request: HttpRequest) -> HttpResponse:
    """The rule the picker makes, in words, with its next dates (htmx, on the plan form)."""
    form = RecurrenceForm(request.GET)
    context: dict = {"form": form}
    if form.is_valid() and form.cleaned_data.get("rrule"):
        rule = form.cleaned_data["rrule"]
        start = form.cleaned_data["start_date"]
        context.update(rule=rule, words=humanise(rule), dates=list(iter_preview(
            rule, start, max(start, timezone.localdate()), count=5,
            end=form.cleaned_data.get("end_date"))))
    return render(request, "plans/_preview.html", context)
