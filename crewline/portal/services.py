"""Writes for the customer's portal: issuing, emailing and revoking links, and a customer's
request for a new one.

A link's token is made where the email that carries it is written (the background task), and
only its hash is kept. Nothing here tells a caller whether an address is on file.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core.audit import audit_record
from crewline.core.models import Member
from crewline.customers.models import Contact, Customer
from crewline.portal.models import PortalLink

# Opening a page marks the link used at most this often, not on every page.
TOUCH_EVERY = dt.timedelta(minutes=5)
# A request by phone or email sends links for at most this many matching customers.
MAX_MATCHES = 5


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def portal_link_issue(*, customer: Customer, by: Member | None, sent_to: str) -> tuple[
        PortalLink, str]:
    """A new link to ``customer``'s portal, live for ``PORTAL_LINK_DAYS`` days; returns the row
    and the token, which is kept nowhere else than in what the caller sends."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        link = PortalLink.objects.create(
            organization_id=customer.organization_id, customer=customer,
            token_hash=PortalLink.hash_token(token), sent_to=sent_to[:254], created_by=by,
            created_at=now, expires_at=now + dt.timedelta(days=settings.PORTAL_LINK_DAYS))
        audit_record(organization=customer.organization, actor=by, action="portal_link.issue",
                     obj=link, changes={"customer": [None, customer.pk],
                                        "sent_to": [None, link.sent_to],
                                        "expires_at": [None, link.expires_at.isoformat()]})
    return link, token


def portal_link_send(*, customer: Customer, by: Member) -> str:
    """Email ``customer`` a new link to their portal, at the address on file; returns it.

    The link is made and mailed by a background task once this transaction commits.
    """
    from crewline.portal.tasks import send_portal_link

    if customer.is_archived:
        raise ValidationError(_("An archived customer cannot be sent a portal link."))
    to = customer.email or _contact_email(customer)
    if not to:
        raise ValidationError(_("Add an email address to the customer or a contact first."))
    with transaction.atomic():
        audit_record(organization=customer.organization, actor=by,
                     action="portal_link.send", obj=customer, changes={"to": [None, to]})
        customer_id, by_id = customer.pk, by.pk
        transaction.on_commit(lambda: send_portal_link.enqueue(customer_id, to, by_id))
    return to


def _contact_email(customer: Customer) -> str:
    contact = (Contact.objects.filter(organization_id=customer.organization_id,
                                      customer=customer, archived_at__isnull=True)
               .exclude(email="").order_by("-is_primary", "name", "id").first())
    return contact.email if contact else ""


def portal_links_revoke(*, customer: Customer, by: Member) -> int:
    """Every live link to ``customer``'s portal stops working at once; returns how many."""
    now = timezone.now()
    with transaction.atomic():
        live = list(PortalLink.objects.select_for_update()
                    .filter(organization_id=customer.organization_id, customer=customer,
                            revoked_at__isnull=True, expires_at__gt=now)
                    .values_list("pk", flat=True))
        if live:
            PortalLink.objects.filter(pk__in=live).update(revoked_at=now, revoked_by=by)
        audit_record(organization=customer.organization, actor=by, action="portal_link.revoke",
                     obj=customer, changes={"links": [live, []]})
    return len(live)


def portal_link_for_token(token: str) -> PortalLink | None:
    """The live link ``token`` opens, or None: unknown, tampered, expired, revoked, or the
    customer archived."""
    if not token or len(token) > 100:
        return None
    link = (PortalLink.objects.select_related("organization", "customer")
            .filter(token_hash=PortalLink.hash_token(token)).first())
    if link is None or not link.is_live or link.customer.is_archived:
        return None
    now = timezone.now()
    if link.last_used_at is None or now - link.last_used_at > TOUCH_EVERY:
        PortalLink.objects.filter(pk=link.pk).update(last_used_at=now)
        link.last_used_at = now
    return link


def portal_link_request(*, address: str) -> None:
    """A customer asks for a new link with the email address or phone number on file.

    The matching (and any email) happens in a background task, so the answer and its timing
    are the same whether the address is known or not.
    """
    from crewline.portal.tasks import answer_link_request

    address = (address or "").strip()[:254]
    if address:
        transaction.on_commit(lambda: answer_link_request.enqueue(address))


def customers_for_address(address: str) -> list[tuple[Customer, str]]:
    """The customers (of any organization) whose email or phone on file, or a current
    contact's, is ``address``; each with the email address to send their link to."""
    address = address.strip()
    found: dict[int, tuple[Customer, str]] = {}
    live = Q(archived_at__isnull=True)
    if "@" in address:
        for customer in Customer.objects.filter(live, email__iexact=address)[:MAX_MATCHES]:
            found[customer.pk] = (customer, customer.email)
        contacts = (Contact.objects.filter(live, email__iexact=address,
                                           customer__archived_at__isnull=True)
                    .select_related("customer")[:MAX_MATCHES])
        for contact in contacts:
            found.setdefault(contact.customer_id, (contact.customer, contact.email))
    else:
        digits = _digits(address)
        if len(digits) < 7:
            return []
        tail = digits[-4:]
        for customer in Customer.objects.filter(live, phone__contains=tail)[:200]:
            if _digits(customer.phone) == digits:
                to = customer.email or _contact_email(customer)
                if to:
                    found.setdefault(customer.pk, (customer, to))
        contacts = (Contact.objects.filter(live, phone__contains=tail,
                                           customer__archived_at__isnull=True)
                    .exclude(email="").select_related("customer")[:200])
        for contact in contacts:
            if _digits(contact.phone) == digits:
                found.setdefault(contact.customer_id, (contact.customer, contact.email))
    return list(found.values())[:MAX_MATCHES]
