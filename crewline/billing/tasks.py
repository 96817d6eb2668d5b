"""Background work for billing: emailing quotes (with their public link) and invoices."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
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
    context = {"quote": quote, "organization": quote.organization, "link": link}
    subject = f"[{quote.organization.name}] {quote.reference} {quote.title}"
    message = EmailMultiAlternatives(
        subject, render_to_string("billing/email/quote.txt", context), None, [to],
        reply_to=[quote.organization.email] if quote.organization.email else None)
    message.attach(f"{quote.reference}.pdf", quote_pdf(quote), "application/pdf")
    message.send()
    return "sent"


@task()
def send_invoice_email(invoice_id: int, to: str) -> str:
    from django.utils import timezone

    from crewline.billing.pdf import invoice_pdf

    invoice = (Invoice.objects.select_related("organization", "customer", "work_order__site")
               .filter(pk=invoice_id).first())
    if invoice is None:
        return "gone"
    context = {"invoice": invoice, "organization": invoice.organization}
    subject = f"[{invoice.organization.name}] {invoice.reference}"
    message = EmailMultiAlternatives(
        subject, render_to_string("billing/email/invoice.txt", context), None, [to],
        reply_to=[invoice.organization.email] if invoice.organization.email else None)
    message.attach(f"{invoice.reference}.pdf", invoice_pdf(invoice), "application/pdf")
    message.send()
    Invoice.objects.filter(pk=invoice.pk).update(sent_at=timezone.now())
    return "sent"
