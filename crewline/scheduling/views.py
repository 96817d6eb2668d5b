"""The dispatch board: a day or week of technicians and their visits, and the queue of work
waiting to be scheduled. Drops on the board and the keyboard form both go through
``visit_schedule`` / ``visit_add``; a conflict answers 409 with the conflicts, and the
dispatcher may repeat the request with ``override=1``.

Board endpoints answer, on success, with the re-rendered rows of the technicians the change
touched and the queue (elements with ids the page swaps in).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crewline.core.access import get_for_org_or_404, office_required
from crewline.core.models import Member, Organization, Skill
from crewline.scheduling import board as layout
from crewline.scheduling import routes, selectors
from crewline.workorders import services
from crewline.workorders.models import Visit, VisitStatus, WorkOrder

MAX_MINUTES = 7 * 24 * 60
# How many days from the board's the schedule dialog looks for a place for work from the queue
# (a day that is over or full suggests the next one's).
SUGGEST_DAYS = 7
VIEWS = ((selectors.DAY, gettext_lazy("Day")), (selectors.WEEK, gettext_lazy("Week")))
SORTS = (("priority", gettext_lazy("Priority")), ("due", gettext_lazy("Due")))


# --- Forms ---------------------------------------------------------------------------------

class BoardFilterForm(forms.Form):
    """What the board shows; kept in the URL (?date=2026-11-23&view=week&skill=3)."""

    date = forms.DateField(label=gettext_lazy("Date"), required=False,
                           widget=forms.DateInput(attrs={"type": "date"}))
    view = forms.ChoiceField(label=gettext_lazy("View"), choices=VIEWS, required=False)
    skill = forms.ModelChoiceField(label=gettext_lazy("Skill"), queryset=Skill.objects.none(),
                                   required=False, empty_label=gettext_lazy("All skills"))
    status = forms.MultipleChoiceField(label=gettext_lazy("Visit status"),
                                       choices=VisitStatus.choices, required=False)
    sort = forms.ChoiceField(choices=SORTS, required=False)

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["skill"].queryset = Skill.objects.filter(organization=organization)

    def state(self) -> dict:
        """The cleaned filters; a bad value falls back to its default instead of failing."""
        self.is_valid()  # invalid fields are left out of cleaned_data
        data = self.cleaned_data
        return {
            "day": data.get("date") or timezone.localdate(),
            "view": data.get("view") or selectors.DAY,
            "skill": data.get("skill"),
            "statuses": data.get("status") or list(selectors.DEFAULT_STATUSES),
            "sort": data.get("sort") or "priority",
        }


class DropForm(forms.Form):
    """A drop on the board: where (technician, local date and time) and for how long."""

    member = forms.ModelChoiceField(queryset=Member.objects.none(), required=False)
    from_member = forms.IntegerField(required=False)
    date = forms.DateField()
    time = forms.TimeField()
    minutes = forms.IntegerField(min_value=5, max_value=MAX_MINUTES)
    override = forms.BooleanField(required=False)

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["member"].queryset = selectors.technicians(organization=organization)

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        d = self.cleaned_data
        start = layout.local_at(d["date"], d["time"], self.organization.tzinfo)
        return start, start + dt.timedelta(minutes=d["minutes"])


class ScheduleForm(forms.Form):
    """The keyboard way to do what a drop does: crew, date, start and duration."""

    crew = forms.ModelMultipleChoiceField(label=gettext_lazy("Technicians"),
                                          queryset=Member.objects.none(),
                                          widget=forms.CheckboxSelectMultiple(
                                              attrs={"class": "form-check-input"}))
    date = forms.DateField(label=gettext_lazy("Date"),
                           widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=gettext_lazy("Start"),
                            widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    minutes = forms.IntegerField(label=gettext_lazy("Duration (minutes)"), min_value=5,
                                 max_value=MAX_MINUTES,
                                 widget=forms.NumberInput(attrs={"step": 15}))
    override = forms.BooleanField(required=False, widget=forms.HiddenInput)
    locked = forms.BooleanField(label=gettext_lazy("Keep in place when the day is planned"),
                                required=False)

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["crew"].queryset = selectors.technicians(organization=organization)
        self.fields["crew"].label_from_instance = lambda m: m.name

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        d = self.cleaned_data
        start = layout.local_at(d["date"], d["start"], self.organization.tzinfo)
        return start, start + dt.timedelta(minutes=d["minutes"])


# --- The board -----------------------------------------------------------------------------

def _filters(request: HttpRequest, query: QueryDict) -> tuple[BoardFilterForm, dict]:
    form = BoardFilterForm(query, organization=request.organization)
    form.is_valid()
    return form, form.state()


def _query(state: dict, **changes) -> str:
    """The board's URL query for ``state`` with ``changes`` applied."""
    s = {**state, **changes}
    pairs: list[tuple[str, str]] = [("date", s["day"].isoformat())]
    if s["view"] != selectors.DAY:
        pairs.append(("view", s["view"]))
    if s["skill"] is not None:
        pairs.append(("skill", str(getattr(s["skill"], "pk", s["skill"]))))
    if list(s["statuses"]) != list(selectors.DEFAULT_STATUSES):
        pairs.extend(("status", v) for v in s["statuses"])
    if s["sort"] != "priority":
        pairs.append(("sort", s["sort"]))
    return urlencode(pairs)


