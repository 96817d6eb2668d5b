"""Reads for the billing pages: querysets with what each page shows joined in."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from crewline.billing.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    PriceBookItem,
    Quote,
    QuoteLine,
)
from crewline.billing.money import ZERO, Totals, totals
from crewline.core.models import Organization
from crewline.workorders.models import Status, WorkOrder


def price_items(organization: Organization, *, q: str = "", state: str = "active"
                ) -> QuerySet[PriceBookItem]:
    items = PriceBookItem.objects.filter(organization=organization)
    if state == "active":
        items = items.filter(is_active=True)
    elif state == "inactive":
        items = items.filter(is_active=False)
    if q:
        items = items.filter(Q(code__icontains=q) | Q(name__icontains=q)
                             | Q(description__icontains=q))
    return items.order_by("code", "id")


def quotes(organization: Organization, *, status: str = "", q: str = "") -> QuerySet[Quote]:
    result = Quote.objects.filter(organization=organization).select_related(
        "customer", "site", "work_order")
    if status:
        result = result.filter(status=status)
    if q:
        query = Q(title__icontains=q) | Q(customer__name__icontains=q)
        if q.upper().removeprefix("Q-").isdigit():
            query |= Q(number=int(q.upper().removeprefix("Q-")))
        result = result.filter(query)
    return result.order_by("-number")


def quote_detail(organization: Organization) -> QuerySet[Quote]:
    return Quote.objects.filter(organization=organization).select_related(
        "customer", "site", "work_order", "organization").prefetch_related("lines__item")


def invoices(organization: Organization, *, status: str = "", q: str = "") -> QuerySet[Invoice]:
    result = Invoice.objects.filter(organization=organization).select_related(
        "customer", "work_order")
    if status:
        result = result.filter(status=status)
    if q:
        query = Q(customer__name__icontains=q)
        digits = q.upper().removeprefix("INV-")
        if digits.isdigit():
            query |= Q(number=int(digits))
        result = result.filter(query)
    return result.order_by("-created_at", "-id")


def invoice_detail(organization: Organization) -> QuerySet[Invoice]:
    return Invoice.objects.filter(organization=organization).select_related(
        "customer", "work_order__site", "organization").prefetch_related("lines__item")


def issued_invoices(organization: Organization) -> QuerySet[Invoice]:
    return Invoice.objects.filter(organization=organization,
                                  status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PAID])


def work_orders_to_invoice(organization: Organization) -> QuerySet[WorkOrder]:
    """Completed work orders with no invoice other than void ones."""
    invoiced = Invoice.objects.filter(work_order=OuterRef("pk")).exclude(
        status=InvoiceStatus.VOID)
    return (WorkOrder.objects.filter(organization=organization, status=Status.COMPLETED)
            .filter(~Exists(invoiced)).select_related("customer").order_by("-completed_at"))


def tax_rates_in_use(organization: Organization) -> list[str]:
    """The tax rates (as ``tax_rate_key`` writes them) an export may meet: those of active
    price book items and of invoice lines, those already given a Xero tax type, and zero."""
    from crewline.billing.models import BillingSettings, InvoiceLine, tax_rate_key

    rates = set(PriceBookItem.objects.filter(organization=organization, is_active=True)
                .values_list("tax_rate", flat=True).distinct())
    rates |= set(InvoiceLine.objects.filter(organization=organization)
                 .values_list("tax_rate", flat=True).distinct())
    keys = {tax_rate_key(rate) for rate in rates} | {"0"}
    mapped = (BillingSettings.objects.filter(organization=organization)
              .values_list("xero_tax_types", flat=True).first()) or {}
    keys |= set(mapped)
    return sorted(keys, key=Decimal)


def quote_totals_for_choice(lines: Iterable[QuoteLine], chosen: Iterable[int]) -> Totals:
    """The totals of a quote with the required lines and the optional ones in ``chosen`` (ids):
    what the public page shows for the customer's ticks, by the rule ``quote_approve`` stores
    (the page's ``quote-total.js`` adds the same rounded line amounts)."""
    chosen = set(chosen)
    return totals(line.amounts() for line in lines
                  if not line.is_optional or line.pk in chosen)


def invoice_zero_lines(invoice: Invoice) -> list[InvoiceLine]:
    """The invoice's lines that come to 0.00 (a part typed on the phone that is not in the
    price book has no price yet), which issuing asks about."""
    return [line for line in invoice.lines.all() if line.net_amount == ZERO]
