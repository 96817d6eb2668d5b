"""Office pages for customers, contacts, sites and equipment, and the CSV import and export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import CharField, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crewline.core.access import office_required
from crewline.core.forms import errors_to_form
from crewline.customers import importing, selectors, services
from crewline.customers.forms import (
    ContactForm,
    CustomerForm,
    EquipmentForm,
    FirstContactForm,
    FirstSiteForm,
    ImportForm,
    SiteForm,
)
from crewline.customers.models import Contact, CustomerKind
from crewline.workorders.models import EntryKind, TimelineEntry, WorkOrder

PER_PAGE = 50
IMPORT_SESSION_KEY = "customers_import_token"


def _save(form: forms.BaseForm, action: Callable[[], Any]) -> Any | None:
    """Run a service; its ValidationError is shown on the form. None when it failed."""
    try:
        return action()
    except ValidationError as exc:
        errors_to_form(form, exc)
        return None


def _list_filters(request: HttpRequest) -> dict[str, str]:
    kind = request.GET.get("kind", "")
    state = request.GET.get("state", "")
    return {
        "q": request.GET.get("q", "").strip()[:100],
        "kind": kind if kind in CustomerKind.values else "",
        "state": state if state in ("archived", "all") else "",
    }


def _filtered_customers(request: HttpRequest, *, annotated: bool) -> QuerySet:
    f = _list_filters(request)
    select = selectors.customer_list_annotated if annotated else selectors.customer_list
    qs = select(organization=request.organization, q=f["q"], kind=f["kind"],
                include_archived=bool(f["state"]))
    if f["state"] == "archived":
        qs = qs.filter(archived_at__isnull=False)
    return qs


def _primary_contact(field: str) -> Subquery:
    return Subquery(Contact.objects.filter(customer_id=OuterRef("pk"), archived_at__isnull=True)
                    .order_by("-is_primary", "name", "id").values(field)[:1],
                    output_field=CharField())


@office_required
def customer_list(request: HttpRequest) -> HttpResponse:
    filters = _list_filters(request)
    customers = _filtered_customers(request, annotated=True).annotate(
        contact_phone=_primary_contact("phone"), contact_email=_primary_contact("email"))
    page = Paginator(customers, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"nav": "customers", "page": page, "filters": filters,
               "querystring": query.urlencode(), "kinds": CustomerKind.choices}
    if request.htmx and not request.htmx.boosted:
        return render(request, "customers/_customer_rows.html", context)
    return render(request, "customers/list.html", context)


@office_required
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    site_form = FirstSiteForm(request.POST or None, prefix="site")
    contact_form = FirstContactForm(request.POST or None, prefix="contact")
    if request.method == "POST" and all(
            [form.is_valid(), site_form.is_valid(), contact_form.is_valid()]):
        try:
            with transaction.atomic():
                customer = services.customer_create(organization=request.organization,
                                                    by=request.member, **form.cleaned_data)
                if site_form.is_filled:
                    _check(site_form, lambda: services.site_create(
                        customer=customer, by=request.member, **site_form.cleaned_data))
                if contact_form.is_filled:
                    _check(contact_form, lambda: services.contact_create(
                        customer=customer, by=request.member, is_primary=True,
                        **contact_form.cleaned_data))
        except _FormFailed:
            pass
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Customer %(name)s added.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/customer_create.html", {
        "nav": "customers", "form": form, "site_form": site_form,
        "contact_form": contact_form})


class _FormFailed(Exception):
    pass


def _check(form: forms.BaseForm, action: Callable[[], Any]) -> Any:
    """Like ``_save`` but raises, to roll back the surrounding transaction."""
    result = _save(form, action)
    if result is None:
        raise _FormFailed
    return result


def _form_page(request: HttpRequest, form: forms.BaseForm, *, title: str, cancel_url: str,
               subtitle: str = "") -> HttpResponse:
    return render(request, "customers/form.html", {
        "nav": "customers", "form": form, "title": title, "subtitle": subtitle,
        "cancel_url": cancel_url})


@office_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_for_member(request.member, pk)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        customer = selectors.customer_for_member(request.member, pk)
        if _save(form, lambda: services.customer_update(customer=customer, by=request.member,
                                                         **form.cleaned_data)):
            messages.success(request, _("Customer saved."))
            return redirect("customers:detail", pk=customer.pk)
    return _form_page(request, form, title=_("Edit customer"), subtitle=customer.name,
                      cancel_url=reverse("customers:detail", args=[pk]))


def _confirm_page(request: HttpRequest, *, title: str, message: str, button: str,
                  cancel_url: str) -> HttpResponse:
    return render(request, "customers/confirm.html", {
        "nav": "customers", "title": title, "message": message, "button": button,
        "cancel_url": cancel_url})


@office_required
def customer_archive(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_for_member(request.member, pk)
    if request.method == "POST":
        services.customer_archive(customer=customer, by=request.member)
        messages.success(request, _("%(name)s archived. Their history is kept.")
                         % {"name": customer.name})
        return redirect("customers:detail", pk=pk)
    return _confirm_page(
        request, title=_("Archive %(name)s?") % {"name": customer.name},
        message=_("An archived customer is hidden from lists and from new work orders. Their "
                  "sites, contacts and service history are kept, and you can restore them."),
        button=_("Archive customer"), cancel_url=reverse("customers:detail", args=[pk]))


@office_required
@require_POST
def customer_unarchive(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_for_member(request.member, pk)
    services.customer_unarchive(customer=customer, by=request.member)
    messages.success(request, _("%(name)s restored.") % {"name": customer.name})
    return redirect("customers:detail", pk=pk)


def _work_orders(**lookup) -> QuerySet[WorkOrder]:
    return (WorkOrder.objects.filter(**lookup).select_related("site")
            .order_by("-created_at", "-number"))


@office_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_for_member(request.member, pk)
    history = Paginator(_work_orders(organization=request.organization, customer=customer),
                        PER_PAGE).get_page(request.GET.get("page"))
    context = {"nav": "customers", "customer": customer, "history": history,
               "history_url": reverse("customers:detail", args=[pk])}
    if request.htmx:
        return render(request, "customers/_service_history.html", context)
    context.update(
        contacts=selectors.customer_contacts(customer=customer),
        sites=selectors.customer_sites(customer=customer),
        archived_sites=selectors.customer_sites(customer=customer, include_archived=True)
        .filter(archived_at__isnull=False),
    )
    return render(request, "customers/detail.html", context)


# Contacts ----------------------------------------------------------------------------------

@office_required
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_for_member(request.member, pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.contact_create(customer=customer, by=request.member,
                                                  **form.cleaned_data)):
        messages.success(request, _("Contact added."))
        return redirect("customers:detail", pk=pk)
    return _form_page(request, form, title=_("Add a contact"), subtitle=customer.name,
                      cancel_url=reverse("customers:detail", args=[pk]))


@office_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_for_member(request.member, pk)
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        contact = selectors.contact_for_member(request.member, pk)
        if _save(form, lambda: services.contact_update(contact=contact, by=request.member,
                                                        **form.cleaned_data)):
            messages.success(request, _("Contact saved."))
            return redirect("customers:detail", pk=contact.customer_id)
    return _form_page(request, form, title=_("Edit contact"), subtitle=contact.customer.name,
                      cancel_url=reverse("customers:detail", args=[contact.customer_id]))


@office_required
def contact_archive(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_for_member(request.member, pk)
    back = reverse("customers:detail", args=[contact.customer_id])
    if request.method == "POST":
        services.contact_archive(contact=contact, by=request.member)
        messages.success(request, _("Contact %(name)s archived.") % {"name": contact.name})
        return redirect(back)
    return _confirm_page(request, title=_("Archive %(name)s?") % {"name": contact.name},
                         message=_("The contact is removed from the customer's list."),
                         button=_("Archive contact"), cancel_url=back)


# Sites -------------------------------------------------------------------------------------

@office_required
def site_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_for_member(request.member, pk)
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        site = _save(form, lambda: services.site_create(customer=customer, by=request.member,
                                                         **form.cleaned_data))
        if site:
            messages.success(request, _("Site added."))
            return redirect("customers:site_detail", pk=site.pk)
    return _form_page(request, form, title=_("Add a site"), subtitle=customer.name,
                      cancel_url=reverse("customers:detail", args=[pk]))


@office_required
def site_edit(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_for_member(request.member, pk)
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        site = selectors.site_for_member(request.member, pk)
        if _save(form, lambda: services.site_update(site=site, by=request.member,
                                                     **form.cleaned_data)):
            messages.success(request, _("Site saved."))
            return redirect("customers:site_detail", pk=pk)
    return _form_page(request, form, title=_("Edit site"), subtitle=site.customer.name,
                      cancel_url=reverse("customers:site_detail", args=[pk]))


@office_required
def site_archive(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_for_member(request.member, pk)
    if request.method == "POST":
        services.site_archive(site=site, by=request.member)
        messages.success(request, _("Site %(name)s archived.") % {"name": site})
        return redirect("customers:detail", pk=site.customer_id)
    return _confirm_page(
        request, title=_("Archive %(name)s?") % {"name": site},
        message=_("The site is hidden from new work orders; its service history is kept."),
        button=_("Archive site"), cancel_url=reverse("customers:site_detail", args=[pk]))


@office_required
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_for_member(request.member, pk)
    last_note = (TimelineEntry.objects.filter(work_order_id=OuterRef("pk"), kind=EntryKind.NOTE)
                 .order_by("-created_at", "-id").values("body")[:1])
    work_orders = _work_orders(organization=request.organization, site=site).annotate(
        last_note=Subquery(last_note, output_field=CharField()))
    history = Paginator(work_orders, PER_PAGE).get_page(request.GET.get("page"))
    context = {"nav": "customers", "site": site, "customer": site.customer, "history": history,
               "history_url": reverse("customers:site_detail", args=[pk]), "show_notes": True}
    if request.htmx:
        return render(request, "customers/_service_history.html", context)
    context["equipment"] = selectors.site_equipment(site=site)
    return render(request, "customers/site_detail.html", context)


# Equipment ---------------------------------------------------------------------------------

@office_required
def equipment_create(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_for_member(request.member, pk)
    form = EquipmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.equipment_create(site=site, by=request.member,
                                                    **form.cleaned_data)):
        messages.success(request, _("Equipment added."))
        return redirect("customers:site_detail", pk=pk)
    return _form_page(request, form, title=_("Add equipment"), subtitle=str(site),
                      cancel_url=reverse("customers:site_detail", args=[pk]))


@office_required
def equipment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    equipment = selectors.equipment_for_member(request.member, pk)
    form = EquipmentForm(request.POST or None, instance=equipment)
    if request.method == "POST" and form.is_valid():
        equipment = selectors.equipment_for_member(request.member, pk)
        if _save(form, lambda: services.equipment_update(equipment=equipment, by=request.member,
                                                          **form.cleaned_data)):
            messages.success(request, _("Equipment saved."))
            return redirect("customers:site_detail", pk=equipment.site_id)
    return _form_page(request, form, title=_("Edit equipment"), subtitle=str(equipment.site),
                      cancel_url=reverse("customers:site_detail", args=[equipment.site_id]))


@office_required
def equipment_archive(request: HttpRequest, pk: int) -> HttpResponse:
    equipment = selectors.equipment_for_member(request.member, pk)
    back = reverse("customers:site_detail", args=[equipment.site_id])
    if request.method == "POST":
        services.equipment_archive(equipment=equipment, by=request.member)
        messages.success(request, _("%(name)s archived.") % {"name": equipment.name})
        return redirect(back)
    return _confirm_page(request, title=_("Archive %(name)s?") % {"name": equipment.name},
                         message=_("The equipment is removed from the site's list; work orders "
                                   "that mention it keep it."),
                         button=_("Archive equipment"), cancel_url=back)


# Import and export -------------------------------------------------------------------------

def _import_page(request: HttpRequest, form: ImportForm, **context: Any) -> HttpResponse:
    return render(request, "customers/import.html", {
        "nav": "customers", "form": form, "columns": [
            (c, importing.COLUMN_HELP[c]) for c in importing.COLUMNS], **context})


@office_required
def customer_import(request: HttpRequest) -> HttpResponse:
    """Upload (POST) shows the preview; nothing is written until ``import_confirm``."""
    org = request.organization
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            parsed = importing.parse_csv(form.cleaned_data["file"].read())
        except importing.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            importing.pending_discard(organization=org,
                                      token=request.session.get(IMPORT_SESSION_KEY))
            request.session[IMPORT_SESSION_KEY] = importing.pending_save(organization=org,
                                                                         result=parsed)
            return redirect("customers:import_preview")
    return _import_page(request, form)


@office_required
def import_preview(request: HttpRequest) -> HttpResponse:
    parsed = importing.pending_load(organization=request.organization,
                                    token=request.session.get(IMPORT_SESSION_KEY))
    if parsed is None:
        messages.info(request, _("Upload a file to import."))
        return redirect("customers:import")
    plan = importing.plan_import(organization=request.organization, rows=parsed.rows)
    error_rows = len({e.row for e in parsed.errors})
    return render(request, "customers/import_preview.html", {
        "nav": "customers", "parsed": parsed, "plan": plan, "error_rows": error_rows,
        "planned": plan.customers[:300], "more": max(0, len(plan.customers) - 300)})


@office_required
@require_POST
def import_confirm(request: HttpRequest) -> HttpResponse:
    org = request.organization
    token = request.session.get(IMPORT_SESSION_KEY)
    parsed = importing.pending_load(organization=org, token=token)
    if parsed is None:
        messages.error(request, _("That import has expired or was already done. Upload the "
                                  "file again."))
        return redirect("customers:import")
    if request.POST.get("action") == "cancel":
        messages.info(request, _("Import cancelled; nothing was changed."))
    else:
        try:
            result = importing.apply_import(organization=org, by=request.member,
                                            rows=parsed.rows)
        except ValidationError as exc:
            messages.error(request, _("Nothing was imported: %(error)s")
                           % {"error": "; ".join(exc.messages)})
            return redirect("customers:import_preview")
        messages.success(request, _(
            "Imported %(customers)s new customers, %(sites)s sites and %(contacts)s contacts.")
            % {"customers": result.customers, "sites": result.sites,
               "contacts": result.contacts})
    importing.pending_discard(organization=org, token=token)
    request.session.pop(IMPORT_SESSION_KEY, None)
    return redirect("customers:list")


@office_required
def import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("\ufeff" + importing.template_csv(),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="crewline-customers-template.csv"'
    return response


@office_required
def customer_export(request: HttpRequest) -> StreamingHttpResponse:
    customers = _filtered_customers(request, annotated=False)
    response = StreamingHttpResponse(importing.export_rows(customers),
                                     content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    return response
