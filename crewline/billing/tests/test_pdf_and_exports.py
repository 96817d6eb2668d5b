from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from crewline.billing import services
from crewline.billing.exports import PLAIN_COLUMNS, QUICKBOOKS_COLUMNS, XERO_COLUMNS
from crewline.billing.pdf import invoice_pdf, quote_pdf
from crewline.billing.tests.conftest import add_labor, add_part
from crewline.billing.tests.test_services import signature_png

# The column headers as QuickBooks Online's invoice import sample file and Xero's sales invoice
# import template name them, in their order.
QUICKBOOKS_DOCUMENTED = ["InvoiceNo", "Customer", "InvoiceDate", "DueDate", "Terms", "Location",
                         "Memo", "Item(Product/Service)", "ItemDescription", "ItemQuantity",
                         "ItemRate", "ItemAmount", "Taxable", "TaxRate"]
XERO_DOCUMENTED = ["*ContactName", "EmailAddress", "POAddressLine1", "POAddressLine2",
                   "POAddressLine3", "POAddressLine4", "POCity", "PORegion", "POPostalCode",
                   "POCountry", "*InvoiceNumber", "Reference", "*InvoiceDate", "*DueDate",
                   "Total", "InventoryItemCode", "*Description", "*Quantity", "*UnitAmount",
                   "Discount", "*AccountCode", "*TaxType", "TaxAmount", "TrackingName1",
                   "TrackingOption1", "TrackingName2", "TrackingOption2", "Currency",
                   "BrandingTheme"]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def issued(org, owner, technician, completed_wo, filter_item):
    services.member_rate_set(member=technician, hourly_rate=Decimal("80"), by=owner)
    add_labor(completed_wo, technician, 90, "Replaced pump")
    add_part(completed_wo, technician, price_book_item_id=filter_item.pk, quantity=2)
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    services.invoice_line_add(invoice=invoice, by=owner, description="Loyalty discount on call",
                              unit_price=Decimal("50"), discount=Decimal("10"))
    return services.invoice_issue(invoice=invoice, by=owner, issue_date=dt.date(2026, 3, 2))


def test_it_prints_the_invoice_with_its_lines_and_totals(issued):
    org = issued.organization
    org.address = "12 Main St\nSpringfield IL"
    org.save()
    text = pdf_text(invoice_pdf(issued))
    for expected in ("INV-1001", "Northside Heating", "Maple Dental", "Replaced pump",
                     "Filter", "120.00", "25.00", "40.00", "185.00", "2.06", "187.06",
                     "Springfield IL", "1.5 hours"):
        assert expected in text, expected
    # The internal rounding rule is the office's business, not printed for the customer.
    assert "rounded to the cent" not in text and "half up" not in text
    assert "1.5 hour " not in text.replace("\n", " ") + " "


def test_it_never_runs_user_text_as_typst(org, owner, site):
    quote = services.quote_create(organization=org, by=owner, customer=site.customer,
                                  title='#panic("x") ] [ $ * _ = // @',
                                  notes="#set page(width: 1cm)")
    services.quote_line_add(quote=quote, by=owner, description='#import "x.typ": *',
                            unit_price=Decimal(1))
    text = pdf_text(quote_pdf(quote))
    assert '#panic("x")' in text and "#set page(width: 1cm)" in text
    assert '#import "x.typ": *' in text


def test_it_prints_the_approval_and_signature_on_the_quote(org, owner, site, call_item,
                                                           django_capture_on_commit_callbacks):
    quote = services.quote_create(organization=org, by=owner, customer=site.customer,
                                  title="New boiler")
    services.quote_line_add(quote=quote, by=owner, item=call_item)
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=owner, to="x@example.com")
    quote.refresh_from_db()
    services.quote_approve(quote=quote, name="Rosa Diaz", signature_png=signature_png())
    quote.refresh_from_db()
    data = quote_pdf(quote)
    text = pdf_text(data)
    assert "Q-1001" in text and "Approved by" in text and "Rosa Diaz" in text
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert len(page.images) == 1


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_it_exports_issued_invoices_for_quickbooks(office_client, issued):
    assert list(QUICKBOOKS_COLUMNS) == QUICKBOOKS_DOCUMENTED
    rows = _csv(office_client.get(reverse("billing:invoice_export"), {"format": "quickbooks"}))
    assert rows[0] == QUICKBOOKS_DOCUMENTED
    assert len(rows) == 1 + 3
    by_column = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    # The number as the app, the PDF and Xero show it.
    assert {r["InvoiceNo"] for r in by_column} == {"INV-1001"}
    assert by_column[0]["InvoiceDate"] == "03/02/2026" and by_column[0]["Terms"] == "Net 30"
    filter_row = next(r for r in by_column if r["Item(Product/Service)"] == "Filter")
    assert (filter_row["ItemQuantity"], filter_row["ItemAmount"], filter_row["Taxable"],
            filter_row["TaxRate"]) == ("2", "25.00", "Y", "8.25%")
    discounted = next(r for r in by_column if r["ItemDescription"].startswith("Loyalty"))
    assert discounted["ItemAmount"] == "40.00"
    # A line typed by hand gets the product/service the company chose (default: Services).
    assert discounted["Item(Product/Service)"] == "Services"


def test_it_exports_free_text_lines_as_the_chosen_product(org, owner, office_client, issued):
    services.billing_settings_update(organization=org, by=owner,
                                     free_text_product="Misc. services")
    rows = _csv(office_client.get(reverse("billing:invoice_export"), {"format": "quickbooks"}))
    by_column = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    discounted = next(r for r in by_column if r["ItemDescription"].startswith("Loyalty"))
    assert discounted["Item(Product/Service)"] == "Misc. services"
    assert {r["Item(Product/Service)"] for r in by_column} == {
        "Labor", "Filter", "Misc. services"}


