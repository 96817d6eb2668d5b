"""Office pages for work orders, and the technician's own visits.

Technicians may open only ``my_visits`` for now; every other page here is for the office (403).
"""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from crewline.core.access import get_for_org_or_404, member_required, office_required
from crewline.core.files import file_download, file_stream
from crewline.core.forms import errors_to_form
from crewline.customers.models import Customer, Site
from crewline.customers.services import customer_create, site_create
from crewline.workorders import selectors, services
from crewline.workorders.forms import (
    AttachmentForm,
    LaborForm,
    NoteForm,
    PartForm,
    ReasonForm,
    VisitForm,
    WorkOrderFilterForm,
    WorkOrderForm,
    tags_for_names,
)
from crewline.workorders.models import (
    OPEN_STATUSES,
    OPEN_VISIT_STATUSES,
    EntryKind,
    Priority,
    Status,
    TimelineEntry,
    WorkOrder,
)
from crewline.workorders.templatetags.workorders import window

PER_PAGE = 50
# Served inline (for thumbnails); anything else is sent as a download.
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}

ACTION_LABELS = {
    "schedule": gettext_lazy("Mark scheduled"), "start": gettext_lazy("Start work"),
    "hold": gettext_lazy("Put on hold"), "resume": gettext_lazy("Resume"),
    "complete": gettext_lazy("Complete"), "cancel": gettext_lazy("Cancel job"),
    "reopen": gettext_lazy("Reopen"), "invoice": gettext_lazy("Mark invoiced"),
}


LIST_FIELDS = (
    "organization_id", "number", "title", "status", "priority", "due_date", "customer__name",
    "site__name", "site__address_line1", "site__address_line2", "site__city", "site__region",
    "site__postal_code", "job_type__name",
)


