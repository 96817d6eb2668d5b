from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crewline.billing import services
from crewline.billing.models import Invoice, PriceBookItem, Quote, QuoteStatus
from crewline.billing.tests.conftest import add_labor, add_part
from crewline.billing.tests.test_services import signature_png
from crewline.core.models import AuditLog
from crewline.factories import SiteFactory, WorkOrderFactory
from crewline.workorders.models import Status


@pytest.fixture
def invoice(owner, completed_wo, filter_item, technician):
    add_part(completed_wo, technician, price_book_item_id=filter_item.pk, quantity=2)
    add_labor(completed_wo, technician, 60)
    services.default_labor_rate_set(organization=completed_wo.organization,
                                    hourly_rate=Decimal("75"), by=owner)
    return services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)


@pytest.fixture
def quote(org, owner, site, call_item):
    quote = services.quote_create(organization=org, by=owner, customer=site.customer,
                                  site=site, title="New boiler")
    services.quote_line_add(quote=quote, by=owner, item=call_item, quantity=1)
    return quote


# Permissions ---------------------------------------------------------------------------------

def test_it_hides_prices_and_invoices_from_technicians_unless_allowed(
        org, owner, tech_client, invoice, filter_item):
    urls = [reverse("billing:invoices"), reverse("billing:invoice", args=[invoice.pk]),
            reverse("billing:invoice_pdf", args=[invoice.pk]), reverse("billing:price_book")]
    for url in urls:
        assert tech_client.get(url).status_code == 403, url
    services.billing_settings_update(organization=org, by=owner, technicians_see_prices=True)
    for url in urls:
        assert tech_client.get(url).status_code == 200, url
    page = tech_client.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    assert "Issue invoice" not in page and "Add line" not in page
    # Seeing is not editing.
    assert tech_client.post(reverse("billing:invoice_issue", args=[invoice.pk])).status_code \
        == 403
    assert tech_client.get(reverse("billing:quotes")).status_code == 403


def test_it_hides_another_organizations_billing(outsider_client, invoice, filter_item):
    quote = services.quote_create(organization=invoice.organization, by=None,
                                  customer=invoice.customer, title="x")
    line = invoice.lines.first()
    for url in (reverse("billing:invoice", args=[invoice.pk]),
                reverse("billing:invoice_pdf", args=[invoice.pk]),
                reverse("billing:quote", args=[quote.pk]),
                reverse("billing:price_item_edit", args=[filter_item.pk])):
        assert outsider_client.get(url).status_code == 404, url
    assert outsider_client.post(reverse("billing:invoice_line_remove", args=[line.pk])
                                ).status_code == 404
    assert outsider_client.post(reverse("billing:invoice_from_work_order",
                                        args=[invoice.work_order_id])).status_code == 404
    content = outsider_client.get(reverse("billing:invoices")).content.decode()
    assert invoice.customer.name not in content


def test_it_lets_only_the_owner_change_billing_settings(org, office_client, owner_client):
    office_client.post(reverse("billing:settings"), {"technicians_see_prices": "on",
                                                     "payment_terms_days": 10,
                                                     "quote_valid_days": 30,
                                                     "sales_account_code": "200"})
    assert not services.billing_settings_for(org).technicians_see_prices
    owner_client.post(reverse("billing:settings"), {"technicians_see_prices": "on",
                                                    "payment_terms_days": 10,
                                                    "quote_valid_days": 30,
                                                    "sales_account_code": "4000"})
    settings = services.billing_settings_for(org)
    assert settings.technicians_see_prices and settings.sales_account_code == "4000"


# Lists and query counts ----------------------------------------------------------------------

def test_it_lists_invoices_quotes_and_items_in_a_fixed_number_of_queries(
        org, owner, office_client, site, django_assert_max_num_queries):
    for n in range(3):
        services.price_item_create(organization=org, by=owner, code=f"P{n}", name=f"Part {n}",
                                   unit_price=Decimal(n))
        services.quote_create(organization=org, by=owner, customer=site.customer,
                              title=f"Quote {n}")
        Invoice.objects.create(organization=org, customer=site.customer, currency="USD")
    counts = {}
    for name in ("billing:invoices", "billing:quotes", "billing:price_book"):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert office_client.get(reverse(name)).status_code == 200
        counts[name] = len(ctx.captured_queries)
    for n in range(3, 12):
        services.price_item_create(organization=org, by=owner, code=f"P{n}", name=f"Part {n}",
                                   unit_price=Decimal(n))
        services.quote_create(organization=org, by=owner, customer=SiteFactory(
            customer__organization=org).customer, title=f"Quote {n}")
        Invoice.objects.create(organization=org, customer=SiteFactory(
            customer__organization=org).customer, currency="USD")
        WorkOrderFactory(organization=org, customer=site.customer, site=site,
                         status=Status.COMPLETED)
    for name, count in counts.items():
        with django_assert_max_num_queries(count + 1):
            assert office_client.get(reverse(name)).status_code == 200


