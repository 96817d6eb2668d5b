"""Background work for billing: emailing quotes (with their public link) and invoices."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from crewline.billing.models import Invoice, Quote


@task()
def send_quote_email(quote_id: int, to: str) -> str:
    """Email the quote's PDF and a new public link to ``to``; the old link stops working."""
    from crewline.billing.pdf import quote_pdf
    from crewline.billing.services import quote_link_token

    quote = (Quote.objects.select_related("organization", "customer", "site")
             .filter(pk=quote_id).first())
    if quote is None:
        return "gone"
    token = quote_link_token(quote=quote)
    link = settings.SITE_URL + reverse("billing_public:quote", args=[token])
    _send_with_pdf(quote, to, subject=f"{quote.reference} {quote.title}",
                   template="billing/email/quote.txt", pdf=quote_pdf(quote),
                   context={"quote": quote, "link": link})
    return "sent"


@task()
def send_invoice_email(invoice_id: int, to: str) -> str:
    from django.utils import timezone

    from crewline.billing.pdf import invoice_pdf

    invoice = (Invoice.objects.select_related("organization", "customer", "work_order__site")
               .filter(pk=invoice_id).first())
    if invoice is None:
        return "gone"
    _send_with_pdf(invoice, to, subject=invoice.reference,
                   template="billing/email/invoice.txt", pdf=invoice_pdf(invoice),
                   context={"invoice": invoice})
    Invoice.objects.filter(pk=invoice.pk).update(sent_at=timezone.now())
    return "sent"


def _send_with_pdf(document: Quote | Invoice, to: str, *, subject: str, template: str,
                   pdf: bytes, context: dict[str, Any]) -> None:
    """Email ``document`` as ``<reference>.pdf`` from its organization (replies go to the
    organization's address), in the customer's language (the PDF is too)."""
    organization = document.organization
    with translation.override(document.customer.language_code):
        body = render_to_string(template, {**context, "organization": organization})
    message = EmailMultiAlternatives(
        f"[{organization.name}] {subject}", body, None, [to],
        reply_to=[organization.email] if organization.email else None)
    message.attach(f"{document.reference}.pdf", pdf, "application/pdf")
    message.send()