@office_required
@require_GET
def work_order_list(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = WorkOrderFilterForm(request.GET or None, organization=org)
    filters: dict = {}
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        filters = {"status": d["status"], "priority": d["priority"], "q": d["q"],
                   "technician": d["technician"], "date_from": d["date_from"],
                   "date_to": d["date_to"], "tags": [d["tag"]] if d["tag"] else []}
    customer = None
    if form.is_bound and form.is_valid() and form.cleaned_data["customer"]:
        customer = Customer.objects.filter(organization=org,
                                           pk=form.cleaned_data["customer"]).first()
        if customer is None:
            raise Http404("No customer found.")
        filters["customer"] = customer
    chosen = set(filters.get("status") or ())
    # Only the columns the rows show: fewer values to convert makes the busiest page faster.
    rows = selectors.work_order_list(organization=org, **filters).only(*LIST_FIELDS)
    page = selectors.cheap_page(rows, request.GET.get("page"), PER_PAGE)
    page.object_list = _list_rows(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "workorders", "form": form, "page": page, "customer": customer,
        "query": query.urlencode(), "today": timezone.localdate(),
        "status_chips": [("", _("Open"), not chosen)]
        + [(value, label, value in chosen) for value, label in Status.choices]
        + [(selectors.ALL, _("All"), selectors.ALL in chosen)],
    }
    if request.htmx and request.htmx.target == "wo-rows":
        return render(request, "workorders/_work_order_rows.html", context)
    return render(request, "workorders/list.html", context)


def _list_rows(work_orders: list[WorkOrder]) -> list[dict]:
    """What each row of the list shows, worked out once in Python.

    The list is the busiest page of the office; plain values keep its template cheap to render
    (no URL reversing, translation or date formatting per cell).
    """
    today = timezone.localdate()
    statuses = {value: str(label) for value, label in Status.choices}
    priorities = {value: str(label) for value, label in Priority.choices}
    detail_url = reverse("workorders:detail", args=[0]).removesuffix("0/")
    no_crew = _("No crew yet")
    rows = []
    for wo in work_orders:
        visit = wo.open_visits[0] if wo.open_visits else None
        site = wo.site
        rows.append({
            "url": f"{detail_url}{wo.number}/", "reference": wo.reference, "title": wo.title,
            "job_type": wo.job_type.name if wo.job_type else "",
            "tags": [t.name for t in wo.tags.all()],
            "customer": wo.customer.name, "address": site.one_line_address if site else "",
            "status": wo.status, "status_label": statuses.get(wo.status, wo.status),
            "priority": wo.priority, "priority_label": priorities.get(wo.priority, ""),
            "visit": window(visit.start, visit.end) if visit else "",
            "crew": (", ".join(m.name for m in visit.crew.all()) or no_crew) if visit else "",
            "due": date_format(wo.due_date, "j M Y") if wo.due_date else "",
            "overdue": bool(wo.due_date and wo.status in OPEN_STATUSES and wo.due_date < today),
        })
    return rows


def _save_work_order(request: HttpRequest, form: WorkOrderForm,
                     work_order: WorkOrder | None) -> WorkOrder | None:
    """Create or update from a valid form; on a service error, show it on the form."""
    org, member = request.organization, request.member
    d = form.cleaned_data
    try:
        with transaction.atomic():
            customer, site = d.get("customer"), d.get("site")
            if d.get("new_customer"):
                customer = customer_create(organization=org, by=member,
                                           **form.new_customer_values())
                site = site_create(customer=customer, by=member, **form.new_site_values())
            fields = {
                "customer": customer, "site": site, "kind": d["kind"],
                "job_type": d["job_type"], "priority": d["priority"], "title": d["title"],
                "instructions": d["instructions"], "requested_start": d["requested_start"],
                "requested_end": d["requested_end"], "due_date": d["due_date"],
                "tags": tags_for_names(org, d["tag_names"]),
            }
            if work_order is None:
                return services.work_order_create(organization=org, by=member, **fields)
            return services.work_order_update(work_order=work_order, by=member, **fields)
    except ValidationError as exc:
        errors_to_form(form, exc, fields=NEW_CUSTOMER_FIELDS if d.get("new_customer") else None)
        return None


# Errors from the customer and site services name their own fields; show them on ours.
NEW_CUSTOMER_FIELDS = {"name": "new_name", "email": "new_email", "phone": "new_phone",
                       "address_line1": "new_address_line1", "city": "new_city",
                       "region": "new_region", "postal_code": "new_postal_code"}


@office_required
def work_order_create(request: HttpRequest) -> HttpResponse:
    org = request.organization
    if request.method == "POST":
        form = WorkOrderForm(request.POST, organization=org)
        if form.is_valid():
            wo = _save_work_order(request, form, None)
            if wo is not None:
                messages.success(request, _("%(ref)s created.") % {"ref": wo.reference})
                return redirect("workorders:detail", number=wo.number)
    else:
        initial = {}
        customer = Customer.objects.filter(organization=org, archived_at__isnull=True,
                                           pk=request.GET.get("customer") or 0).first() \
            if (request.GET.get("customer") or "").isdigit() else None
        if customer is not None:
            initial["customer"] = customer
            sites = list(Site.objects.filter(customer=customer, archived_at__isnull=True)[:2])
            wanted = request.GET.get("site") or ""
            site = next((s for s in sites if str(s.pk) == wanted), None)
            if site is None and wanted.isdigit():
                site = Site.objects.filter(customer=customer, pk=wanted,
                                           archived_at__isnull=True).first()
            if site is None and len(sites) == 1:
                site = sites[0]
            initial["site"] = site
        form = WorkOrderForm(initial=initial, organization=org)
    status = 400 if request.method == "POST" else 200
    return render(request, "workorders/form.html",
                  {"nav": "workorders", "form": form, "work_order": None}, status=status)


@office_required
def work_order_edit(request: HttpRequest, number: int) -> HttpResponse:
    org = request.organization
    wo = selectors.work_order_for_member(request.member, number)
    if request.method == "POST":
        form = WorkOrderForm(request.POST, organization=org, allow_new_customer=False)
        if form.is_valid():
            saved = _save_work_order(request, form, wo)
            if saved is not None:
                messages.success(request, _("%(ref)s saved.") % {"ref": wo.reference})
                return redirect("workorders:detail", number=wo.number)
    else:
        initial = {name: getattr(wo, name) for name in (
            "customer", "site", "kind", "job_type", "priority", "title", "instructions",
            "requested_start", "requested_end", "due_date")}
        initial["tags"] = ", ".join(t.name for t in wo.tags.all())
        form = WorkOrderForm(initial=initial, organization=org, allow_new_customer=False)
    status = 400 if request.method == "POST" else 200
    return render(request, "workorders/form.html",
                  {"nav": "workorders", "form": form, "work_order": wo}, status=status)


@office_required
@require_GET
def site_options(request: HttpRequest) -> HttpResponse:
    """The ``<option>``s of a customer's sites, for the work order form."""
    raw = request.GET.get("customer") or ""
    sites = Site.objects.none()
    if raw.isdigit():
        customer = get_for_org_or_404(Customer, request.organization, pk=int(raw))
        sites = Site.objects.filter(customer=customer, archived_at__isnull=True)
    sites = list(sites)
    return render(request, "workorders/_site_options.html",
                  {"sites": sites, "selected": sites[0].pk if len(sites) == 1 else None})


@office_required
@require_GET
def customer_options(request: HttpRequest) -> HttpResponse:
    """The ``<option>``s of customers matching ``q``, for the searchable customer select."""
    from crewline.customers.selectors import customer_list

    customers = customer_list(organization=request.organization,
                              q=request.GET.get("q", "")[:100])[:50]
    return render(request, "workorders/_customer_options.html", {"customers": customers})


HISTORY_ROWS = 100


def _header_context(org, wo: WorkOrder, visits: list | None = None) -> dict:
    """What the page's header shows: the status, and the actions the work order allows.
    ``visits``, when the caller has them, spare a query when one is still open."""
    allowed = services.allowed_transitions(wo)
    # The first action that needs no reason is the likely next step: make it stand out.
    # Reopening and marking invoiced (when billed elsewhere) are never the obvious next step.
    primary = next((a for a in allowed if a not in services.REASON_REQUIRED
                    and a not in ("reopen", "invoice")), None)
    # Every visit done, the last without asking for another: what is left is to close it.
    ready = ("complete" in allowed
             and (visits is None or (visits and not any(v.status in OPEN_VISIT_STATUSES
                                                        for v in visits)))
             and selectors.ready_to_close_ids(org).filter(pk=wo.pk).exists())
    if ready:
        primary = "complete"
    return {"wo": wo, "ready_to_close": ready,
            "actions": [{"name": a, "label": ACTION_LABELS[a], "primary": a == primary,
                         "needs_reason": a in services.REASON_REQUIRED} for a in allowed]}


def _work_done_context(org, wo: WorkOrder, visits: list, **forms) -> dict:
    """The "Work done" card: labor, parts and signatures, and the office's forms for them."""
    work_done = selectors.work_done(wo)
    return {
        "wo": wo, "visits": visits, "work_done": work_done,
        # Labor entries that count; the timeline marks the others as replaced.
        "counted_labor": {entry.pk for entry in work_done.labor},
        "part_form": forms.get("part_form") or PartForm(
            work_order=wo, visits=visits, price_book=selectors.price_book_choices(org)),
        "labor_form": forms.get("labor_form") or LaborForm(work_order=wo, visits=visits),
    }


def _detail_context(request: HttpRequest, wo: WorkOrder, **forms) -> dict:
    org = request.organization
    timeline, timeline_more = selectors.work_order_timeline_page(wo)
    history = list(selectors.work_order_history(wo)[:HISTORY_ROWS + 1])
    visits = list(selectors.work_order_visits(wo))
    return {
        "nav": "workorders", "today": timezone.localdate(),
        **_header_context(org, wo, visits),
        **_work_done_context(org, wo, visits, **forms),
        "timeline": timeline,
        "timeline_more": timeline_more,
        "history": history[:HISTORY_ROWS],
        "history_truncated": len(history) > HISTORY_ROWS,
        "tags": list(wo.tags.all()),
        "contact_phone": wo.customer.phone,
        "visit_form": forms.get("visit_form") or VisitForm(organization=org, initial={
            "date": timezone.localdate(), "duration": (wo.job_type.default_duration_minutes
                                                       if wo.job_type else 60)}),
        "note_form": forms.get("note_form") or NoteForm(),
        "attachment_form": forms.get("attachment_form") or AttachmentForm(),
        "reason_form": ReasonForm(),
        "can_add_visit": wo.status in OPEN_STATUSES,
    }


@office_required
@require_GET
def work_order_detail(request: HttpRequest, number: int) -> HttpResponse:
    wo = selectors.work_order_for_member(request.member, number)
    return render(request, "workorders/detail.html", _detail_context(request, wo))


# Entries that change the "Work done" card when they are written.
WORK_DONE_KINDS = (EntryKind.LABOR, EntryKind.PART, EntryKind.SIGNATURE)


@office_required
@require_GET
def live_parts(request: HttpRequest, number: int) -> HttpResponse:
    """The parts of the work order's page that a change (``crewline.live``) touched, each
    rendered alone by the partial the page includes: ``what=timeline&entry=<id>`` the entry
    (and the "Work done" card for labor, parts and signatures), ``what=visit&visit=<id>`` the
    visit's card and the header, ``what=work_order`` the header. ``live.js`` swaps each by id,
    or puts a new one in its place in its list."""
    org = request.organization
    wo = selectors.work_order_for_member(request.member, number)
    what = request.GET.get("what", "")
    parts: list[str] = []
    if what == "timeline":
        entry = get_for_org_or_404(
            TimelineEntry.objects.select_related("author__user", "visit").filter(
                work_order=wo), request.organization, pk=_int_or_404(request.GET.get("entry")))
        if entry.kind in WORK_DONE_KINDS:
            visits = list(selectors.work_order_visits(wo))
            done = _work_done_context(org, wo, visits)
            counted = done["counted_labor"]
            # Labor set again replaces the member's earlier entry on the visit: shown so too.
            replaced = (list(selectors.work_order_timeline(wo).filter(
                kind=EntryKind.LABOR, visit_id=entry.visit_id).exclude(pk__in=counted))
                if entry.kind == EntryKind.LABOR and entry.visit_id else [])
            for item in (entry, *replaced):
                parts.append(render_to_string("workorders/_timeline_entry.html",
                                              {"entry": item, "wo": wo, "counted_labor": counted},
                                              request=request))
            parts.append(render_to_string("workorders/_work_done.html", done, request=request))
        else:
            parts.append(render_to_string("workorders/_timeline_entry.html",
                                          {"entry": entry, "wo": wo}, request=request))
    elif what == "visit":
        visit = get_for_org_or_404(selectors.work_order_visits(wo), request.organization,
                                   pk=_int_or_404(request.GET.get("visit")))
        parts.append(render_to_string("workorders/_visit_card.html", {"visit": visit, "wo": wo},
                                      request=request))
    if what in ("visit", "work_order"):
        header = _header_context(org, wo)
        parts.append(render_to_string("workorders/_wo_status.html", header, request=request))
        parts.append(render_to_string("workorders/_wo_actions.html", header, request=request))
    if not parts:
        raise Http404("Nothing of the page changed.")
    return HttpResponse("".join(parts))


def _int_or_404(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise Http404("Not a number.") from None


@office_required
@require_GET
def timeline_older(request: HttpRequest, number: int) -> HttpResponse:
    """Older timeline entries, for the "Show older" button (an htmx fragment)."""
    wo = selectors.work_order_for_member(request.member, number)
    entries, more = selectors.work_order_timeline_page(
        wo, before=_int_or_404(request.GET.get("before")))
    return render(request, "workorders/_timeline_older.html",
                  {"wo": wo, "timeline": entries, "timeline_more": more,
                   "counted_labor": {e.pk for e in selectors.work_done(wo).labor}})


@office_required
@require_POST
def work_order_transition(request: HttpRequest, number: int, action: str) -> HttpResponse:
    wo = selectors.work_order_for_member(request.member, number)
    if action not in services.TRANSITIONS:
        raise Http404("No such action.")
    reason = request.POST.get("reason", "")
    try:
        services.work_order_transition(work_order=wo, action=action, by=request.member,
                                       reason=reason)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(ref)s is now %(status)s.")
                         % {"ref": wo.reference, "status": wo.get_status_display().lower()})
    return redirect("workorders:detail", number=wo.number)


@office_required
@require_POST
def visit_add(request: HttpRequest, number: int) -> HttpResponse:
    wo = selectors.work_order_for_member(request.member, number)
    form = VisitForm(request.POST, organization=request.organization)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.visit_add(work_order=wo, by=request.member, start=d["start"], end=d["end"],
                               crew=d["crew"], notes=d["notes"],
                               override=request.POST.get("override") == "1")
        except services.ConflictError as exc:
            # Shown as warnings with a "Schedule anyway" button that posts the same form again
            # with override=1; the audit log records the override.
            wo.refresh_from_db()
            context = _detail_context(request, wo, visit_form=form)
            context["visit_conflicts"] = exc.conflicts
            return render(request, "workorders/detail.html", context, status=409)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Visit added."))
            return redirect(reverse("workorders:detail", args=[wo.number]) + "#visits")
    wo.refresh_from_db()
    return render(request, "workorders/detail.html",
                  _detail_context(request, wo, visit_form=form), status=400)


@office_required
@require_POST
def note_add(request: HttpRequest, number: int) -> HttpResponse:
    wo = selectors.work_order_for_member(request.member, number)
    form = NoteForm(request.POST)
    entry = None
    if form.is_valid():
        try:
            entry = services.note_add(work_order=wo, by=request.member,
                                      body=form.cleaned_data["body"],
                                      visibility=form.cleaned_data["visibility"])
        except ValidationError as exc:
            errors_to_form(form, exc)
    if request.htmx:
        # The fresh form replaces the old one; the new entry goes to the top of the timeline.
        return render(request, "workorders/_note_form.html", {
            "wo": wo, "note_form": NoteForm() if entry else form,
            "entry": entry and selectors.work_order_timeline(wo).get(pk=entry.pk)})
    if entry is not None:
        return redirect(reverse("workorders:detail", args=[wo.number]) + "#timeline")
    return render(request, "workorders/detail.html",
                  _detail_context(request, wo, note_form=form), status=400)


@office_required
@require_POST
def attachment_add(request: HttpRequest, number: int) -> HttpResponse:
    wo = selectors.work_order_for_member(request.member, number)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(work_order=wo, by=request.member,
                                    file=form.cleaned_data["file"],
                                    caption=form.cleaned_data["caption"],
                                    visibility=form.cleaned_data["visibility"])
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("File attached."))
            return redirect(reverse("workorders:detail", args=[wo.number]) + "#timeline")
    return render(request, "workorders/detail.html",
                  _detail_context(request, wo, attachment_form=form), status=400)


