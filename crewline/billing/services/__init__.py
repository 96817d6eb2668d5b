"""Writes to the price book, labor rates, quotes and invoices.

Every write records an audit entry in its own transaction. Money follows ``money.py``: each
line's net and tax are rounded when it is saved, and a document's totals are re-summed from its
lines (``lines._retotal``) in the same transaction as any change to them.

One module per concern: ``billing_settings`` (settings and numbers), ``price_book`` (items and
labor rates), ``lines`` (what quote and invoice lines share), ``quotes``, ``invoices``. Callers
use the names re-exported here (``services.quote_approve(...)``).
"""

from crewline.billing.services.billing_settings import (
    billing_settings_for,
    billing_settings_update,
)
from crewline.billing.services.invoices import (
    FOUR_PLACES,
    invoice_draft_from_work_order,
    invoice_issue,
    invoice_line_add,
    invoice_line_remove,
    invoice_line_update,
    invoice_mark_paid,
    invoice_send,
    invoice_update,
    invoice_void,
)
from crewline.billing.services.lines import LINE_FIELDS
from crewline.billing.services.price_book import (
    ITEM_FIELDS,
    LABOR_CODE,
    default_labor_rate_set,
    labor_item_for,
    labor_rate_is_set,
    member_rate_set,
    price_item_create,
    price_item_deactivate,
    price_item_update,
)
from crewline.billing.services.quotes import (
    QUOTE_FIELDS,
    quote_approve,
    quote_convert,
    quote_create,
    quote_decline,
    quote_expire,
    quote_for_token,
    quote_line_add,
    quote_line_remove,
    quote_line_update,
    quote_link_token,
    quote_send,
    quote_update,
)

__all__ = [
    "FOUR_PLACES",
    "ITEM_FIELDS",
    "LABOR_CODE",
    "LINE_FIELDS",
    "QUOTE_FIELDS",
    "billing_settings_for",
    "billing_settings_update",
    "default_labor_rate_set",
    "invoice_draft_from_work_order",
    "invoice_issue",
    "invoice_line_add",
    "invoice_line_remove",
    "invoice_line_update",
    "invoice_mark_paid",
    "invoice_send",
    "invoice_update",
    "invoice_void",
    "labor_item_for",
    "labor_rate_is_set",
    "member_rate_set",
    "price_item_create",
    "price_item_deactivate",
    "price_item_update",
    "quote_approve",
    "quote_convert",
    "quote_create",
    "quote_decline",
    "quote_expire",
    "quote_for_token",
    "quote_line_add",
    "quote_line_remove",
    "quote_line_update",
    "quote_link_token",
    "quote_send",
    "quote_update",
]
