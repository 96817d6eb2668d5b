"""Background work for the portal: emailing a link, and answering a request for a new one."""

from __future__ import annotations

import logging
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from crewline.core.models import Member
from crewline.customers.models import Customer

logger = logging.getLogger(__name__)


def portal_link_message(customer: Customer, to: str, token: str, expires_at) -> EmailMessage:
    """The email carrying a portal link, in the customer's language, from the organization."""
    org = customer.organization
    link = settings.SITE_URL + reverse("portal_public:home", args=[token])
    with translation.override(customer.language_code):
        context = {"customer": customer, "organization": org, "link": link,
                   "expires": expires_at.astimezone(org.tzinfo),
                   "days": settings.PORTAL_LINK_DAYS}
        subject = _("Your page at %(org)s") % {"org": org.name}
        body = render_to_string("portal/email/link.txt", context)
    sender = formataddr((org.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
    return EmailMessage(subject=subject, body=body, from_email=sender, to=[to],
                        reply_to=[org.email] if org.email else None)


def _issue_and_send(customer: Customer, to: str, by: Member | None) -> None:
    from crewline.portal.services import portal_link_issue

    link, token = portal_link_issue(customer=customer, by=by, sent_to=to)
    portal_link_message(customer, to, token, link.expires_at).send()


@task()
def send_portal_link(customer_id: int, to: str, by_id: int | None = None) -> str:
    """Make a new portal link for the customer and email it to ``to``."""
    customer = (Customer.objects.select_related("organization")
                .filter(pk=customer_id, archived_at__isnull=True).first())
    if customer is None:
        return "gone"
    by = Member.objects.filter(pk=by_id, organization_id=customer.organization_id).first()
    _issue_and_send(customer, to, by)
    return "sent"


@task()
def answer_link_request(address: str) -> str:
    """Send a new link to every customer whose email or phone on file is ``address``, at the
    email address on file (never at the one typed, unless it is that)."""
    from crewline.portal.services import customers_for_address

    matches = customers_for_address(address)
    for customer, to in matches:
        _issue_and_send(Customer.objects.select_related("organization").get(pk=customer.pk),
                        to, None)
    return f"{len(matches)} sent"
