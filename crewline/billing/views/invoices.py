"""Invoice pages: the list, a draft from a work order, the invoice and its actions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crewline.billing import selectors, services
from crewline.billing.access import prices_required
from crewline.billing.forms import (
    InvoiceForm,
    LineEditForm,
    LineForm,
    PaidForm,
    ReasonForm,
    SendForm,
)
from crewline.billing.models import InvoiceLine, InvoiceStatus
from crewline.billing.views.common import (
    _context,
    _Document,
    _filtered_list,
    _line_add,
    _line_remove,
    _pdf,
    _send,
)
from crewline.core.access import get_for_org_or_404, office_required
from crewline.core.forms import errors_to_form
from crewline.workorders.models import WorkOrder


@prices_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    org = request.organization
    context = _filtered_list(request, "invoices", InvoiceStatus, selectors.invoices)
    context["currency"] = org.currency
    if request.htmx:
        return render(request, "billing/_invoice_rows.html", context)
    if request.member.is_office:
        context["to_invoice"] = list(selectors.work_orders_to_invoice(org)[:20])
    return render(request, "billing/invoice_list.html", context)


@office_required
@require_POST
def invoice_from_work_order(request: HttpRequest, pk: int) -> HttpResponse:
    work_order = get_for_org_or_404(WorkOrder, request.organization, pk=pk)
    try:
        invoice = services.invoice_draft_from_work_order(work_order=work_order,
                                                         by=request.member)
    except ValidationError as exc:
        if getattr(exc, "code", None) == "labor_rate_missing":
            messages.error(request, format_html(
                '{} <a href="{}#labor-rates">{}</a>', " ".join(exc.messages),
                reverse("billing:settings"), _("Set the labor rate")))
        else:
            messages.error(request, " ".join(exc.messages))
        return redirect("billing:invoices")
    messages.success(request, _("Draft invoice made from %(wo)s.")
                     % {"wo": work_order.reference})
    return redirect("billing:invoice", pk=invoice.pk)


def _invoice_page(request: HttpRequest, invoice, *, line_form=None, status: int = 200,
                  edit_form: LineEditForm | None = None, **extra: Any) -> HttpResponse:
    org = request.organization
    editable = invoice.is_editable and request.member.is_office
    lines = list(invoice.lines.all())
    if editable:
        for line in lines:
            bound = edit_form is not None and edit_form.prefix == f"edit-{line.pk}"
            line.edit_form = edit_form if bound else LineEditForm.for_line(line)
    zero_lines = selectors.invoice_zero_lines(invoice) if editable else []
    context = _context(
        request, "invoices", invoice=invoice, lines=lines, zero_lines=zero_lines,
        zero_line_ids=",".join(str(line.pk) for line in zero_lines),
        zero_line_names=", ".join(f"“{line.description}”" for line in zero_lines),
        editable=editable,
        line_form=line_form or LineForm(organization=org, prefix="line"),
        paid_form=PaidForm(), void_form=ReasonForm(prefix="void"),
        send_form=SendForm(initial={"to": invoice.customer.email}),
        invoice_form=InvoiceForm(instance=invoice), **extra)
    if request.htmx and (line_form is not None or edit_form is not None):
        return render(request, "billing/_invoice_lines.html", context, status=status)
    return render(request, "billing/invoice_detail.html", context, status=status)


@prices_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_for_org_or_404(selectors.invoice_detail(request.organization),
                                 request.organization, pk=pk)
    return _invoice_page(request, invoice)


@prices_required
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _pdf(request, pk, INVOICE)


@office_required
@require_POST
def invoice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_for_org_or_404(selectors.invoice_detail(request.organization),
                                 request.organization, pk=pk)
    form = InvoiceForm(request.POST, instance=invoice)
    if form.is_valid():
        try:
            services.invoice_update(invoice=invoice, by=request.member,
                                    notes=form.cleaned_data["notes"],
                                    due_date=form.cleaned_data["due_date"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Invoice saved."))
    else:
        messages.error(request, _("Check the due date and notes."))
    return redirect("billing:invoice", pk=invoice.pk)


@office_required
@require_POST
def invoice_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _line_add(request, pk, INVOICE)


@office_required
@require_POST
def invoice_line_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _line_remove(request, pk, INVOICE)


@office_required
@require_POST
def invoice_line_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a draft's line in place: its description, quantity, price or tax rate."""
    org = request.organization
    line = get_for_org_or_404(InvoiceLine.objects.select_related("invoice"), org, pk=pk)
    form = LineEditForm.for_line(line, request.POST)
    if form.is_valid():
        try:
            services.invoice_line_update(line=line, by=request.member, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
            if not hasattr(exc, "error_dict"):
                # Not about a field (the invoice was issued meanwhile): the form may be gone.
                messages.error(request, " ".join(exc.messages))
        else:
            invoice = selectors.invoice_detail(org).get(pk=line.invoice_id)
            if request.htmx:
                return _invoice_page(request, invoice, line_form=LineForm(organization=org,
                                                                          prefix="line"))
            messages.success(request, _("Line saved."))
            return redirect("billing:invoice", pk=invoice.pk)
    invoice = selectors.invoice_detail(org).get(pk=line.invoice_id)
    return _invoice_page(request, invoice, edit_form=form, status=422 if request.htmx else 400)


@office_required
@require_POST
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_for_org_or_404(selectors.invoice_detail(request.organization),
                                 request.organization, pk=pk)
    confirmed = [int(v) for v in request.POST.get("zero_lines_confirmed", "").split(",")
                 if v.strip().isdigit()]
    try:
        invoice = services.invoice_issue(invoice=invoice, by=request.member,
                                         zero_lines_confirmed=confirmed)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Invoice %(ref)s issued.") % {"ref": invoice.reference})
    return redirect("billing:invoice", pk=invoice.pk)


@office_required
@require_POST
def invoice_paid(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_for_org_or_404(selectors.invoice_detail(request.organization),
                                 request.organization, pk=pk)
    form = PaidForm(request.POST)
    if form.is_valid():
        try:
            services.invoice_mark_paid(invoice=invoice, by=request.member,
                                       paid_on=form.cleaned_data["paid_on"],
                                       method=form.cleaned_data["method"],
                                       reference=form.cleaned_data["reference"])
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Marked paid."))
            return redirect("billing:invoice", pk=invoice.pk)
    return _invoice_page(request, invoice, paid_form_errors=form, status=400)


@office_required
@require_POST
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_for_org_or_404(selectors.invoice_detail(request.organization),
                                 request.organization, pk=pk)
    form = ReasonForm(request.POST, prefix="void")
    if form.is_valid():
        try:
            services.invoice_void(invoice=invoice, by=request.member,
                                  reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Invoice voided."))
    else:
        messages.error(request, _("Give a reason for voiding the invoice."))
    return redirect("billing:invoice", pk=invoice.pk)


@office_required
@require_POST
def invoice_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _send(request, pk, INVOICE, _("The invoice is on its way to %(to)s."))



INVOICE = _Document("invoice", selectors.invoice_detail, InvoiceLine, LineForm, _invoice_page)
