"""Billing pages: invoices, quotes, the price book, labor rates, settings and exports.

Office staff see everything; technicians see prices and invoices (read only) only where the
organization allows it (``prices_required``); another organization's object is a 404.

One module per concern (``invoices``, ``exports``, ``quotes``, ``price_book``,
``billing_settings``; ``common`` for what they share); ``billing/urls.py`` names the views
re-exported here.
"""

from crewline.billing.access import member_sees_prices
from crewline.billing.views.billing_settings import (
    billing_settings,
    default_labor_rate,
    member_rate,
    xero_tax_types,
)
from crewline.billing.views.exports import invoice_export
from crewline.billing.views.invoices import (
    invoice_detail,
    invoice_edit,
    invoice_from_work_order,
    invoice_issue,
    invoice_line_add,
    invoice_line_edit,
    invoice_line_remove,
    invoice_list,
    invoice_paid,
    invoice_pdf,
    invoice_send,
    invoice_void,
)
from crewline.billing.views.price_book import (
    price_book,
    price_book_confirm,
    price_book_export,
    price_book_import,
    price_book_preview,
    price_book_template,
    price_item_create,
    price_item_deactivate,
    price_item_edit,
)
from crewline.billing.views.quotes import (
    quote_convert,
    quote_create,
    quote_detail,
    quote_edit,
    quote_line_add,
    quote_line_remove,
    quote_list,
    quote_live_parts,
    quote_pdf,
    quote_send,
)

__all__ = [
    "billing_settings",
    "default_labor_rate",
    "invoice_detail",
    "invoice_edit",
    "invoice_export",
    "invoice_from_work_order",
    "invoice_issue",
    "invoice_line_add",
    "invoice_line_edit",
    "invoice_line_remove",
    "invoice_list",
    "invoice_paid",
    "invoice_pdf",
    "invoice_send",
    "invoice_void",
    "member_rate",
    "member_sees_prices",
    "price_book",
    "price_book_confirm",
    "price_book_export",
    "price_book_import",
    "price_book_preview",
    "price_book_template",
    "price_item_create",
    "price_item_deactivate",
    "price_item_edit",
    "quote_convert",
    "quote_create",
    "quote_detail",
    "quote_edit",
    "quote_line_add",
    "quote_line_remove",
    "quote_list",
    "quote_live_parts",
    "quote_pdf",
    "quote_send",
    "xero_tax_types",
]
