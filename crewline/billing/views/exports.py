"""Issued invoices exported for accounting (QuickBooks Online, Xero, plain CSV).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from crewline.billing import exports, selectors, services
from crewline.core.access import office_required

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