def _board_context(request: HttpRequest, state: dict, member_ids=None,
                   with_queue: bool = True) -> dict:
    org = request.organization
    board = selectors.board(organization=org, day=state["day"], view=state["view"],
                            skill=state["skill"], statuses=state["statuses"],
                            member_ids=member_ids, with_queue=with_queue,
                            queue_sort=state["sort"], now=timezone.now())
    step = dt.timedelta(days=7 if state["view"] == selectors.WEEK else 1)
    today = timezone.localdate()
    board_url = reverse("scheduling:board")
    form_url = reverse("scheduling:schedule")
    first_hour, _last = layout.business_span(org)
    query = _query(state)
    grid = board.grid_minutes
    return {
        **layout.present(board, form_url=form_url, query=query, today=today),
        "grid_classes": f"g-{grid} hours-{len(board.hours)}",
        "hour_marks": [(label, layout.at_class(left, grid)) for label, left in board.hours],
        "now_at": None if board.now_left is None else layout.at_class(board.now_left, grid),
        "nav": "schedule", "board": board, "state": state,
        "query": query,
        "today": today,
        "prev_url": f"{board_url}?{_query(state, day=state['day'] - step)}",
        "next_url": f"{board_url}?{_query(state, day=state['day'] + step)}",
        "today_url": f"{board_url}?{_query(state, day=today)}",
        "day_url": f"{board_url}?{_query(state, view=selectors.DAY)}",
        "week_url": f"{board_url}?{_query(state, view=selectors.WEEK)}",
        "sort_urls": [(value, label, f"{board_url}?{_query(state, sort=value)}")
                      for value, label in SORTS],
        "form_url": form_url,
        "move_url": reverse("scheduling:visit_move", args=[0]).removesuffix("0/move/"),
        "place_url": reverse("scheduling:visit_place", args=[0]).removesuffix("0/place/"),
        "wo_url": reverse("workorders:detail", args=[0]).removesuffix("0/"),
        "default_time": f"{min(max(first_hour + 1, 0), 23):02d}:00",
        "day_urls": [(d, f"{board_url}?{_query(state, day=d, view=selectors.DAY)}")
                     for d in board.days],
    }


@office_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """/schedule/: the dispatch board for a day or a week."""
    form, state = _filters(request, request.GET)
    context = _board_context(request, state)
    context["filter_form"] = form
    context["status_choices"] = [(value, label, value in state["statuses"])
                                 for value, label in VisitStatus.choices]
    context["title_date"] = _title(state)
    return render(request, "scheduling/board.html", context)


def _title(state: dict) -> str:
    if state["view"] == selectors.WEEK:
        monday = state["day"] - dt.timedelta(days=state["day"].weekday())
        sunday = monday + dt.timedelta(days=6)
        return _("Week of %(start)s – %(end)s") % {
            "start": date_format(monday, "j M"), "end": date_format(sunday, "j M Y")}
    return date_format(state["day"], "l j F Y")


