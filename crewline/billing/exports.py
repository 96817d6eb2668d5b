"""CSV exports of issued invoices for accounting systems, one row per invoice line.

* QuickBooks Online's invoice import layout (``QUICKBOOKS_COLUMNS``), as in its sample file.
* Xero's sales invoice import template (``XERO_COLUMNS``; an asterisk marks a column Xero
  requires).
* A plain CSV with everything (``PLAIN_COLUMNS``).

Dates follow the organization's country: month first in the US, day first elsewhere, as both
systems read them by the company's region.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import QuerySet

from crewline.billing.models import Invoice
from crewline.billing.money import ZERO
from crewline.core.csvimport import Echo

QUICKBOOKS_COLUMNS = (
    "InvoiceNo", "Customer", "InvoiceDate", "DueDate", "Terms", "Location", "Memo",
    "Item(Product/Service)", "ItemDescription", "ItemQuantity", "ItemRate", "ItemAmount",
    "Taxable", "TaxRate",
)
XERO_COLUMNS = (
    "*ContactName", "EmailAddress", "POAddressLine1", "POAddressLine2", "POAddressLine3",
    "POAddressLine4", "POCity", "PORegion", "POPostalCode", "POCountry", "*InvoiceNumber",
    "Reference", "*InvoiceDate", "*DueDate", "Total", "InventoryItemCode", "*Description",
    "*Quantity", "*UnitAmount", "Discount", "*AccountCode", "*TaxType", "TaxAmount",
    "TrackingName1", "TrackingOption1", "TrackingName2", "TrackingOption2", "Currency",
    "BrandingTheme",
)
PLAIN_COLUMNS = (
    "invoice_number", "status", "customer", "customer_email", "work_order", "issue_date",
    "due_date", "paid_on", "currency", "line", "item_code", "description", "quantity", "unit",
    "unit_price", "discount", "tax_rate", "net_amount", "tax_amount", "invoice_subtotal",
    "invoice_tax", "invoice_total",
)


def _date(value: dt.date | None, country: str) -> str:
    if value is None:
        return ""
    return value.strftime("%m/%d/%Y" if country == "US" else "%d/%m/%Y")


def _num(value: Decimal, places: int = 2) -> str:
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-places)):f}"


def _qty(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


def _invoices(queryset: QuerySet[Invoice]) -> Iterator[Invoice]:
    queryset = (queryset.select_related("customer", "work_order", "organization")
                .prefetch_related("lines__item").order_by("number", "id"))
    return queryset.iterator(chunk_size=200)


def _address(invoice: Invoice) -> list[str]:
    return [x.strip() for x in invoice.customer.billing_address.splitlines() if x.strip()]


def quickbooks_rows(queryset: QuerySet[Invoice], *, payment_terms_days: int) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(QUICKBOOKS_COLUMNS)
    for inv in _invoices(queryset):
        country = inv.organization.country
        terms = f"Net {(inv.due_date - inv.issue_date).days}" if inv.due_date and \
            inv.issue_date else f"Net {payment_terms_days}"
        for line in inv.lines.all():
            yield writer.writerow([
                inv.number, inv.customer.name, _date(inv.issue_date, country),
                _date(inv.due_date, country), terms, "", inv.notes[:1000],
                line.item.name if line.item else "", line.description, _qty(line.quantity),
                _num(line.net_amount / line.quantity if line.quantity else line.unit_price, 4)
                if line.discount else _num(line.unit_price, 4),
                _num(line.net_amount), "Y" if line.tax_rate > 0 else "N",
                f"{line.tax_rate.normalize():f}%" if line.tax_rate > 0 else "",
            ])


def xero_rows(queryset: QuerySet[Invoice], *, account_code: str) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(XERO_COLUMNS)
    for inv in _invoices(queryset):
        country = inv.organization.country
        address = _address(inv) + ["", "", "", ""]
        reference = inv.work_order.reference if inv.work_order_id else ""
        for line in inv.lines.all():
            gross = line.quantity * line.unit_price
            discount_percent = (line.discount / gross * 100) if gross and line.discount else ZERO
            yield writer.writerow([
                inv.customer.name, inv.customer.email, *address[:4], "", "", "", "",
                f"INV-{inv.number}", reference, _date(inv.issue_date, country),
                _date(inv.due_date, country), _num(inv.total),
                line.item.code if line.item else "", line.description, _qty(line.quantity),
                _num(line.unit_price, 4), _num(discount_percent) if line.discount else "",
                account_code, _xero_tax_type(line.tax_rate), _num(line.tax_amount),
                "", "", "", "", inv.currency, "",
            ])


def _xero_tax_type(rate: Decimal) -> str:
    # Xero matches the tax rate by its display name in the organisation's settings.
    return "Tax Exempt" if rate == 0 else f"Tax on Sales {rate.normalize():f}%"


def plain_rows(queryset: QuerySet[Invoice]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(PLAIN_COLUMNS)
    for inv in _invoices(queryset):
        for position, line in enumerate(inv.lines.all(), start=1):
            yield writer.writerow([
                inv.reference, inv.status, inv.customer.name, inv.customer.email,
                inv.work_order.reference if inv.work_order_id else "",
                inv.issue_date.isoformat() if inv.issue_date else "",
                inv.due_date.isoformat() if inv.due_date else "",
                inv.paid_on.isoformat() if inv.paid_on else "", inv.currency, position,
                line.item.code if line.item else "", line.description, _qty(line.quantity),
                line.unit, _num(line.unit_price, 4), _num(line.discount),
                f"{line.tax_rate.normalize():f}", _num(line.net_amount), _num(line.tax_amount),
                _num(inv.subtotal), _num(inv.tax_total), _num(inv.total),
            ])
