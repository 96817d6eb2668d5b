"""A customer's quotes, invoices, their emails and the quote's page are in the customer's
language, whoever sends them and whatever the browser asks for; amounts and dates are written
as that language writes them, in the organization's time zone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from crewline.billing import services
from crewline.billing.pdf import invoice_pdf, money, quote_pdf, rate
from crewline.billing.quantities import quantity_with_unit
from crewline.billing.tests.conftest import add_labor
from crewline.billing.tests.test_pdf_and_exports import pdf_text
from crewline.customers.services import customer_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def spanish(site, owner):
    return customer_update(customer=site.customer, by=owner, language="es")


@pytest.fixture
def quote(org, owner, site, call_item):
    quote = services.quote_create(organization=org, by=owner, customer=site.customer,
                                  site=site, title="Caldera nueva",
                                  valid_until=dt.date(2026, 12, 31))
    services.quote_line_add(quote=quote, by=owner, description="Caldera de condensación",
                            unit_price=Decimal("2345.5"), quantity=1)
    services.quote_line_add(quote=quote, by=owner, item=call_item, quantity=1)
    return quote


def test_numbers_follow_the_language():
    from django.utils import translation

    with translation.override("en"):
        assert (money(Decimal("12345.5")), rate(Decimal("21.00"))) == ("12,345.50", "21%")
        assert quantity_with_unit(Decimal("1.5"), "hour") == "1.5 hours"
    with translation.override("es"):
        assert (money(Decimal("12345.5")), rate(Decimal("21.00"))) == (
            "12\xa0345,50", "21\xa0%")
        assert quantity_with_unit(Decimal("1.5"), "hour") == "1,5 horas"


def test_the_quote_pdf_and_email_are_in_the_customers_language(
        owner, office, spanish, quote, django_capture_on_commit_callbacks):
    office.language = "en"
    office.save(update_fields=["language"])
    text = pdf_text(quote_pdf(quote)).replace("\xa0", " ")
    for expected in ("Presupuesto", "Válido hasta", "31 dic 2026", "Precio unitario",
                     "2 345,50", "Facturar a"):
        assert expected in text, expected
    assert "Valid until" not in text
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=office, to="rosa@maple.example")
    body = mail.outbox[-1].body
    assert "le ha enviado el presupuesto" in body and "válido hasta el 31 dic 2026" in body
    assert "has sent you" not in body
    _name, content, _type = mail.outbox[-1].attachments[0]
    assert "Presupuesto" in pdf_text(content)


def test_an_english_customer_gets_english_whatever_the_sender_speaks(
        owner, quote, django_capture_on_commit_callbacks):
    owner.language = "es"
    owner.save(update_fields=["language"])
    assert "Valid until" in pdf_text(quote_pdf(quote))
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    assert "has sent you quote" in mail.outbox[-1].body


def test_the_quote_page_speaks_the_customers_language(
        client, owner, spanish, quote, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    token = mail.outbox[-1].body.split("/q/")[1].split("/")[0]
    response = client.get(reverse("billing_public:quote", args=[token]),
                          HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert '<html lang="es">' in page and "Aprobar el presupuesto" in page
    assert "Approve quote" not in page
    pdf = client.get(reverse("billing_public:quote_pdf", args=[token]),
                     HTTP_ACCEPT_LANGUAGE="en")
    assert "Presupuesto" in pdf_text(pdf.content)


def test_the_invoice_pdf_and_email_are_in_the_customers_language(
        owner, technician, spanish, completed_wo, mailoutbox,
        django_capture_on_commit_callbacks):
    services.default_labor_rate_set(organization=completed_wo.organization,
                                    hourly_rate=Decimal("80"), by=owner)
    add_labor(completed_wo, technician, 90, "Cambio de bomba")
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    invoice = services.invoice_issue(invoice=invoice, by=owner, issue_date=dt.date(2026, 3, 2))
    text = pdf_text(invoice_pdf(invoice))
    for expected in ("Factura", "Fecha de emisión", "2 mar 2026", "1,5 horas", "120,00"):
        assert expected in text, expected
    with django_capture_on_commit_callbacks(execute=True):
        services.invoice_send(invoice=invoice, by=owner, to="ap@maple.example")
    body = mailoutbox[-1].body
    assert "Le adjuntamos la factura" in body and "Please find" not in body


def test_the_customer_form_offers_the_languages(office_client, site):
    response = office_client.get(reverse("customers:edit", args=[site.customer.pk]))
    choices = [code for code, _label in response.context["form"].fields["language"].choices]
    assert choices == ["", "en", "es"]
    office_client.post(reverse("customers:edit", args=[site.customer.pk]), {
        "name": site.customer.name, "kind": site.customer.kind, "language": "es"})
    site.customer.refresh_from_db()
    assert site.customer.language == "es" and site.customer.language_code == "es"
    response = office_client.post(reverse("customers:edit", args=[site.customer.pk]), {
        "name": site.customer.name, "kind": site.customer.kind, "language": "fr"})
    assert "language" in response.context["form"].errors
