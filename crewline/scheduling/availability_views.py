"""Office pages for availability: every technician's week and time off, and one member's page
to set their working hours and add or remove time off."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crewline.core.access import get_for_org_or_404, office_required
from crewline.core.forms import errors_to_form
from crewline.core.models import WEEKDAYS, Member, Organization, Role
from crewline.scheduling import services
from crewline.scheduling.forms import TimeOffForm, WorkingHoursForm
from crewline.scheduling.models import TimeOff, WorkingHours

UPCOMING_SHOWN = 3
DAY_ABBR = {"mon": gettext_lazy("Mon"), "tue": gettext_lazy("Tue"),
            "wed": gettext_lazy("Wed"), "thu": gettext_lazy("Thu"), "fri": gettext_lazy("Fri"),
            "sat": gettext_lazy("Sat"), "sun": gettext_lazy("Sun")}


def week_text(days: dict[str, list[str]]) -> list[str]:
    """Runs of days with the same hours: ``["Mon–Fri 08:00–17:00", "Sat 09:00–12:00"]``."""
    parts: list[str] = []
    run: list[str] = []
    for day in [*WEEKDAYS, None]:
        spans = days.get(day) if day else None
        if run and (day is None or spans != days.get(run[0])):
            first, last = str(DAY_ABBR[run[0]]), str(DAY_ABBR[run[-1]])
            label = first if len(run) == 1 else f"{first}–{last}"
            parts.append(f"{label} {', '.join(days[run[0]])}")
            run = []
        if spans:
            run.append(day)
    return parts


def business_week(organization: Organization) -> dict[str, list[str]]:
    return {day: [f"{span[0]}–{span[1]}"] for day, span in organization.business_hours.items()
            if span}


def technicians_with_availability(organization: Organization) -> QuerySet[Member]:
    """Active technicians with their hours and next time off: three queries, whatever the
    number of technicians."""
    upcoming = (TimeOff.objects.filter(organization=organization, end__gt=timezone.now())
                .order_by("start", "id"))
    return (Member.objects.for_org(organization)
            .filter(role=Role.TECHNICIAN, is_active=True)
            .select_related("user").order_by("user__full_name", "id")
            .prefetch_related(Prefetch("working_hours", to_attr="hours_rows",
                                       queryset=WorkingHours.objects.filter(
                                           organization=organization)),
                              Prefetch("time_off", queryset=upcoming, to_attr="upcoming")))


@office_required
def availability_summary(request: HttpRequest) -> HttpResponse:
    org = request.organization
    business = week_text(business_week(org))
    people = []
    for member in technicians_with_availability(org):
        own = bool(member.hours_rows)
        people.append({
            "member": member, "own_hours": own,
            "week": week_text(services.hours_summary(member.hours_rows)) if own else business,
            "upcoming": member.upcoming[:UPCOMING_SHOWN],
            "more": max(0, len(member.upcoming) - UPCOMING_SHOWN),
        })
    return render(request, "scheduling/availability_summary.html", {
        "nav": "schedule", "people": people, "business": business,
    })


def _member_page(request: HttpRequest, member: Member, *, hours_form=None, time_off_form=None,
                 status: int = 200) -> HttpResponse:
    org = request.organization
    rows = list(WorkingHours.objects.filter(organization=org, member=member)
                .order_by("weekday", "start"))
    if hours_form is None:
        hours_form = WorkingHoursForm(organization=org, rows=rows)
    if time_off_form is None:
        today = timezone.localdate()
        time_off_form = TimeOffForm(initial={"start_date": today, "end_date": today})
    time_off = list(TimeOff.objects.filter(organization=org, member=member,
                                           end__gt=timezone.now())
                    .select_related("created_by__user").order_by("start", "id"))
    return render(request, "scheduling/availability_member.html", {
        "nav": "schedule", "subject": member, "hours_form": hours_form,
        "time_off_form": time_off_form, "time_off": time_off, "own_hours": bool(rows),
        "business": week_text(business_week(org)),
    }, status=status)


def _member(request: HttpRequest, pk: int) -> Member:
    return get_for_org_or_404(Member.objects.select_related("user"), request.organization,
                              pk=pk)


@office_required
@require_http_methods(["GET", "POST"])
def availability_member(request: HttpRequest, pk: int) -> HttpResponse:
    """A member's working week (GET shows it, POST saves it) and their time off."""
    member = _member(request, pk)
    if request.method != "POST":
        return _member_page(request, member)
    rows = list(WorkingHours.objects.filter(member=member))
    form = WorkingHoursForm(request.POST, organization=request.organization, rows=rows)
    if form.is_valid():
        try:
            services.working_hours_set(member=member, hours=form.cleaned_data["hours"],
                                       by=request.member)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Working hours saved for %(name)s.")
                             % {"name": member.name})
            return redirect("scheduling:availability", pk=member.pk)
    return _member_page(request, member, hours_form=form, status=400)


@office_required
@require_POST
def time_off_add(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    form = TimeOffForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.time_off_add(member=member, start=d["start"], end=d["end"],
                                  reason=d["reason"], by=request.member)
        except ValidationError as exc:
            errors_to_form(form, exc, fields={"end": "end_date"})
        else:
            messages.success(request, _("Time off added for %(name)s.") % {"name": member.name})
            return redirect("scheduling:availability", pk=member.pk)
    return _member_page(request, member, time_off_form=form, status=400)


@office_required
@require_POST
def time_off_delete(request: HttpRequest, pk: int) -> HttpResponse:
    off = get_for_org_or_404(TimeOff.objects.select_related("member__user"),
                             request.organization, pk=pk)
    member = off.member
    services.time_off_remove(time_off=off, by=request.member)
    messages.success(request, _("Time off removed for %(name)s.") % {"name": member.name})
    return redirect("scheduling:availability", pk=member.pk)