def test_it_searches_the_price_book_with_htmx(org, owner, office_client, filter_item,
                                              call_item):
    response = office_client.get(reverse("billing:price_book"), {"q": "filt"},
                                 HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert "FLT-16" in content and "CALL" not in content and "<html" not in content


# Invoices ------------------------------------------------------------------------------------

def test_it_drafts_issues_and_pays_an_invoice_from_the_pages(office_client, completed_wo,
                                                             filter_item, technician):
    add_part(completed_wo, technician, price_book_item_id=filter_item.pk, quantity=1)
    listing = office_client.get(reverse("billing:invoices")).content.decode()
    assert completed_wo.reference in listing
    response = office_client.post(reverse("billing:invoice_from_work_order",
                                          args=[completed_wo.pk]))
    invoice = Invoice.objects.get(work_order=completed_wo)
    assert response["Location"] == reverse("billing:invoice", args=[invoice.pk])
    office_client.post(reverse("billing:invoice_issue", args=[invoice.pk]))
    invoice.refresh_from_db()
    assert invoice.reference == "INV-1001"
    completed_wo.refresh_from_db()
    assert completed_wo.status == Status.INVOICED
    response = office_client.post(reverse("billing:invoice_paid", args=[invoice.pk]),
                                  {"paid_on": "", "method": "card"})
    assert response.status_code == 400
    office_client.post(reverse("billing:invoice_paid", args=[invoice.pk]),
                       {"paid_on": invoice.issue_date.isoformat(), "method": "card"})
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_it_adds_and_removes_invoice_lines_with_htmx(office_client, invoice, filter_item):
    url = reverse("billing:invoice_line_add", args=[invoice.pk])
    response = office_client.post(url, {"line-item": filter_item.pk, "line-quantity": "2",
                                        "line-discount": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="lines"' in content and "<html" not in content
    invoice.refresh_from_db()
    assert invoice.lines.count() == 3
    bad = office_client.post(url, {"line-quantity": "1", "line-description": ""},
                             HTTP_HX_REQUEST="true")
    assert bad.status_code == 422
    assert "Describe the line or choose an item." in bad.content.decode()
    too_much = office_client.post(url, {"line-description": "x", "line-quantity": "1",
                                        "line-unit_price": "5", "line-discount": "9"},
                                  HTTP_HX_REQUEST="true")
    assert too_much.status_code == 422 and "discount cannot be more" in \
        too_much.content.decode()
    line = invoice.lines.order_by("-position").first()
    office_client.post(reverse("billing:invoice_line_remove", args=[line.pk]),
                       HTTP_HX_REQUEST="true")
    assert invoice.lines.count() == 2


def test_it_emails_an_issued_invoice_with_its_pdf(office_client, invoice, mailoutbox,
                                                  django_capture_on_commit_callbacks):
    office_client.post(reverse("billing:invoice_issue", args=[invoice.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        office_client.post(reverse("billing:invoice_send", args=[invoice.pk]),
                           {"to": "ap@maple.example"})
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ap@maple.example"] and "INV-1001" in message.subject
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == ("INV-1001.pdf", "application/pdf")
    assert content.startswith(b"%PDF")


# Quotes --------------------------------------------------------------------------------------

def test_it_creates_a_quote_with_form_errors_next_to_fields(org, office_client, site):
    response = office_client.post(reverse("billing:quote_create"), {"title": ""})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    response = office_client.post(reverse("billing:quote_create"), {
        "customer": site.customer.pk, "site": site.pk, "title": "Roof unit"})
    quote = Quote.objects.get(organization=org)
    assert response["Location"] == reverse("billing:quote", args=[quote.pk])
    assert quote.valid_until == timezone.localdate(timezone=org.tzinfo) + dt.timedelta(days=30)


def test_it_adds_quote_lines_and_sends_the_quote(office_client, quote, filter_item, mailoutbox,
                                                 django_capture_on_commit_callbacks):
    office_client.post(reverse("billing:quote_line_add", args=[quote.pk]), {
        "line-item": filter_item.pk, "line-quantity": "1", "line-is_optional": "on"},
        HTTP_HX_REQUEST="true")
    assert quote.lines.filter(is_optional=True).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        office_client.post(reverse("billing:quote_send", args=[quote.pk]),
                           {"to": "rosa@maple.example"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert "/q/" in mailoutbox[0].body


def _send(quote, owner, capture):
    with capture(execute=True):
        services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    from django.core import mail

    return mail.outbox[-1].body.split("/q/")[1].split("/")[0]


def test_it_lets_the_customer_approve_without_an_account(client, owner, quote, filter_item,
                                                         django_capture_on_commit_callbacks):
    optional = services.quote_line_add(quote=quote, by=owner, item=filter_item,
                                       is_optional=True)
    token = _send(quote, owner, django_capture_on_commit_callbacks)
    url = reverse("billing_public:quote", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    assert "Service call" in page.content.decode() and 'id="signature-pad"' in \
        page.content.decode()
    missing = client.post(url, {"action": "approve", "approve-name": "Rosa Diaz",
                                "approve-signature": ""})
    assert missing.status_code == 400 and "Sign in the box" in missing.content.decode()
    data_url = "data:image/png;base64," + base64.b64encode(signature_png()).decode()
    response = client.post(url, {"action": "approve", "approve-name": "Rosa Diaz",
                                 "approve-signature": data_url, "optional": [optional.pk]})
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED and quote.approved_by_name == "Rosa Diaz"
    assert quote.lines.get(pk=optional.pk).is_selected
    done = client.get(url).content.decode()
    assert "Approved by Rosa Diaz" in done and 'id="signature-pad"' not in done
    pdf = client.get(reverse("billing_public:quote_pdf", args=[token]))
    assert pdf["Content-Type"] == "application/pdf"


def test_it_shows_the_approval_time_in_the_organization_time_zone(
        client, org, owner, quote, django_capture_on_commit_callbacks):
    org.time_zone = "America/Chicago"
    org.save(update_fields=["time_zone"])
    token = _send(quote, owner, django_capture_on_commit_callbacks)
    services.quote_approve(quote=quote, name="Rosa Diaz", signature_png=signature_png())
    # 02:30 UTC on 4 December is 20:30 the evening before in Chicago.
    Quote.objects.filter(pk=quote.pk).update(
        approved_at=dt.datetime(2026, 12, 4, 2, 30, tzinfo=dt.UTC))
    html = client.get(reverse("billing_public:quote", args=[token])).content.decode()
    assert "Approved by Rosa Diaz on 3 Dec 2026, 20:30." in html
    assert "02:30" not in html


def test_it_totals_the_optional_lines_the_customer_ticked_when_the_form_comes_back(
        client, owner, quote, filter_item, django_capture_on_commit_callbacks):
    optional = services.quote_line_add(quote=quote, by=owner, item=filter_item,
                                       is_optional=True)
    token = _send(quote, owner, django_capture_on_commit_callbacks)
    url = reverse("billing_public:quote", args=[token])
    response = client.post(url, {"action": "approve", "approve-name": "Rosa Diaz",
                                 "approve-signature": "", "optional": [optional.pk]})
    assert response.status_code == 400
    html = response.content.decode()
    # 95.00 + 12.50 (tax 8.25 % of 12.50 = 1.03): the page still shows the ticked line's total.
    assert 'id="quote-total">108.53<' in html
    assert 'data-net="12.50" data-tax="1.03"' in html


def test_it_lets_the_customer_decline_with_a_reason(client, owner, quote,
                                                    django_capture_on_commit_callbacks):
    token = _send(quote, owner, django_capture_on_commit_callbacks)
    url = reverse("billing_public:quote", args=[token])
    assert client.post(url, {"action": "decline", "decline-reason": ""}).status_code == 400
    client.post(url, {"action": "decline", "decline-reason": "Too dear"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED and quote.declined_reason == "Too dear"
    assert "You declined this quote" in client.get(url).content.decode()


def test_it_says_plainly_when_a_link_is_unknown_or_expired(client, owner, quote,
                                                           django_capture_on_commit_callbacks):
    response = client.get(reverse("billing_public:quote", args=["nonsense"]))
    assert response.status_code == 404 and "This link does not work" in \
        response.content.decode()
    token = _send(quote, owner, django_capture_on_commit_callbacks)
    # The day before the company's today (which is not the server's in its evening).
    today = timezone.localdate(timezone=quote.organization.tzinfo)
    Quote.objects.filter(pk=quote.pk).update(valid_until=today - dt.timedelta(days=1))
    page = client.get(reverse("billing_public:quote", args=[token])).content.decode()
    assert "expired" in page and 'id="signature-pad"' not in page
    data_url = "data:image/png;base64," + base64.b64encode(signature_png()).decode()
    client.post(reverse("billing_public:quote", args=[token]), {
        "action": "approve", "approve-name": "Rosa", "approve-signature": data_url})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED


def test_it_converts_an_approved_quote_from_its_page(office_client, owner, quote,
                                                     django_capture_on_commit_callbacks):
    _send(quote, owner, django_capture_on_commit_callbacks)
    quote.refresh_from_db()
    services.quote_approve(quote=quote, name="Rosa", signature_png=signature_png())
    response = office_client.post(reverse("billing:quote_convert", args=[quote.pk]))
    quote.refresh_from_db()
    assert quote.work_order is not None
    assert response["Location"] == reverse("workorders:detail", args=[quote.work_order.number])


def test_it_shows_a_quote_pdf_to_the_office(office_client, quote):
    response = office_client.get(reverse("billing:quote_pdf", args=[quote.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


# Price book pages and CSV --------------------------------------------------------------------

def test_it_creates_and_edits_items_with_clear_errors(org, office_client, filter_item):
    response = office_client.post(reverse("billing:price_item_create"), {
        "code": "flt-16", "name": "Dup", "kind": "material", "unit": "each",
        "unit_price": "1", "unit_cost": "0", "tax_rate": "0"})
    assert "Another item already has the code" in response.content.decode()
    response = office_client.post(reverse("billing:price_item_create"), {
        "code": "NEW", "name": "New", "kind": "service", "unit": "hour",
        "unit_price": "-1", "unit_cost": "0", "tax_rate": "0"})
    assert "is-invalid" in response.content.decode()
    office_client.post(reverse("billing:price_item_edit", args=[filter_item.pk]), {
        "code": "FLT-16", "name": "Filter 16x25", "kind": "material", "unit": "each",
        "unit_price": "14", "unit_cost": "4", "tax_rate": "8.25"})
    filter_item.refresh_from_db()
    assert filter_item.unit_price == Decimal("14")
    office_client.post(reverse("billing:price_item_active", args=[filter_item.pk]),
                       {"active": "0"})
    filter_item.refresh_from_db()
    assert not filter_item.is_active


def test_it_imports_a_price_list_with_a_preview_and_row_errors(org, office_client,
                                                               filter_item):
    csv_text = ("code;name;kind;unit;unit_price;tax_rate;active\n"
                "FLT-16;Filter;material;each;13,75;8.25;yes\n"
                "NEW-1;New part;material;each;5;0;yes\n"
                ";No code;service;each;5;0;yes\n"
                "BAD;Bad price;service;each;abc;0;yes\n"
                "TAX;Tax;gadget;each;1;150;maybe\n"
                "new-1;Duplicate;material;each;1;0;yes\n")
    upload = SimpleUploadedFile("prices.csv", csv_text.encode(), "text/csv")
    response = office_client.post(reverse("billing:price_book_import"), {"file": upload})
    assert response["Location"] == reverse("billing:price_book_preview")
    preview = office_client.get(reverse("billing:price_book_preview")).content.decode()
    assert 'id="stat-new">1<' in preview and 'id="stat-updated">1<' in preview
    assert 'id="stat-errors">4<' in preview
    for message in ("Missing code.", "“abc” is not a number.", "Unknown kind “gadget”",
                    "tax_rate must be at most 100", "Write yes or no.",
                    "is also on row 3"):
        assert message in preview, message
    assert PriceBookItem.objects.filter(organization=org).count() == 1
    office_client.post(reverse("billing:price_book_confirm"), {"action": "import"})
    filter_item.refresh_from_db()
    assert filter_item.unit_price == Decimal("13.75")
    assert PriceBookItem.objects.get(organization=org, code="NEW-1").name == "New part"


def test_it_rejects_unreadable_price_files(office_client):
    for content, message in ((b"", "empty"), (b"name,price\nA,1\n", "missing: code"),
                             (b"\xff\xfe\x00bad", "CSV")):
        upload = SimpleUploadedFile("p.csv", content, "text/csv")
        response = office_client.post(reverse("billing:price_book_import"), {"file": upload})
        assert response.status_code == 200
        assert message in response.content.decode(), message


def test_it_exports_the_price_book_so_that_it_imports_back_unchanged(org, office_client,
                                                                     filter_item, call_item):
    exported = b"".join(office_client.get(reverse("billing:price_book_export"))
                        .streaming_content)
    upload = SimpleUploadedFile("p.csv", exported, "text/csv")
    office_client.post(reverse("billing:price_book_import"), {"file": upload})
    preview = office_client.get(reverse("billing:price_book_preview")).content.decode()
    assert 'id="stat-errors">0<' in preview and 'id="stat-new">0<' in preview
    response = office_client.post(reverse("billing:price_book_confirm"), {"action": "import"})
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "Imported 0 new items and updated 0." in messages


def test_it_sets_member_rates(office_client, technician):
    office_client.post(reverse("billing:member_rate", args=[technician.pk]),
                       {"hourly_rate": "72.50"})
    assert technician.billing_rate.hourly_rate == Decimal("72.50")
    office_client.post(reverse("billing:member_rate", args=[technician.pk]),
                       {"hourly_rate": ""})
    technician.refresh_from_db()
    from crewline.billing.models import MemberRate

    assert not MemberRate.objects.filter(member=technician).exists()


# Labor rate and export settings --------------------------------------------------------------

def test_the_first_invoice_draft_stops_with_a_link_to_set_the_labor_rate(
        owner_client, completed_wo, technician):
    add_labor(completed_wo, technician, 45)
    response = owner_client.post(reverse("billing:invoice_from_work_order",
                                         args=[completed_wo.pk]), follow=True)
    page = response.content.decode()
    assert "Labor would be billed at 0.00" in page
    assert f'href="{reverse("billing:settings")}#labor-rates"' in page
    assert not completed_wo.invoices.exists()
    settings_page = owner_client.get(reverse("billing:settings")).content.decode()
    assert "No labor rate is set yet" in settings_page


def test_the_office_sets_the_default_labor_rate_with_errors_next_to_the_field(
        org, office_client):
    response = office_client.post(reverse("billing:labor_rate"), {"hourly_rate": "abc"})
    assert response.status_code == 400
    assert "Enter a number." in response.content.decode()
    response = office_client.post(reverse("billing:labor_rate"), {"hourly_rate": "0"})
    assert response.status_code == 400
    assert "would bill labor at nothing" in response.content.decode()
    response = office_client.post(reverse("billing:labor_rate"), {"hourly_rate": "92.50"})
    assert response.status_code == 302
    assert services.labor_item_for(org).unit_price == Decimal("92.50")
    assert "No labor rate is set yet" not in office_client.get(
        reverse("billing:settings")).content.decode()


def test_the_office_sets_the_xero_tax_types(org, owner_client, office_client, tech_client,
                                            office, filter_item):
    url = reverse("billing:xero_tax_types")
    page = owner_client.get(reverse("billing:settings")).content.decode()
    assert "Tax 8.25%" in page and "Tax 0%" in page
    assert tech_client.post(url, {"rate_0": "x"}).status_code == 403
    # The office member who exports for Xero can name the rates (the rest of the billing
    # settings stay the owner's).
    page = office_client.get(reverse("billing:settings")).content.decode()
    assert "Save tax types" in page
    assert office_client.post(url, {"rate_0": "Exempt", "rate_1": "Sales"}).status_code == 302
    assert services.billing_settings_for(org).xero_tax_types == {"0": "Exempt", "8.25": "Sales"}
    entry = AuditLog.objects.filter(action="billing.settings").latest("id")
    assert entry.actor_id == office.pk
    response = owner_client.post(url, {"rate_0": "Tax Exempt", "rate_1": "x" * 51})
    assert response.status_code == 400
    assert 'value="Tax Exempt"' in response.content.decode()  # nothing typed is lost
    assert owner_client.post(url, {"rate_0": "Tax Exempt", "rate_1": "Tax on Sales"}
                             ).status_code == 302
    assert services.billing_settings_for(org).xero_tax_types == {
        "0": "Tax Exempt", "8.25": "Tax on Sales"}


def test_the_new_quotes_site_list_holds_only_the_chosen_customers_sites(org, office_client,
                                                                         site):
    other = SiteFactory(customer__organization=org, address_line1="99 Elsewhere Rd")
    mine = SiteFactory(customer=site.customer, address_line1="7 Second St")
    page = office_client.get(reverse("billing:quote_create"),
                             {"customer": site.customer.pk}).content.decode()
    assert site.address_line1 in page and "7 Second St" in page
    assert "99 Elsewhere Rd" not in page
    assert f'hx-get="{reverse("workorders:site_options")}"' in page
    # Before a customer is chosen, no sites at all.
    blank = office_client.get(reverse("billing:quote_create")).content.decode()
    assert site.address_line1 not in blank and "No sites: choose a customer first" in blank
    # Another customer's site is refused next to the field, the rest kept.
    response = office_client.post(reverse("billing:quote_create"), {
        "customer": site.customer.pk, "site": other.pk, "title": "Roof unit"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Select a valid choice" in html and 'value="Roof unit"' in html
    response = office_client.post(reverse("billing:quote_create"), {
        "customer": site.customer.pk, "site": mine.pk, "title": "Roof unit"})
    assert response.status_code == 302


def test_the_customers_answer_is_a_live_event_for_the_open_quote_page(
        org, office_client, tech_client, quote, django_capture_on_commit_callbacks):
    from crewline.live.models import Change

    page = office_client.get(reverse("billing:quote", args=[quote.pk])).content.decode()
    assert f'data-live-topics="quote:{quote.pk}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=None, to="rosa@maple.example")
    quote.refresh_from_db()
    services.quote_approve(quote=quote, name="Rosa Diaz", signature_png=signature_png())
    statuses = list(Change.objects.filter(organization=org, topics=[f"quote:{quote.pk}"])
                    .order_by("id").values_list("payload__status", flat=True))
    assert statuses == ["sent", "approved"]
    stream = reverse("live:stream")
    assert office_client.get(stream, {"topics": f"quote:{quote.pk}"}).status_code == 200
    assert tech_client.get(stream, {"topics": f"quote:{quote.pk}"}).status_code == 403


def test_the_quote_pages_live_parts_are_its_own_partials(org, office_client, tech_client,
                                                          outsider_client, quote):
    parts = reverse("billing:quote_live_parts", args=[quote.pk])
    services.quote_send(quote=quote, by=None, to="rosa@maple.example")
    quote.refresh_from_db()
    services.quote_approve(quote=quote, name="Rosa Diaz", signature_png=signature_png())
    html = office_client.get(parts, {"what": "quote"}).content.decode()
    # Head, lines and side, each by the id the page swaps, and nothing of the page around them.
    assert [html.index(f'id="{part}"') for part in ("quote-head", "lines", "quote-side")] == \
        sorted(html.index(f'id="{part}"') for part in ("quote-head", "lines", "quote-side"))
    assert "Rosa Diaz" in html and "<nav" not in html and "<html" not in html
    page = office_client.get(reverse("billing:quote", args=[quote.pk])).content.decode()
    assert 'data-live-parts="' + parts + '"' in page
    assert office_client.get(parts, {"what": "other"}).status_code == 404
    assert outsider_client.get(parts, {"what": "quote"}).status_code == 404
    assert tech_client.get(parts, {"what": "quote"}).status_code == 403


def test_emails_to_customers_carry_the_companys_reply_to_address(
        org, owner, quote, mailoutbox, django_capture_on_commit_callbacks):
    from crewline.core.services import organization_update

    organization_update(organization=org, by=owner, email="office@northside.example")
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    [message] = mailoutbox
    assert message.to == ["rosa@maple.example"]
    assert message.reply_to == ["office@northside.example"]


# A part typed on the phone comes in at 0.00 ---------------------------------------------------

@pytest.fixture
def pipe_invoice(owner, technician, completed_wo, filter_item):
    add_part(completed_wo, technician, price_book_item_id=filter_item.pk, quantity=1)
    add_part(completed_wo, technician, name="Copper pipe 15mm", unit="m", quantity=2)
    return services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)


def test_the_office_prices_a_zero_line_on_the_draft(office_client, pipe_invoice):
    pipe = pipe_invoice.lines.get(description="Copper pipe 15mm")
    page = office_client.get(reverse("billing:invoice", args=[pipe_invoice.pk])).content.decode()
    assert 'data-testid="zero-lines"' in page and "“Copper pipe 15mm” is at 0.00" in page
    assert reverse("billing:invoice_line_edit", args=[pipe.pk]) in page
    assert f'value="{pipe.pk}"' in page and 'name="zero_lines_confirmed"' in page

    url = reverse("billing:invoice_line_edit", args=[pipe.pk])
    bad = office_client.post(url, {f"edit-{pipe.pk}-description": "Copper pipe 15mm",
                                   f"edit-{pipe.pk}-quantity": "2",
                                   f"edit-{pipe.pk}-unit_price": "-1",
                                   f"edit-{pipe.pk}-tax_rate": "0"})
    assert bad.status_code == 400
    assert bad.context["lines"][1].edit_form.errors.keys() == {"unit_price"}
    response = office_client.post(url, {f"edit-{pipe.pk}-description": "Copper pipe 15mm",
                                        f"edit-{pipe.pk}-quantity": "2",
                                        f"edit-{pipe.pk}-unit_price": "6.40",
                                        f"edit-{pipe.pk}-tax_rate": "0"})
    assert response.status_code == 302
    pipe.refresh_from_db()
    assert (pipe.unit_price, pipe.net_amount) == (Decimal("6.4000"), Decimal("12.80"))
    page = office_client.get(reverse("billing:invoice", args=[pipe_invoice.pk])).content.decode()
    assert 'data-testid="zero-lines"' not in page and "zero_lines_confirmed" not in page


def test_the_htmx_edit_answers_the_lines_and_the_issue_button(office_client, pipe_invoice):
    pipe = pipe_invoice.lines.get(description="Copper pipe 15mm")
    response = office_client.post(
        reverse("billing:invoice_line_edit", args=[pipe.pk]),
        {f"edit-{pipe.pk}-description": "Copper pipe", f"edit-{pipe.pk}-quantity": "2",
         f"edit-{pipe.pk}-unit_price": "5", f"edit-{pipe.pk}-tax_rate": "0"},
        HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith('<div class="card mb-3" id="lines">')
    assert 'id="invoice-issue" hx-swap-oob="true"' in html and "zero_lines_confirmed" not in html


def test_issuing_with_a_zero_line_asks_first(office_client, pipe_invoice):
    pipe = pipe_invoice.lines.get(description="Copper pipe 15mm")
    url = reverse("billing:invoice_issue", args=[pipe_invoice.pk])
    page = office_client.post(url, follow=True).content.decode()
    assert "“Copper pipe 15mm” is at 0.00. Set its price, or confirm" in page
    pipe_invoice.refresh_from_db()
    assert pipe_invoice.status == "draft"
    office_client.post(url, {"zero_lines_confirmed": str(pipe.pk)})
    pipe_invoice.refresh_from_db()
    assert pipe_invoice.status == "issued" and pipe_invoice.number


def test_only_the_office_edits_a_draft_line_and_never_an_issued_one(
        tech_client, outsider_client, office_client, org, owner, pipe_invoice):
    pipe = pipe_invoice.lines.get(description="Copper pipe 15mm")
    url = reverse("billing:invoice_line_edit", args=[pipe.pk])
    data = {f"edit-{pipe.pk}-description": "Gold pipe", f"edit-{pipe.pk}-quantity": "1",
            f"edit-{pipe.pk}-unit_price": "1", f"edit-{pipe.pk}-tax_rate": "0"}
    services.billing_settings_update(organization=org, by=owner, technicians_see_prices=True)
    assert tech_client.post(url, data).status_code == 403
    assert outsider_client.post(url, data).status_code == 404
    services.invoice_issue(invoice=pipe_invoice, by=owner, zero_lines_confirmed=[pipe.pk])
    response = office_client.post(url, data)
    assert response.status_code == 400 and "invoice is locked" in response.content.decode()
    pipe.refresh_from_db()
    assert pipe.description == "Copper pipe 15mm"
    page = office_client.get(reverse("billing:invoice", args=[pipe_invoice.pk])).content.decode()
    assert reverse("billing:invoice_line_edit", args=[pipe.pk]) not in page
