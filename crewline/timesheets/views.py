"""Timesheet pages: the week overview, a member's week, corrections, approval, CSV export."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crewline.core.access import (
    get_for_org_or_404,
    member_required,
    office_required,
    owner_required,
)
from crewline.core.forms import errors_to_form
from crewline.core.models import Member
from crewline.core.redirects import next_url
from crewline.timesheets import selectors, services
from crewline.timesheets.forms import TimeEntryForm, TimesheetSettingsForm
from crewline.timesheets.hours import week_start_for
from crewline.timesheets.models import TimeEntry

PER_PAGE = 50


def _today(request: HttpRequest) -> dt.date:
    return timezone.now().astimezone(request.organization.tzinfo).date()


def _parse_week(request: HttpRequest, value: str | None, first: int) -> dt.date:
    """The first day of the week holding the date ``value`` (yyyy-mm-dd); this week if empty."""
    if not value:
        return week_start_for(_today(request), first)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Http404("Not a date.") from exc
    return week_start_for(day, first)


def _week_context(request: HttpRequest, start: dt.date, url_for) -> dict:
    """The week's dates and the links to the previous, current and next week."""
    this_week = week_start_for(_today(request), start.weekday())
    return {"week_start": start, "week_end": start + dt.timedelta(days=6),
            "prev_url": url_for(start - dt.timedelta(days=7)), "this_url": url_for(this_week),
            "next_url": url_for(start + dt.timedelta(days=7))}


def _member(request: HttpRequest, pk: int) -> Member:
    return get_for_org_or_404(Member.objects.select_related("user", "organization"),
                              request.organization, pk=pk)


@office_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    settings = selectors.settings_for(request.organization)
    start = _parse_week(request, request.GET.get("week"), settings.week_start)
    page = Paginator(selectors.weeks_for_org(request.organization, start), PER_PAGE) \
        .get_page(request.GET.get("page"))
    return render(request, "timesheets/list.html", {
        "nav": "timesheets", "rows": page.object_list, "page": page, "settings": settings,
        **_week_context(request, start,
                        lambda d: f"{reverse('timesheets:list')}?week={d.isoformat()}")})


@office_required
@require_GET
def week(request: HttpRequest, pk: int, week: str) -> HttpResponse:
    member = _member(request, pk)
    settings = selectors.settings_for(request.organization)
    start = _parse_week(request, week, settings.week_start)
    if start.isoformat() != week:
        return redirect("timesheets:week", pk=member.pk, week=start.isoformat())
    data = selectors.member_week(member, start, settings=settings)
    return render(request, "timesheets/week.html", {
        "nav": "timesheets", "data": data, "member_shown": member, "settings": settings,
        "entries_by_day": _entries_by_day(request, data.entries),
        "can_edit": data.approval is None,
        **_week_context(request, start, lambda d: _week_url(member, d))})


@member_required
@require_GET
def my_week(request: HttpRequest, week: str = "") -> HttpResponse:
    """A member's own week, read-only; nobody else's can be asked for."""
    settings = selectors.settings_for(request.organization)
    start = _parse_week(request, week, settings.week_start)
    if week and start.isoformat() != week:
        return redirect("timesheets:my_week", week=start.isoformat())
    member = request.member
    data = selectors.member_week(member, start, settings=settings)
    return render(request, "timesheets/week.html", {
        "nav": "my_timesheet", "data": data, "member_shown": member, "settings": settings,
        "entries_by_day": _entries_by_day(request, data.entries),
        "can_edit": False, "mine": True,
        **_week_context(request, start, lambda d: reverse(
            "timesheets:my_week", kwargs={"week": d.isoformat()}))})


def _entries_by_day(request: HttpRequest, entries: list[TimeEntry]) -> list:
    """The entries grouped by the local day they start on, in order."""
    tz = request.organization.tzinfo
    days: dict[dt.date, list[TimeEntry]] = {}
    for entry in entries:
        days.setdefault(entry.start.astimezone(tz).date(), []).append(entry)
    return list(days.items())


def _week_url(entry_or_member, start: dt.date) -> str:
    member_id = getattr(entry_or_member, "member_id", None) or entry_or_member.pk
    return reverse("timesheets:week", kwargs={"pk": member_id, "week": start.isoformat()})