def _updated(request: HttpRequest, state: dict, member_ids: set[int]) -> HttpResponse:
    """The rows of ``member_ids`` and the queue, re-rendered for the page to swap in."""
    context = _board_context(request, state, member_ids=member_ids)
    return render(request, "scheduling/_board_update.html", context)


def _state_from_post(request: HttpRequest) -> dict:
    return _filters(request, QueryDict(request.POST.get("state", "")))[1]


def _conflicts_response(exc: services.ConflictError) -> JsonResponse:
    return JsonResponse({
        "conflicts": [{"kind": c.kind, "member": c.member.pk if c.member else None,
                       "member_name": c.member.name if c.member else "",
                       "message": str(c.message)} for c in exc.conflicts],
    }, status=409)


def _errors_response(errors: list[str]) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=400)


def _messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _form_errors(form: forms.Form) -> list[str]:
    return [f"{form.fields[f].label or f}: {e}" if f != "__all__" else str(e)
            for f, errs in form.errors.items() for e in errs]


@office_required
@require_POST
def visit_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move, reassign or resize a visit dropped on the board.

    ``member`` is the row it was dropped on and ``from_member`` the row it came from: that
    crew member is swapped for the new one and the rest of the crew stays. Dropped from the
    queue (no ``from_member``), the visit gets the new technician as its whole crew. Without
    ``member`` (a resize) the crew is unchanged.
    """
    org = request.organization
    visit = get_for_org_or_404(Visit.objects.select_related("work_order"), org, pk=pk)
    form = DropForm(request.POST, organization=org)
    if not form.is_valid():
        return _errors_response(_form_errors(form))
    d = form.cleaned_data
    start, end = form.window()
    old_crew = list(visit.crew.all())
    old_ids = [m.pk for m in old_crew]
    crew = None
    if d["member"] is not None:
        target = d["member"]
        if d["from_member"] in old_ids:
            crew = [target if m.pk == d["from_member"] else m for m in old_crew]
        elif d["from_member"] is None:
            crew = [target]
        else:
            crew = [*old_crew, target]
        seen: set[int] = set()
        crew = [m for m in crew if not (m.pk in seen or seen.add(m.pk))]
    try:
        services.visit_schedule(visit=visit, start=start, end=end, crew=crew,
                                by=request.member, override=d["override"])
    except services.ConflictError as exc:
        return _conflicts_response(exc)
    except ValidationError as exc:
        return _errors_response(_messages(exc))
    touched = set(old_ids) | {m.pk for m in (crew or [])}
    return _updated(request, _state_from_post(request), touched)


@office_required
@require_POST
def visit_place(request: HttpRequest, number: int) -> HttpResponse:
    """A work order dragged from the queue onto a technician: a new visit for them."""
    org = request.organization
    work_order = get_for_org_or_404(WorkOrder, org, number=number)
    form = DropForm(request.POST, organization=org)
    if form.is_valid() and form.cleaned_data["member"] is None:
        form.add_error("member", _("Drop the work order on a technician."))
    if not form.is_valid():
        return _errors_response(_form_errors(form))
    start, end = form.window()
    member = form.cleaned_data["member"]
    try:
        services.visit_add(work_order=work_order, by=request.member, start=start, end=end,
                           crew=[member], override=form.cleaned_data["override"])
    except services.ConflictError as exc:
        return _conflicts_response(exc)
    except ValidationError as exc:
        return _errors_response(_messages(exc))
    return _updated(request, _state_from_post(request), {member.pk})


@office_required
@require_http_methods(["GET", "POST"])
def schedule(request: HttpRequest) -> HttpResponse:
    """The keyboard form: schedule a visit (``?visit=``) or a work order (``?work_order=``).

    Loaded into the board's dialog, or a page of its own without JavaScript.
    """
    org = request.organization
    params = request.POST if request.method == "POST" else request.GET
    visit = work_order = None
    if params.get("visit"):
        visit = get_for_org_or_404(Visit.objects.select_related("work_order__customer"), org,
                                   pk=_int_or_404(params["visit"]))
        work_order = visit.work_order
    elif params.get("work_order"):
        work_order = get_for_org_or_404(WorkOrder.objects.select_related("customer",
                                                                         "job_type"),
                                        org, number=_int_or_404(params["work_order"]))
    else:
        return redirect("scheduling:board")
    state = _filters(request, QueryDict(params.get("state", "")))[1]
    conflicts: list = []
    suggested: list = []
    suggest_none = False
    if request.method == "POST":
        data = request.POST
        if data.get("suggested"):
            # A suggestion's button: its technician, day and time, the form's duration.
            data = data.copy()
            member, date, start = (data["suggested"].split(",") + ["", "", ""])[:3]
            data.setlist("crew", [member])
            data["date"], data["start"] = date, start
        form = ScheduleForm(data, organization=org)
        if form.is_valid():
            start, end = form.window()
            crew = list(form.cleaned_data["crew"])
            override = form.cleaned_data["override"]
            try:
                if visit is not None:
                    old_ids = set(visit.crew.values_list("pk", flat=True))
                    services.visit_schedule(visit=visit, start=start, end=end, crew=crew,
                                            by=request.member, override=override)
                    placed = visit
                else:
                    old_ids = set()
                    placed = services.visit_add(work_order=work_order, by=request.member,
                                                start=start, end=end, crew=crew,
                                                override=override)
                if form.cleaned_data["locked"] != placed.locked:
                    services.visit_lock_set(visit=placed, locked=form.cleaned_data["locked"],
                                            by=request.member)
            except services.ConflictError as exc:
                conflicts = [str(c.message) for c in exc.conflicts]
            except ValidationError as exc:
                from crewline.workorders.forms import add_service_errors

                add_service_errors(form, exc)
            else:
                touched = old_ids | {m.pk for m in crew}
                if request.htmx:
                    response = _updated(request, state, touched)
                    response["X-Board-Done"] = "1"
                    return response
                return redirect(f"{reverse('scheduling:board')}?"
                                f"{_query(state, day=form.cleaned_data['date'])}")
    else:
        form = ScheduleForm(initial=_initial(org, visit, work_order, state),
                            organization=org)
        # A visit is moved within its own day; work from the queue goes on the board's. A
        # crew of two or more is left to the office (a suggestion names one technician).
        if visit is None or visit.crew.count() <= 1:
            day = (visit.start.astimezone(org.tzinfo).date() if visit and visit.start
                   else state["day"])
            suggested = routes.suggestions(organization=org, day=day, work_order=work_order,
                                           visit=visit,
                                           days=1 if visit else SUGGEST_DAYS)
            suggest_none = not suggested
    if conflicts:
        # Asking again with override set: the dialog's "Schedule anyway".
        data = data.copy()
        data["override"] = "1"
        form = ScheduleForm(data, organization=org)
        form.is_valid()
    context = {"form": form, "visit": visit, "work_order": work_order, "conflicts": conflicts,
               "suggested": suggested, "suggest_none": suggest_none,
               "suggest_days": SUGGEST_DAYS,
               "state_query": _query(state), "nav": "schedule",
               "board_url": f"{reverse('scheduling:board')}?{_query(state)}"}
    template = ("scheduling/_board_schedule_form.html" if request.htmx
                else "scheduling/board_schedule.html")
    status = 409 if conflicts else 400 if form.errors else 200
    return render(request, template, context, status=status)


def _int_or_404(value: str) -> int:
    from django.http import Http404

    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise Http404("Not found.") from exc


def _initial(org: Organization, visit: Visit | None, work_order: WorkOrder,
             state: dict) -> dict:
    tz = org.tzinfo
    if visit is not None and visit.start is not None:
        start = visit.start.astimezone(tz)
        return {"crew": list(visit.crew.all()), "date": start.date(), "locked": visit.locked,
                "start": start.time().replace(second=0, microsecond=0),
                "minutes": round((visit.end - visit.start).total_seconds() / 60)}
    first_hour, _last = layout.business_span(org)
    initial = {"date": state["day"], "start": dt.time(min(first_hour + 1, 23)),
               "minutes": selectors.estimated_minutes(work_order)}
    if visit is not None:
        initial["crew"] = list(visit.crew.all())
    if work_order.requested_start and work_order.requested_start.astimezone(tz).date() \
            >= timezone.localdate():
        requested = work_order.requested_start.astimezone(tz)
        initial["date"], initial["start"] = requested.date(), requested.time()
    return initial