def test_it_exports_issued_invoices_for_xero(org, owner, office_client, issued):
    services.billing_settings_update(organization=org, by=owner, sales_account_code="4000",
                                     xero_tax_types={"8.25": "Sales Tax IL", "0": "Exempt"})
    assert list(XERO_COLUMNS) == XERO_DOCUMENTED
    rows = _csv(office_client.get(reverse("billing:invoice_export"), {"format": "xero"}))
    assert rows[0] == XERO_DOCUMENTED
    lines = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(lines) == 3
    assert {line["*InvoiceNumber"] for line in lines} == {"INV-1001"}
    assert {line["*AccountCode"] for line in lines} == {"4000"}
    assert {line["Total"] for line in lines} == {"187.06"}
    filter_line = next(line for line in lines if line["InventoryItemCode"] == "FLT-16")
    assert (filter_line["*Quantity"], filter_line["*UnitAmount"], filter_line["TaxAmount"],
            filter_line["Currency"]) == ("2", "12.5000", "2.06", "USD")
    discounted = next(line for line in lines if line["*Description"].startswith("Loyalty"))
    assert discounted["Discount"] == "20.00"  # percent, as Xero reads it
    # The tax type is the one set per rate in the billing settings, not made up from the rate.
    assert filter_line["*TaxType"] == "Sales Tax IL"
    assert discounted["*TaxType"] == "Exempt"


def test_it_asks_for_the_xero_tax_type_of_a_rate_before_exporting(org, owner, office_client,
                                                                 issued):
    services.billing_settings_update(organization=org, by=owner,
                                     xero_tax_types={"0": "Tax Exempt"})
    response = office_client.get(reverse("billing:invoice_export"), {"format": "xero"},
                                 follow=True)
    assert response.redirect_chain[-1][0].endswith(reverse("billing:settings")
                                                   + "#xero-tax-types")
    page = response.content.decode()
    assert "Set the Xero tax type of 8.25% in the billing settings" in page
    assert 'id="xero-tax-types"' in page


def _xero_address(office_client) -> dict[str, str]:
    rows = _csv(office_client.get(reverse("billing:invoice_export"), {"format": "xero"}))
    row = dict(zip(rows[0], rows[1], strict=True))
    return {k: row[k] for k in ("POAddressLine1", "POAddressLine2", "POAddressLine3",
                                "POAddressLine4", "POCity", "PORegion", "POPostalCode",
                                "POCountry")}


def test_it_fills_xeros_address_parts_from_the_sites_structured_address(
        org, owner, office_client, issued, site):
    services.billing_settings_update(organization=org, by=owner,
                                     xero_tax_types={"8.25": "Tax on Sales", "0": "Tax Exempt"})
    site.address_line1, site.address_line2 = "5324 W Higgins Ave", "Unit 2"
    site.city, site.region, site.postal_code, site.country = "Chicago", "IL", "60630", "US"
    site.save()
    customer = site.customer
    # The billing address is the site's, typed as text (as the demo and many imports have it).
    customer.billing_address = "5324 W Higgins Ave\nChicago, IL 60630"
    customer.save()
    assert _xero_address(office_client) == {
        "POAddressLine1": "5324 W Higgins Ave", "POAddressLine2": "Unit 2",
        "POAddressLine3": "", "POAddressLine4": "", "POCity": "Chicago", "PORegion": "IL",
        "POPostalCode": "60630", "POCountry": "US"}
    # No billing address: the site's address.
    customer.billing_address = ""
    customer.save()
    assert _xero_address(office_client)["POCity"] == "Chicago"
    # A billing address elsewhere: its last line is split where it plainly reads City, ST ZIP.
    customer.billing_address = "Accounts payable\nPO Box 77\nEvanston, IL 60201"
    customer.save()
    assert _xero_address(office_client) == {
        "POAddressLine1": "Accounts payable", "POAddressLine2": "PO Box 77",
        "POAddressLine3": "", "POAddressLine4": "", "POCity": "Evanston", "PORegion": "IL",
        "POPostalCode": "60201", "POCountry": "US"}
    # Anything else stays in the address lines, unguessed.
    customer.billing_address = "Rua Augusta 12\nLisboa"
    customer.save()
    assert _xero_address(office_client) == {
        "POAddressLine1": "Rua Augusta 12", "POAddressLine2": "Lisboa",
        "POAddressLine3": "", "POAddressLine4": "", "POCity": "", "PORegion": "",
        "POPostalCode": "", "POCountry": ""}


def test_it_exports_a_plain_csv_and_leaves_drafts_out(org, owner, office_client, issued, site):
    from crewline.billing.models import Invoice

    Invoice.objects.create(organization=org, customer=site.customer, currency="USD")
    rows = _csv(office_client.get(reverse("billing:invoice_export"), {"format": "plain"}))
    assert rows[0] == list(PLAIN_COLUMNS)
    assert {row[0] for row in rows[1:]} == {"INV-1001"}
    rows = _csv(office_client.get(reverse("billing:invoice_export"),
                                  {"format": "plain", "from": "2026-04-01"}))
    assert len(rows) == 1
    assert office_client.get(reverse("billing:invoice_export"),
                             {"format": "sage"}).status_code == 404


def test_it_refuses_exports_to_technicians_even_when_they_see_prices(org, owner, tech_client,
                                                                     issued):
    services.billing_settings_update(organization=org, by=owner, technicians_see_prices=True)
    assert tech_client.get(reverse("billing:invoice_export")).status_code == 403
