"""The price book, quotes and invoices (``read:billing``, ``write:billing``), written through
``crewline.billing.services``. Money is a decimal string with its currency:
``{"amount": "125.00", "currency": "USD"}``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Schema
from ninja import Status as Answer
from pydantic import AfterValidator, AwareDatetime, Field

from crewline.api import pagination
from crewline.api.auth import need
from crewline.api.idempotency import idempotent
from crewline.api.routes.base import (
    ERRORS,
    WRITE_ERRORS,
    Day,
    Id,
    In,
    Limit,
    Text,
    _get,
    _member_of,
    _related,
    _since,
    _url,
    _write,
    api,
    check_if_match,
    patch_values,
    with_etag,
)
from crewline.api.routes.customers import EMAIL_PATTERN, FILLED
from crewline.api.schemas import (
    InvoiceOut,
    InvoicePage,
    PriceItemOut,
    PriceItemPage,
    QuoteOut,
    QuotePage,
)
from crewline.billing.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    ItemKind,
    PaymentMethod,
    PriceBookItem,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from crewline.billing.services import invoices as invoice_services
from crewline.billing.services import price_book
from crewline.billing.services import quotes as quote_services
from crewline.customers.models import Customer, Site
from crewline.workorders.models import WorkOrder

CENT = Decimal("0.01")


def money(value: Decimal | None, currency: str) -> dict | None:
    if value is None:
        return None
    return {"amount": str(value.quantize(CENT)), "currency": currency}


def price(value: Decimal | None, currency: str) -> dict | None:
    """A unit price: up to four places, as stored, without trailing zeros past the cents."""
    if value is None:
        return None
    text = f"{value:f}"
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(2, "0")
        text = f"{whole}.{frac}"
    else:
        text = f"{text}.00"
    return {"amount": text, "currency": currency}


def _decimal(places: int, pattern: str, low: Decimal = Decimal(0),
             high: Decimal = Decimal("99999999")):
    """A decimal string from ``low`` to ``high`` with at most ``places`` decimals; ``pattern``
    says exactly that in the document (and is checked), the check after it says it in words."""
    def check(value: str) -> str:
        try:
            number = Decimal(value)
        except ArithmeticError:
            raise ValueError("Give a decimal number as a string, e.g. \"12.50\".") from None
        if not number.is_finite() or number < low or number > high:
            raise ValueError(f"Give a number from {low} to {high}.")
        if -number.as_tuple().exponent > places:
            raise ValueError(f"At most {places} decimal places.")
        return value
    return Annotated[str, Field(max_length=20, pattern=pattern), AfterValidator(check)]


Amount = _decimal(4, r"^(?:[1-9]\d{0,7}|0)(?:\.\d{1,4})?$")
Rate = _decimal(3, r"^(?:100(?:\.0{1,3})?|[1-9]?\d(?:\.\d{1,3})?)$", high=Decimal(100))
Quantity = _decimal(4, r"^(?:[1-9]\d{0,7}(?:\.\d{1,4})?|0\.(?:[1-9]\d{0,3}|0[1-9]\d{0,2}"
                    r"|00[1-9]\d?|000[1-9]))$", low=Decimal("0.0001"))


# Price book --------------------------------------------------------------------------------

def _item(request: HttpRequest, i: PriceBookItem) -> dict:
    cur = i.organization.currency
    return {"id": i.pk, "code": i.code, "name": i.name, "description": i.description,
            "kind": i.kind, "unit": i.unit, "unit_price": price(i.unit_price, cur),
            "unit_cost": price(i.unit_cost, cur), "tax_rate": str(i.tax_rate),
            "is_active": i.is_active, "created_at": i.created_at, "updated_at": i.updated_at,
            "url": _url(request, "price_item_get", i.pk)}


class ItemFilters(Schema):
    kind: list[ItemKind] = Field(default_factory=list)
    include_inactive: bool = False
    updated_since: AwareDatetime | None = None
    cursor: pagination.Cursor | None = Field(None, description=pagination.CURSOR_HELP)
    limit: Limit = pagination.DEFAULT_LIMIT


def _items() -> QuerySet[PriceBookItem]:
    return PriceBookItem.objects.select_related("organization")


@api.get("/price-book", response={200: PriceItemPage, **ERRORS}, url_name="price_item_list",
         tags=["billing"], summary="List the price book's items")
def price_item_list(request: HttpRequest, filters: Query[ItemFilters]):
    principal = need(request, "read:billing")
    qs = _items().filter(organization=principal.organization)
    if filters.kind:
        qs = qs.filter(kind__in=[k.value for k in filters.kind])
    if not filters.include_inactive:
        qs = qs.filter(is_active=True)
    since = _since(filters.updated_since)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=since is not None,
                                  serialize=lambda i: _item(request, i))


@api.get("/price-book/{int:item_id}", response={200: PriceItemOut, 304: None, **ERRORS},
         url_name="price_item_get", tags=["billing"], summary="A price book item")
def price_item_get(request: HttpRequest, item_id: int, response: HttpResponse):
    principal = need(request, "read:billing")
    return with_etag(request, response,
                     _item(request, _get(_items(), principal.organization, item_id)))


class ItemIn(In):
    code: Annotated[str, Field(min_length=1, max_length=40)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Text = ""
    kind: ItemKind = ItemKind.SERVICE
    unit: Annotated[str, Field(min_length=1, max_length=20)] = "each"
    unit_price: Amount
    unit_cost: Amount = "0"
    tax_rate: Rate = "0"
    is_active: bool = True


class ItemPatch(In):
    code: Annotated[str, Field(min_length=1, max_length=40)] = None
    name: Annotated[str, Field(min_length=1, max_length=200)] = None
    description: Text = None
    kind: ItemKind = None
    unit: Annotated[str, Field(min_length=1, max_length=20)] = None
    unit_price: Amount = None
    unit_cost: Amount = None
    tax_rate: Rate = None
    is_active: bool = None


DECIMALS = ("unit_price", "unit_cost", "tax_rate", "quantity", "discount")


def _decimals(values: dict) -> dict:
    return {k: Decimal(v) if k in DECIMALS and v is not None else v for k, v in values.items()}


@api.post("/price-book", response={201: PriceItemOut, **WRITE_ERRORS},
          url_name="price_item_create", tags=["billing"], summary="Add a price book item")
@idempotent
def price_item_create(request: HttpRequest, payload: ItemIn, response: HttpResponse):
    with _write(request, "write:billing") as principal:
        item = price_book.price_item_create(organization=principal.organization,
                                            by=_member_of(principal),
                                            **_decimals(payload.model_dump()))
    data = _item(request, _get(_items(), principal.organization, item.pk))
    return Answer(201, with_etag(request, response, data))


@api.patch("/price-book/{int:item_id}", response={200: PriceItemOut, **WRITE_ERRORS},
           url_name="price_item_update", tags=["billing"], summary="Change a price book item")
@idempotent
def price_item_update(request: HttpRequest, item_id: int, payload: ItemPatch,
                      response: HttpResponse):
    changes = _decimals(patch_values(payload))
    with _write(request, "write:billing") as principal:
        org = principal.organization
        item = _get(_items(), org, item_id)
        check_if_match(request, org.pk, lambda: _item(request, item))
        if changes:
            price_book.price_item_update(item=item, by=_member_of(principal), **changes)
    return with_etag(request, response, _item(request, _get(_items(), org, item_id)))


# Quotes and invoices -----------------------------------------------------------------------

def _line(line: QuoteLine | InvoiceLine, currency: str) -> dict:
    values = {"id": line.pk, "position": line.position, "item_id": line.item_id,
              "description": line.description, "quantity": f"{line.quantity.normalize():f}",
              "unit": line.unit, "unit_price": price(line.unit_price, currency),
              "discount": money(line.discount, currency), "tax_rate": str(line.tax_rate),
              "net_amount": money(line.net_amount, currency),
              "tax_amount": money(line.tax_amount, currency)}
    if isinstance(line, QuoteLine):
        values.update(is_optional=line.is_optional, is_selected=line.is_selected)
    return values


def _quotes() -> QuerySet[Quote]:
    return Quote.objects.prefetch_related(
        Prefetch("lines", queryset=QuoteLine.objects.order_by("position", "id")))


def _quote(request: HttpRequest, q: Quote) -> dict:
    cur = q.currency
    return {"id": q.pk, "number": q.number, "reference": q.reference,
            "customer_id": q.customer_id, "site_id": q.site_id, "title": q.title,
            "status": q.status, "valid_until": q.valid_until, "notes": q.notes,
            "currency": cur, "subtotal": money(q.subtotal, cur),
            "tax_total": money(q.tax_total, cur), "total": money(q.total, cur),
            "sent_at": q.sent_at, "approved_at": q.approved_at,
            "approved_by_name": q.approved_by_name, "declined_at": q.declined_at,
            "work_order_id": q.work_order_id, "created_at": q.created_at,
            "updated_at": q.updated_at, "lines": [_line(li, cur) for li in q.lines.all()],
            "url": _url(request, "quote_get", q.pk)}


class QuoteFilters(Schema):
    status: list[QuoteStatus] = Field(default_factory=list)
    customer: Id | None = None
    updated_since: AwareDatetime | None = None
    cursor: pagination.Cursor | None = Field(None, description=pagination.CURSOR_HELP)
    limit: Limit = pagination.DEFAULT_LIMIT


@api.get("/quotes", response={200: QuotePage, **ERRORS}, url_name="quote_list",
         tags=["billing"], summary="List quotes with their lines")
def quote_list(request: HttpRequest, filters: Query[QuoteFilters]):
    principal = need(request, "read:billing")
    qs = _quotes().filter(organization=principal.organization)
    if filters.status:
        qs = qs.filter(status__in=[s.value for s in filters.status])
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    since = _since(filters.updated_since)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=since is not None,
                                  serialize=lambda q: _quote(request, q))


@api.get("/quotes/{int:quote_id}", response={200: QuoteOut, 304: None, **ERRORS},
         url_name="quote_get", tags=["billing"], summary="A quote")
def quote_get(request: HttpRequest, quote_id: int, response: HttpResponse):
    principal = need(request, "read:billing")
    return with_etag(request, response,
                     _quote(request, _get(_quotes(), principal.organization, quote_id)))


class LineIn(In):
    item_id: Id | None = Field(None, description="A price book item: fills what is not given.")
    description: Annotated[str, Field(max_length=500)] = ""
    quantity: Quantity = "1"
    unit: Annotated[str, Field(max_length=20)] = ""
    unit_price: Amount | None = None
    discount: Amount = "0"
    tax_rate: Rate | None = None
    is_optional: bool = False


class QuoteIn(In):
    customer_id: Id
    site_id: Id | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)]
    valid_until: Day = None
    notes: Text = ""
    lines: Annotated[list[LineIn], Field(max_length=200)] = Field(default_factory=list)


QUOTE_RENAMES = {"customer": "customer_id", "site": "site_id", "item": "item_id"}


@api.post("/quotes", response={201: QuoteOut, **WRITE_ERRORS}, url_name="quote_create",
          tags=["billing"], summary="Draft a quote, with its lines")
@idempotent
def quote_create(request: HttpRequest, payload: QuoteIn, response: HttpResponse):
    with _write(request, "write:billing", QUOTE_RENAMES) as principal:
        org = principal.organization
        by = _member_of(principal)
        customer = _related(principal, Customer, payload.customer_id, "customer_id")
        site = _related(principal, Site, payload.site_id, "site_id")
        quote = quote_services.quote_create(organization=org, by=by, customer=customer,
                                            site=site, title=payload.title,
                                            valid_until=payload.valid_until,
                                            notes=payload.notes)
        for line in payload.lines:
            values = _decimals(line.model_dump(exclude_unset=True))
            if "item_id" in values:
                values["item"] = _related(principal, PriceBookItem, values.pop("item_id"),
                                          "item_id")
            quote_services.quote_line_add(quote=quote, by=by, **values)
    data = _quote(request, _get(_quotes(), org, quote.pk))
    return Answer(201, with_etag(request, response, data))


def _invoices() -> QuerySet[Invoice]:
    return Invoice.objects.prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")))


def _invoice(request: HttpRequest, i: Invoice) -> dict:
    cur = i.currency
    return {"id": i.pk, "number": i.number, "reference": i.reference,
            "customer_id": i.customer_id, "work_order_id": i.work_order_id,
            "status": i.status, "issue_date": i.issue_date, "due_date": i.due_date,
            "currency": cur, "notes": i.notes, "subtotal": money(i.subtotal, cur),
            "tax_total": money(i.tax_total, cur), "total": money(i.total, cur),
            "paid_on": i.paid_on, "payment_method": i.payment_method,
            "payment_reference": i.payment_reference, "sent_at": i.sent_at,
            "created_at": i.created_at, "updated_at": i.updated_at,
            "lines": [_line(li, cur) for li in i.lines.all()],
            "url": _url(request, "invoice_get", i.pk)}


class InvoiceFilters(Schema):
    status: list[InvoiceStatus] = Field(default_factory=list)
    customer: Id | None = None
    work_order: Id | None = None
    issued_from: dt.date | None = Field(None, description="Issued on or after this day.")
    issued_to: dt.date | None = Field(None, description="Issued on or before this day.")
    updated_since: AwareDatetime | None = None
    cursor: pagination.Cursor | None = Field(None, description=pagination.CURSOR_HELP)
    limit: Limit = pagination.DEFAULT_LIMIT


@api.get("/invoices", response={200: InvoicePage, **ERRORS}, url_name="invoice_list",
         tags=["billing"], summary="List invoices with their lines")
def invoice_list(request: HttpRequest, filters: Query[InvoiceFilters]):
    principal = need(request, "read:billing")
    qs = _invoices().filter(organization=principal.organization)
    if filters.status:
        qs = qs.filter(status__in=[s.value for s in filters.status])
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.work_order is not None:
        qs = qs.filter(work_order_id=filters.work_order)
    if filters.issued_from is not None:
        qs = qs.filter(issue_date__gte=filters.issued_from)
    if filters.issued_to is not None:
        qs = qs.filter(issue_date__lte=filters.issued_to)
    since = _since(filters.updated_since)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=since is not None,
                                  serialize=lambda i: _invoice(request, i))


@api.get("/invoices/{int:invoice_id}", response={200: InvoiceOut, 304: None, **ERRORS},
         url_name="invoice_get", tags=["billing"], summary="An invoice")
def invoice_get(request: HttpRequest, invoice_id: int, response: HttpResponse):
    principal = need(request, "read:billing")
    return with_etag(request, response,
                     _invoice(request, _get(_invoices(), principal.organization, invoice_id)))


@api.post("/work-orders/{int:work_order_id}/invoice", response={201: InvoiceOut,
                                                                **WRITE_ERRORS},
          url_name="invoice_draft", tags=["billing"],
          summary="Draft the invoice of a completed work order")
@idempotent
def invoice_draft(request: HttpRequest, work_order_id: int, response: HttpResponse):
    """Lines from the approved quote, the labor and the parts on its timeline, as the
    office's button makes them. A work order that is not completed, or has an invoice, is a
    409."""
    with _write(request, "write:billing") as principal:
        org = principal.organization
        wo = _get(WorkOrder.objects.select_related("organization"), org, work_order_id)
        invoice = invoice_services.invoice_draft_from_work_order(work_order=wo,
                                                                 by=_member_of(principal))
    data = _invoice(request, _get(_invoices(), org, invoice.pk))
    return Answer(201, with_etag(request, response, data))


class PaidIn(In):
    paid_on: Annotated[dt.date, Field()]
    method: PaymentMethod
    reference: Annotated[str, Field(max_length=100)] = ""


def _invoice_act(request: HttpRequest, response: HttpResponse, invoice_id: int, act) -> dict:
    """A write to one invoice through ``act(invoice, by)`` (a billing service), under If-Match;
    the answer is the invoice as a read gives it."""
    with _write(request, "write:billing") as principal:
        org = principal.organization
        invoice = _get(Invoice.objects.select_related("organization"), org, invoice_id)
        check_if_match(request, org.pk, lambda: _invoice(
            request, _get(_invoices(), org, invoice_id)))
        act(invoice, _member_of(principal))
    return with_etag(request, response, _invoice(request, _get(_invoices(), org, invoice_id)))


@api.post("/invoices/{int:invoice_id}/mark-paid", response={200: InvoiceOut, **WRITE_ERRORS},
          url_name="invoice_mark_paid", tags=["billing"], summary="Mark an issued invoice paid")
@idempotent
def invoice_mark_paid(request: HttpRequest, invoice_id: int, payload: PaidIn,
                      response: HttpResponse):
    return _invoice_act(request, response, invoice_id, lambda invoice, by: (
        invoice_services.invoice_mark_paid(invoice=invoice, by=by, paid_on=payload.paid_on,
                                           method=payload.method, reference=payload.reference)))


# Sending a quote, issuing and voiding an invoice: the office's buttons ---------------------

class SendIn(In):
    to: Annotated[str, Field(min_length=6, max_length=254, pattern=EMAIL_PATTERN)] = Field(
        description="The address the quote's email and approval link go to.")


@api.post("/quotes/{int:quote_id}/send", response={200: QuoteOut, **WRITE_ERRORS},
          url_name="quote_send", tags=["billing"],
          summary="Send a quote to the customer with its approval link")
@idempotent
def quote_send(request: HttpRequest, quote_id: int, payload: SendIn, response: HttpResponse):
    """A quote without lines, or answered already, is a 409; one whose validity date has
    passed a 422 on `valid_until`. Sending again makes a new link (the old one stops)."""
    with _write(request, "write:billing") as principal:
        org = principal.organization
        quote = _get(Quote.objects.select_related("organization"), org, quote_id)
        check_if_match(request, org.pk, lambda: _quote(request, _get(_quotes(), org, quote_id)))
        quote_services.quote_send(quote=quote, by=_member_of(principal), to=payload.to)
    return with_etag(request, response, _quote(request, _get(_quotes(), org, quote_id)))


class IssueIn(In):
    issue_date: Day = Field(None, description="The invoice's date; today if not given.")
    zero_lines_confirmed: Annotated[list[Id], Field(max_length=200)] = Field(
        default_factory=list, description="Lines at 0.00 that are meant to be free: every one "
        "must be named, or the answer (422) names them.")


@api.post("/invoices/{int:invoice_id}/issue", response={200: InvoiceOut, **WRITE_ERRORS},
          url_name="invoice_issue", tags=["billing"],
          summary="Number and lock a draft invoice; its work order becomes invoiced")
@idempotent
def invoice_issue(request: HttpRequest, invoice_id: int, payload: IssueIn,
                  response: HttpResponse):
    return _invoice_act(request, response, invoice_id, lambda invoice, by: (
        invoice_services.invoice_issue(invoice=invoice, by=by, issue_date=payload.issue_date,
                                       zero_lines_confirmed=payload.zero_lines_confirmed)))


class VoidIn(In):
    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=FILLED)]


@api.post("/invoices/{int:invoice_id}/void", response={200: InvoiceOut, **WRITE_ERRORS},
          url_name="invoice_void", tags=["billing"],
          summary="Void a draft or issued invoice (its number stays used)")
@idempotent
def invoice_void(request: HttpRequest, invoice_id: int, payload: VoidIn,
                 response: HttpResponse):
    return _invoice_act(request, response, invoice_id, lambda invoice, by: (
        invoice_services.invoice_void(invoice=invoice, by=by, reason=payload.reason)))