def _entry_week(request: HttpRequest, entry: TimeEntry) -> dt.date:
    first = selectors.settings_for(request.organization).week_start
    return week_start_for(entry.start.astimezone(request.organization.tzinfo).date(), first)


@office_required
def entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_for_org_or_404(TimeEntry.objects.select_related("member__user", "visit"),
                               request.organization, pk=pk)
    start = _entry_week(request, entry)
    form = TimeEntryForm(request.POST or None, initial={
        "kind": entry.kind, "start": entry.start, "end": entry.end})
    locked = False
    if request.method == "POST" and form.is_valid():
        try:
            services.time_entry_update(entry=entry, by=request.member, **form.cleaned_data)
        except ValidationError as exc:
            locked = getattr(exc, "code", None) == "approved"
            errors_to_form(form, exc)
        else:
            messages.success(request, _("The entry was corrected."))
            return redirect(_week_url(entry, start))
    return render(request, "timesheets/entry_form.html", {
        "nav": "timesheets", "form": form, "entry": entry, "member_shown": entry.member,
        "week_start": start, "back": _week_url(entry, start), "locked": locked,
        "approved": selectors.week_is_approved(entry.member, start)},
        status=400 if form.errors else 200)


@office_required
def entry_add(request: HttpRequest, pk: int, week: str) -> HttpResponse:
    member = _member(request, pk)
    start = _parse_week(request, week, selectors.settings_for(request.organization).week_start)
    form = TimeEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.time_entry_add(member=member, by=request.member, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("The entry was added."))
            return redirect(_week_url(member, start))
    return render(request, "timesheets/entry_form.html", {
        "nav": "timesheets", "form": form, "entry": None, "member_shown": member,
        "week_start": start, "back": _week_url(member, start),
        "approved": selectors.week_is_approved(member, start)},
        status=400 if form.errors else 200)


@office_required
@require_POST
def entry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_for_org_or_404(TimeEntry, request.organization, pk=pk)
    start = _entry_week(request, entry)
    try:
        services.time_entry_delete(entry=entry, by=request.member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The entry was deleted."))
    return redirect(_week_url(entry, start))


@office_required
@require_POST
def approve(request: HttpRequest, pk: int, week: str) -> HttpResponse:
    member = _member(request, pk)
    start = _parse_week(request, week, selectors.settings_for(request.organization).week_start)
    services.timesheet_approve(member=member, week_start=start, by=request.member)
    messages.success(request, _("The week was approved."))
    return redirect(next_url(request, _week_url(member, start)))


@office_required
@require_POST
def reopen(request: HttpRequest, pk: int, week: str) -> HttpResponse:
    member = _member(request, pk)
    start = _parse_week(request, week, selectors.settings_for(request.organization).week_start)
    services.timesheet_reopen(member=member, week_start=start, by=request.member)
    messages.success(request, _("The week was reopened for corrections."))
    return redirect(_week_url(member, start))


# Payroll CSV, one row per member and day with time on it. Documented in the export's help
# text on the overview page and in crewline/timesheets/README.md.
CSV_COLUMNS = ["member", "member_email", "date", "paid_hours", "regular_hours",
               "overtime_hours", "break_hours", "approved"]


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}"


@office_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    settings = selectors.settings_for(request.organization)
    start = _parse_week(request, request.GET.get("week"), settings.week_start)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="timesheets-{start}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in selectors.weeks_for_org(request.organization, start):
        for day in row.week.days:
            if not (day.paid or day.breaks):
                continue
            # Overtime is rounded and regular is the rest, so the columns add up as printed.
            paid = f"{day.paid / 60:.2f}"
            overtime = _hours(day.overtime)
            regular = f"{float(paid) - float(overtime):.2f}"
            writer.writerow([row.member.name, row.member.user.email, day.date.isoformat(),
                             paid, regular, overtime, _hours(day.breaks),
                             "yes" if row.approval else "no"])
    return response


@owner_required
def settings_edit(request: HttpRequest) -> HttpResponse:
    current = selectors.settings_for(request.organization)
    form = TimesheetSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.timesheet_settings_update(organization=request.organization,
                                               by=request.member, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Timesheet settings saved."))
            return redirect("timesheets:list")
    return render(request, "timesheets/settings.html", {"nav": "timesheets", "form": form},
                  status=400 if form.errors else 200)
