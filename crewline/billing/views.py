"""Billing pages: invoices, quotes, the price book, labor rates, settings and exports.

Office staff see everything; technicians see prices and invoices (read only) only where the
organization allows it (``prices_required``); another organization's object is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crewline.billing import exports, importing, selectors, services
from crewline.billing.access import member_sees_prices, prices_required
from crewline.billing.forms import (
    BillingSettingsForm,
    DefaultLaborRateForm,
    ImportForm,
    InvoiceForm,
    LineEditForm,
    LineForm,
    PaidForm,
    PriceBookItemForm,
    QuoteForm,
    QuoteLineForm,
    RateForm,
    ReasonForm,
    SendForm,
    XeroTaxTypesForm,
)
from crewline.billing.models import (
    UNITS,
    InvoiceLine,
    InvoiceStatus,
    MemberRate,
    PriceBookItem,
    QuoteLine,
    QuoteStatus,
)
from crewline.billing.money import ROUNDING_RULE
from crewline.core.access import get_for_org_or_404, office_required
from crewline.core.models import Member
from crewline.core.redirects import next_url
from crewline.workorders.models import WorkOrder

PER_PAGE = 50
IMPORT_SESSION_KEY = "pricebook_import"


def _page(request: HttpRequest, queryset) -> Any:
    return Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _context(request: HttpRequest, tab: str, **extra: Any) -> dict[str, Any]:
    return {"nav": "billing", "tab": tab, "rounding_rule": _(ROUNDING_RULE),
            "can_edit": request.member.is_office, **extra}


def _filtered_list(request: HttpRequest, tab: str, statuses, rows) -> dict[str, Any]:
    """The context of a list filtered by ``?status=`` (one of ``statuses``) and ``?q=``."""
    status = request.GET.get("status", "")
    if status not in statuses.values:
        status = ""
    q = request.GET.get("q", "").strip()[:100]
    page = _page(request, rows(request.organization, status=status, q=q))
    return _context(request, tab, page=page, filters={"status": status, "q": q},
                    statuses=statuses.choices)


# Invoices ------------------------------------------------------------------------------------

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
            _form_errors(form, exc)
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
            _form_errors(form, exc)
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


EXPORTS = {"quickbooks": "QuickBooks Online", "xero": "Xero", "plain": "CSV"}


@office_required
def invoice_export(request: HttpRequest) -> HttpResponse:
    """Issued and paid invoices, optionally from/to an issue date, in one of ``EXPORTS``."""
    org = request.organization
    kind = request.GET.get("format", "plain")
    if kind not in EXPORTS:
        raise Http404("Unknown export format.")
    invoices = selectors.issued_invoices(org)
    for param, lookup in (("from", "issue_date__gte"), ("to", "issue_date__lte")):
        try:
            value = parse_date(request.GET.get(param) or "")
        except ValueError:  # well formed but not a real date, like 2026-02-30
            value = None
        if value:
            invoices = invoices.filter(**{lookup: value})
    settings = services.billing_settings_for(org)
    if kind == "quickbooks":
        rows = exports.quickbooks_rows(invoices, payment_terms_days=settings.payment_terms_days,
                                       free_text_product=settings.free_text_product)
    elif kind == "xero":
        missing = exports.unmapped_tax_rates(invoices, settings)
        if missing:
            # Xero refuses a whole file whose tax type it does not know: ask for it first.
            messages.error(request, _("Set the Xero tax type of %(rates)s in the billing "
                                      "settings before exporting for Xero.")
                           % {"rates": ", ".join(f"{rate}%" for rate in missing)})
            return redirect(reverse("billing:settings") + "#xero-tax-types")
        rows = exports.xero_rows(invoices, settings=settings)
    else:
        rows = exports.plain_rows(invoices)
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="invoices-{kind}-{stamp}.csv"'
    return response


# Quotes --------------------------------------------------------------------------------------

@office_required
def quote_list(request: HttpRequest) -> HttpResponse:
    context = _filtered_list(request, "quotes", QuoteStatus, selectors.quotes)
    if request.htmx:
        return render(request, "billing/_quote_rows.html", context)
    return render(request, "billing/quote_list.html", context)


@office_required
def quote_create(request: HttpRequest) -> HttpResponse:
    org = request.organization
    initial = {}
    if request.GET.get("customer", "").isdigit():
        initial["customer"] = request.GET["customer"]
    form = QuoteForm(request.POST or None, organization=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(organization=org, by=request.member,
                                          **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("billing:quote", pk=quote.pk)
    return render(request, "billing/quote_form.html", _context(
        request, "quotes", form=form, title=_("New quote"),
        cancel_url=reverse("billing:quotes")))


@office_required
def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.organization
    quote = get_for_org_or_404(selectors.quote_detail(org), org, pk=pk)
    if not quote.is_editable:
        messages.error(request, _("This quote can no longer be changed."))
        return redirect("billing:quote", pk=quote.pk)
    form = QuoteForm(request.POST or None, instance=quote, organization=org)
    if request.method == "POST" and form.is_valid():
        try:
            services.quote_update(quote=quote, by=request.member, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("billing:quote", pk=quote.pk)
    return render(request, "billing/quote_form.html", _context(
        request, "quotes", form=form, title=_("Edit %(ref)s") % {"ref": quote.reference},
        cancel_url=reverse("billing:quote", args=[quote.pk])))


def _quote_page(request: HttpRequest, quote, *, line_form=None, status: int = 200
                ) -> HttpResponse:
    org = request.organization
    context = _context(
        request, "quotes", quote=quote, lines=list(quote.lines.all()),
        editable=quote.is_editable,
        line_form=line_form or QuoteLineForm(organization=org, prefix="line"),
        send_form=SendForm(initial={"to": quote.sent_to or quote.customer.email}))
    if request.htmx and line_form is not None:
        return render(request, "billing/_quote_lines.html", context, status=status)
    return render(request, "billing/quote_detail.html", context, status=status)


@office_required
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.organization
    quote = get_for_org_or_404(selectors.quote_detail(org), org, pk=pk)
    if quote.is_expired:
        quote = services.quote_expire(quote=quote)
        quote = selectors.quote_detail(org).get(pk=quote.pk)
    return _quote_page(request, quote)


@office_required
def quote_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _pdf(request, pk, QUOTE)


@office_required
@require_POST
def quote_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _line_add(request, pk, QUOTE)


@office_required
@require_POST
def quote_line_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _line_remove(request, pk, QUOTE)


@office_required
@require_POST
def quote_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _send(request, pk, QUOTE, _("The quote is on its way to %(to)s."))


@office_required
@require_POST
def quote_convert(request: HttpRequest, pk: int) -> HttpResponse:
    quote = get_for_org_or_404(selectors.quote_detail(request.organization),
                               request.organization, pk=pk)
    try:
        work_order = services.quote_convert(quote=quote, by=request.member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("billing:quote", pk=quote.pk)
    messages.success(request, _("Work order %(ref)s raised from %(quote)s.")
                     % {"ref": work_order.reference, "quote": quote.reference})
    return redirect("workorders:detail", number=work_order.number)


# Invoices and quotes alike --------------------------------------------------------------------

@dataclass(frozen=True)
class _Document:
    """What differs between invoice and quote pages that handle lines and sending: ``name``
    is the services' prefix (``invoice_line_add``...), the line's foreign key and the URL."""

    name: str
    detail: Callable[[Any], Any]
    line_model: type
    line_form: type
    page: Callable[..., HttpResponse]

    def service(self, verb: str) -> Callable[..., Any]:
        return getattr(services, f"{self.name}_{verb}")


INVOICE = _Document("invoice", selectors.invoice_detail, InvoiceLine, LineForm, _invoice_page)
QUOTE = _Document("quote", selectors.quote_detail, QuoteLine, QuoteLineForm, _quote_page)


def _pdf(request: HttpRequest, pk: int, kind: _Document) -> HttpResponse:
    from crewline.billing import pdf

    document = get_for_org_or_404(kind.detail(request.organization), request.organization,
                                  pk=pk)
    render_pdf = getattr(pdf, f"{kind.name}_pdf")
    response = HttpResponse(render_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.reference}.pdf"'
    return response


def _line_add(request: HttpRequest, pk: int, kind: _Document) -> HttpResponse:
    org = request.organization
    document = get_for_org_or_404(kind.detail(org), org, pk=pk)
    form = kind.line_form(request.POST, organization=org, prefix="line")
    if form.is_valid():
        try:
            kind.service("line_add")(**{kind.name: document}, by=request.member,
                                     **form.values())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            document = kind.detail(org).get(pk=document.pk)
            return kind.page(request, document,
                             line_form=kind.line_form(organization=org, prefix="line"))
    return kind.page(request, document, line_form=form, status=422 if request.htmx else 200)


def _line_remove(request: HttpRequest, pk: int, kind: _Document) -> HttpResponse:
    org = request.organization
    line = get_for_org_or_404(kind.line_model.objects.select_related(kind.name), org, pk=pk)
    try:
        kind.service("line_remove")(line=line, by=request.member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    document = kind.detail(org).get(pk=getattr(line, f"{kind.name}_id"))
    if request.htmx:
        return kind.page(request, document,
                         line_form=kind.line_form(organization=org, prefix="line"))
    return redirect(f"billing:{kind.name}", pk=document.pk)


def _send(request: HttpRequest, pk: int, kind: _Document, sent_message: str) -> HttpResponse:
    document = get_for_org_or_404(kind.detail(request.organization), request.organization,
                                  pk=pk)
    form = SendForm(request.POST)
    if form.is_valid():
        try:
            kind.service("send")(**{kind.name: document}, by=request.member,
                                 to=form.cleaned_data["to"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, sent_message % {"to": form.cleaned_data["to"]})
    else:
        messages.error(request, _("Enter a valid email address."))
    return redirect(f"billing:{kind.name}", pk=document.pk)


# Price book ----------------------------------------------------------------------------------

@prices_required
def price_book(request: HttpRequest) -> HttpResponse:
    org = request.organization
    state = request.GET.get("state", "active")
    if state not in ("active", "inactive", "all"):
        state = "active"
    q = request.GET.get("q", "").strip()[:100]
    page = _page(request, selectors.price_items(org, q=q, state=state))
    context = _context(request, "price_book", page=page, filters={"q": q, "state": state},
                       currency=org.currency)
    if request.htmx:
        return render(request, "billing/_price_rows.html", context)
    return render(request, "billing/price_book.html", context)


@office_required
def price_item_create(request: HttpRequest) -> HttpResponse:
    return _price_item_form(request, None)


@office_required
def price_item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _price_item_form(request, get_for_org_or_404(PriceBookItem, request.organization,
                                                        pk=pk))


def _price_item_form(request: HttpRequest, item: PriceBookItem | None) -> HttpResponse:
    org = request.organization
    form = PriceBookItemForm(request.POST or None, instance=item, organization=org)
    if request.method == "POST" and form.is_valid():
        try:
            if item is None:
                services.price_item_create(organization=org, by=request.member,
                                           **form.cleaned_data)
            else:
                services.price_item_update(item=item, by=request.member, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Price book saved."))
            return redirect("billing:price_book")
    title = _("New price book item") if item is None else _("Edit %(code)s") % {
        "code": item.code}
    return render(request, "billing/form.html", _context(
        request, "price_book", form=form, title=title, units=UNITS,
        cancel_url=reverse("billing:price_book")))


@office_required
@require_POST
def price_item_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_for_org_or_404(PriceBookItem, request.organization, pk=pk)
    services.price_item_update(item=item, by=request.member,
                               is_active=request.POST.get("active") == "1")
    return redirect(next_url(request, reverse("billing:price_book")))


@office_required
def price_book_export(request: HttpRequest) -> StreamingHttpResponse:
    items = selectors.price_items(request.organization, state="all")
    response = StreamingHttpResponse(importing.export_rows(items),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="price-book.csv"'
    return response


@office_required
def price_book_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("\ufeff" + importing.template_csv(),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="price-book-template.csv"'
    return response


@office_required
def price_book_import(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            parsed = importing.parse_csv(form.cleaned_data["file"].read(), organization=org)
        except importing.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            request.session[IMPORT_SESSION_KEY] = parsed.to_json()
            return redirect("billing:price_book_preview")
    return render(request, "billing/import.html", _context(
        request, "price_book", form=form, columns=importing.COLUMNS))


@office_required
def price_book_preview(request: HttpRequest) -> HttpResponse:
    data = request.session.get(IMPORT_SESSION_KEY)
    if not data:
        messages.info(request, _("Upload a file to import."))
        return redirect("billing:price_book_import")
    parsed = importing.ParseResult.from_json(data)
    return render(request, "billing/import_preview.html", _context(
        request, "price_book", parsed=parsed, shown=parsed.rows[:300]))


@office_required
@require_POST
def price_book_confirm(request: HttpRequest) -> HttpResponse:
    data = request.session.pop(IMPORT_SESSION_KEY, None)
    if not data:
        messages.error(request, _("That import has expired or was already done. Upload the "
                                  "file again."))
        return redirect("billing:price_book_import")
    if request.POST.get("action") == "cancel":
        messages.info(request, _("Import cancelled; nothing was changed."))
        return redirect("billing:price_book")
    parsed = importing.ParseResult.from_json(data)
    try:
        result = importing.apply_import(organization=request.organization, by=request.member,
                                        rows=parsed.rows)
    except ValidationError as exc:
        messages.error(request, _("Nothing was imported: %(error)s")
                       % {"error": "; ".join(exc.messages)})
        return redirect("billing:price_book_import")
    messages.success(request, _("Imported %(created)s new items and updated %(updated)s.")
                     % {"created": result.created, "updated": result.updated})
    return redirect("billing:price_book")


# Settings and labor rates --------------------------------------------------------------------

def _settings_page(request: HttpRequest, *, form=None, labor_form=None, tax_form=None,
                   status: int = 200) -> HttpResponse:
    org = request.organization
    settings = services.billing_settings_for(org)
    labor_item = services.labor_item_for(org, request.member)
    members = list(Member.objects.filter(organization=org, is_active=True)
                   .select_related("user").order_by("user__full_name"))
    rates = dict(MemberRate.objects.filter(organization=org)
                 .values_list("member_id", "hourly_rate"))
    for member in members:
        member.rate = rates.get(member.pk)
    return render(request, "billing/settings.html", _context(
        request, "settings", form=form or BillingSettingsForm(instance=settings),
        labor_form=labor_form or DefaultLaborRateForm(
            initial={"hourly_rate": labor_item.unit_price.quantize(Decimal("0.01"))
                     if labor_item.unit_price else None}),
        tax_form=tax_form or XeroTaxTypesForm(rates=selectors.tax_rates_in_use(org),
                                              tax_types=settings.xero_tax_types),
        members=members, labor_item=labor_item, currency=org.currency,
        labor_rate_set=services.labor_rate_is_set(org)), status=status)


@office_required
def billing_settings(request: HttpRequest) -> HttpResponse:
    org = request.organization
    if request.method != "POST":
        return _settings_page(request)
    if not request.member.is_owner:
        messages.error(request, _("Only the owner can change billing settings."))
        return redirect("billing:settings")
    form = BillingSettingsForm(request.POST, instance=services.billing_settings_for(org))
    if form.is_valid():
        try:
            services.billing_settings_update(organization=org, by=request.member,
                                             **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Billing settings saved."))
            return redirect("billing:settings")
    return _settings_page(request, form=form, status=400)


@office_required
@require_POST
def default_labor_rate(request: HttpRequest) -> HttpResponse:
    form = DefaultLaborRateForm(request.POST)
    if form.is_valid():
        try:
            services.default_labor_rate_set(organization=request.organization,
                                            hourly_rate=form.cleaned_data["hourly_rate"],
                                            by=request.member)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Default labor rate saved."))
            return redirect(next_url(request, reverse("billing:settings") + "#labor-rates"))
    return _settings_page(request, labor_form=form, status=400)


@office_required
@require_POST
def xero_tax_types(request: HttpRequest) -> HttpResponse:
    """The name of each tax rate in the organization's Xero. The office may set them, as it
    sets the default labor rate: the bookkeeper who exports knows the names in Xero, they
    change no amount on any invoice, and the Xero export cannot run without them."""
    org = request.organization
    settings = services.billing_settings_for(org)
    form = XeroTaxTypesForm(request.POST, rates=selectors.tax_rates_in_use(org),
                            tax_types=settings.xero_tax_types)
    if form.is_valid():
        try:
            services.billing_settings_update(organization=org, by=request.member,
                                             xero_tax_types=form.tax_types())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Xero tax types saved."))
            return redirect(reverse("billing:settings") + "#xero-tax-types")
    return _settings_page(request, tax_form=form, status=400)


@office_required
@require_POST
def member_rate(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_for_org_or_404(Member, request.organization, pk=pk)
    form = RateForm(request.POST)
    if form.is_valid():
        services.member_rate_set(member=member, hourly_rate=form.cleaned_data["hourly_rate"],
                                 by=request.member)
        messages.success(request, _("Rate for %(name)s saved.") % {"name": member.name})
    else:
        messages.error(request, _("Enter a rate of zero or more, or leave it empty."))
    return redirect("billing:settings")


__all__ = ["member_sees_prices"]
