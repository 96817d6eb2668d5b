"""Quote and invoice PDFs, made from ``typst/document.typ`` by Crewline's one Typst pipeline
(``crewline.documents.rendering``: the same fonts, file guard and paper size as job reports).

The template reads everything from its data (with the logo and signature images as files
beside it), so no user text is ever part of Typst source.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from crewline.billing.models import Invoice, InvoiceStatus, Quote
from crewline.billing.quantities import quantity_with_unit
from crewline.core.models import Organization
from crewline.documents.rendering import render_pdf

TEMPLATE = Path(__file__).resolve().parent / "typst" / "document.typ"


def money(value: Decimal) -> str:
    """``value`` with two decimals, grouped and separated as the active language writes it
    ("1,234.50"; "1.234,50" in Spanish)."""
    return formats.number_format(Decimal(value).quantize(Decimal("0.01")), 2,
                                 force_grouping=True)


def rate(value: Decimal) -> str:
    number = formats.number_format(Decimal(value).normalize())
    # Spanish puts a (non-breaking) space before the sign: "21 %".
    return f"{number}\u00a0%" if (translation.get_language() or "").startswith("es") else (
        f"{number}%")


def in_customer_language(render: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """Render a customer's document in the customer's language, whoever asks for it."""

    @functools.wraps(render)
    def rendered(document):
        with translation.override(document.customer.language_code):
            return render(document)
    return rendered


def _labels() -> dict[str, str]:
    return {
        "description": _("Description"), "quantity": _("Qty"), "unit_price": _("Unit price"),
        "discount": _("Discount"), "tax": _("Tax %"), "amount": _("Amount"),
        "subtotal": _("Subtotal"), "tax_total": _("Tax"), "total": _("Total"),
        "notes": _("Notes"), "bill_to": _("Bill to"), "site": _("Site"), "page": _("Page"),
    }


def _org(org: Organization) -> dict[str, Any]:
    contact = " · ".join(p for p in (org.phone, org.email) if p)
    return {"name": org.name, "address_lines": [line for line in org.address.splitlines()
                                                if line.strip()], "contact": contact}


def _line(line, note: str = "") -> dict[str, str]:
    return {"description": line.description, "note": note,
            "quantity": quantity_with_unit(line.quantity, line.unit),
            "unit_price": money(line.unit_price),
            "discount": money(line.discount) if line.discount else "",
            "tax_rate": rate(line.tax_rate), "net": money(line.net_amount)}


def _customer(customer) -> dict[str, Any]:
    return {"name": customer.name,
            "address_lines": [x for x in customer.billing_address.splitlines() if x.strip()],
            "email": customer.email}


def _render(org: Organization, data: dict[str, Any], files: dict[str, bytes]) -> bytes:
    return render_pdf(TEMPLATE, data, files, paper=org.paper)


def _logo(org: Organization, files: dict[str, bytes]) -> str | None:
    if not org.logo:
        return None
    try:
        with org.logo.open("rb") as fh:
            content = fh.read()
    except (OSError, ValueError):
        return None
    suffix = Path(org.logo.name).suffix.lower() or ".png"
    if suffix not in (".png", ".jpg", ".jpeg", ".svg", ".gif"):
        return None
    files["logo" + suffix] = content
    return "logo" + suffix


def _base(org: Organization) -> dict[str, Any]:
    # The rounding rule stays on the office's pages: customers get the amounts, not the rule.
    return {"org": _org(org), "lang": translation.get_language()[:2] or "en",
            "labels": _labels()}


@in_customer_language
def quote_pdf(quote: Quote) -> bytes:
    org = quote.organization
    files: dict[str, bytes] = {}
    lines = list(quote.lines.all())
    data = _base(org) | {
        "title": f"{_('Quote')} {quote.reference}",
        "heading": _("Quote"), "reference": quote.reference, "subject": quote.title,
        "facts": [[_("Date"), formats.date_format(quote.created_at.date())],
                  [_("Valid until"), formats.date_format(quote.valid_until)]],
        "customer": _customer(quote.customer),
        "site": ([quote.site.name, quote.site.one_line_address] if quote.site else None),
        "lines": [_line(line, _("Optional") + ("" if line.is_selected else
                                               " — " + _("not included in the total"))
                        if line.is_optional else "") for line in lines],
        "totals": {"subtotal": money(quote.subtotal), "tax": money(quote.tax_total),
                   "total": money(quote.total)},
        "currency": quote.currency, "notes": quote.notes, "logo": _logo(org, files),
        "approval": None,
    }
    if data["site"]:
        data["site"] = [x for x in data["site"] if x]
    if quote.approved_at:
        signature = None
        if quote.signature:
            try:
                with quote.signature.open("rb") as fh:
                    files["signature.png"] = fh.read()
                signature = "signature.png"
            except OSError:
                signature = None
        data["approval"] = {"label": _("Approved by"), "name": quote.approved_by_name,
                            "when": formats.date_format(
                                timezone.localtime(quote.approved_at, org.tzinfo),
                                "DATETIME_FORMAT"),
                            "signature": signature}
    return _render(org, data, files)


@in_customer_language
def invoice_pdf(invoice: Invoice) -> bytes:
    org = invoice.organization
    files: dict[str, bytes] = {}
    facts = []
    if invoice.issue_date:
        facts.append([_("Issue date"), formats.date_format(invoice.issue_date)])
    if invoice.due_date:
        facts.append([_("Due date"), formats.date_format(invoice.due_date)])
    if invoice.work_order_id:
        facts.append([_("Work order"), invoice.work_order.reference])
    if invoice.status == InvoiceStatus.PAID and invoice.paid_on:
        facts.append([_("Paid"), formats.date_format(invoice.paid_on)])
    heading = _("Invoice") if invoice.status != InvoiceStatus.DRAFT else _("Draft invoice")
    if invoice.status == InvoiceStatus.VOID:
        heading = _("Void invoice")
    site = invoice.work_order.site if invoice.work_order_id else None
    data = _base(org) | {
        "title": f"{heading} {invoice.reference}", "heading": heading,
        "reference": invoice.reference if invoice.number else "",
        "subject": invoice.work_order.title if invoice.work_order_id else "",
        "facts": facts, "customer": _customer(invoice.customer),
        "site": [x for x in (site.name, site.one_line_address) if x] if site else None,
        "lines": [_line(line) for line in invoice.lines.all()],
        "totals": {"subtotal": money(invoice.subtotal), "tax": money(invoice.tax_total),
                   "total": money(invoice.total)},
        "currency": invoice.currency, "notes": invoice.notes, "logo": _logo(org, files),
        "approval": None,
    }
    return _render(org, data, files)