def _record_work(request: HttpRequest, number: int, form_class, name: str, save,
                 done: str) -> HttpResponse:
    """A part or labor the office records on the work order page: ``save(wo, data)`` writes it
    through its timeline service; errors come back next to the fields, nothing lost."""
    wo = selectors.work_order_for_member(request.member, number)
    extra = ({"price_book": selectors.price_book_choices(request.organization)}
             if form_class is PartForm else {})
    form = form_class(request.POST, work_order=wo,
                      visits=list(selectors.work_order_visits(wo)), **extra)
    if form.is_valid():
        try:
            save(wo, form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            errors_to_form(form, exc if isinstance(exc, ValidationError)
                               else ValidationError(str(exc)))
        else:
            messages.success(request, done)
            return redirect(reverse("workorders:detail", args=[wo.number]) + "#work-done")
    wo.refresh_from_db()
    return render(request, "workorders/detail.html",
                  _detail_context(request, wo, **{name: form}), status=400)


@office_required
@require_POST
def part_add(request: HttpRequest, number: int) -> HttpResponse:
    def save(wo, d):
        services.part_add(visit=d["visit"], by=request.member, quantity=d["quantity"],
                          name=d["name"], unit=d["unit"], price_book_item_id=d["item"])
    return _record_work(request, number, PartForm, "part_form", save, _("Part recorded."))


@office_required
@require_POST
def labor_set(request: HttpRequest, number: int) -> HttpResponse:
    def save(wo, d):
        services.labor_set(visit=d["visit"], by=request.member, member=d["member"],
                           minutes=d["minutes"], description=d["description"])
    return _record_work(request, number, LaborForm, "labor_form", save, _("Labor recorded."))


@office_required
@require_POST
def entry_visibility(request: HttpRequest, pk: int) -> HttpResponse:
    """Share a note, photo or file with the customer, or keep it internal (``visibility``)."""
    entry = get_for_org_or_404(TimelineEntry.objects.select_related("work_order"),
                               request.organization, pk=pk)
    wo = entry.work_order
    wanted = request.POST.get("visibility", "")
    changed = wanted != entry.visibility
    try:
        services.entry_visibility_set(entry=entry, visibility=wanted, by=request.member)
    except ValidationError as exc:
        if request.htmx:
            return HttpResponse(" ".join(exc.messages), status=400)
        messages.error(request, " ".join(exc.messages))
        changed = False
    if request.htmx:
        # The entry again, and the timeline's record of the change at its top.
        timeline = selectors.work_order_timeline(wo)
        change = (timeline.filter(kind=EntryKind.SYSTEM, data__entry=entry.pk).first()
                  if changed else None)
        return render(request, "workorders/_entry_visibility.html",
                      {"wo": wo, "entry": timeline.get(pk=entry.pk), "change": change})
    return redirect(reverse("workorders:detail", args=[wo.number]) + f"#entry-{entry.pk}")


@office_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's file, checked against the organization and role; never a public media URL."""
    entry = get_for_org_or_404(TimelineEntry.objects.exclude(attachment=""),
                               request.organization, pk=pk)
    content_type = (entry.attachment_type
                    or mimetypes.guess_type(entry.attachment_name)[0]
                    or "application/octet-stream")
    if content_type in INLINE_TYPES:
        # Shown in the page (<img>): from this site, as its Content-Security-Policy wants.
        return file_stream(entry.attachment, filename=entry.attachment_name or "file",
                           content_type=content_type, cache_control="private, max-age=3600")
    return file_download(entry.attachment, filename=entry.attachment_name or "file",
                         content_type="application/octet-stream",
                         cache_control="private, max-age=3600")


@member_required
@require_GET
def my_visits(request: HttpRequest) -> HttpResponse:
    visits = list(selectors.visits_for_technician(member=request.member))
    days: dict = {}
    for visit in visits:
        days.setdefault(timezone.localtime(visit.start).date(), []).append(visit)
    return render(request, "workorders/my_visits.html",
                  {"nav": "my_visits", "days": days, "today": timezone.localdate()})
