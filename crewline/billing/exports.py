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

from crewline.billing.models import BillingSettings, Invoice, InvoiceLine, tax_rate_key
from crewline.billing.money import ZERO
from crewline.core.csvimport import Echo
from crewline.customers.addresses import postal_address

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


def _invoices(queryset: QuerySet[Invoice], *, sites: bool = False) -> Iterator[Invoice]:
    queryset = (queryset.select_related("customer", "work_order__site", "organization")
                .prefetch_related("lines__item").order_by("number", "id"))
    if sites:
        queryset = queryset.prefetch_related("customer__sites")
    return queryset.iterator(chunk_size=200)


def unmapped_tax_rates(queryset: QuerySet[Invoice], settings: BillingSettings) -> list[str]:
    """The tax rates (as keys, ``"8.25"``) on the lines of ``queryset`` that have no Xero tax
    type in ``settings``: an export with them would not import."""
    rates = (InvoiceLine.objects.filter(invoice__in=queryset)
             .values_list("tax_rate", flat=True).distinct())
    keys = {tax_rate_key(rate) for rate in rates}
    return sorted((k for k in keys if not settings.xero_tax_type(Decimal(k))), key=Decimal)


def quickbooks_rows(queryset: QuerySet[Invoice], *, payment_terms_days: int,
                    free_text_product: str = "") -> Iterator[str]:
    """One row per line. ``InvoiceNo`` is the invoice's reference as printed (INV-1001); a line
    without a price book item gets ``free_text_product`` as its product/service."""
    writer = csv.writer(Echo())
    yield writer.writerow(QUICKBOOKS_COLUMNS)
    for inv in _invoices(queryset):
        country = inv.organization.country
        terms = f"Net {(inv.due_date - inv.issue_date).days}" if inv.due_date and \
            inv.issue_date else f"Net {payment_terms_days}"
        for line in inv.lines.all():
            yield writer.writerow([
                inv.reference, inv.customer.name, _date(inv.issue_date, country),
                _date(inv.due_date, country), terms, "", inv.notes[:1000],
                line.item.name if line.item else free_text_product, line.description,
                _qty(line.quantity),
                _num(line.net_amount / line.quantity if line.quantity else line.unit_price, 4)
                if line.discount else _num(line.unit_price, 4),
                _num(line.net_amount), "Y" if line.tax_rate > 0 else "N",
                f"{line.tax_rate.normalize():f}%" if line.tax_rate > 0 else "",
            ])


def xero_rows(queryset: QuerySet[Invoice], *, settings: BillingSettings) -> Iterator[str]:
    """One row per line. The postal address comes in Xero's parts (lines, city, region, postal
    code, country; see ``customers.addresses``); the tax type is the one the billing settings
    give the line's rate (check ``unmapped_tax_rates`` first)."""
    writer = csv.writer(Echo())
    yield writer.writerow(XERO_COLUMNS)
    for inv in _invoices(queryset, sites=True):
        country = inv.organization.country
        site = inv.work_order.site if inv.work_order_id else None
        address = postal_address(inv.customer, sites=inv.customer.sites.all(), site=site,
                                 default_country=country)
        lines = [*address.lines[:3], ", ".join(address.lines[3:])] + ["", "", "", ""]
        reference = inv.work_order.reference if inv.work_order_id else ""
        for line in inv.lines.all():
            gross = line.quantity * line.unit_price
            discount_percent = (line.discount / gross * 100) if gross and line.discount else ZERO
            yield writer.writerow([
                inv.customer.name, inv.customer.email, *lines[:4], address.city,
                address.region, address.postal_code, address.country,
                inv.reference, reference, _date(inv.issue_date, country),
                _date(inv.due_date, country), _num(inv.total),
                line.item.code if line.item else "", line.description, _qty(line.quantity),
                _num(line.unit_price, 4), _num(discount_percent) if line.discount else "",
                settings.sales_account_code, settings.xero_tax_type(line.tax_rate),
                _num(line.tax_amount), "", "", "", "", inv.currency, "",
            ])


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
