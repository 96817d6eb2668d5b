"""Writes for the customer's portal: issuing, emailing and revoking links, and a customer's
request for a new one.

A link's token is made where the email that carries it is written (the background task), and
only its hash is kept. Nothing here tells a caller whether an address is on file.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crewline.core.audit import audit_record
from crewline.core.models import Member, Organization
from crewline.customers.models import Contact, Customer, Site
from crewline.portal.models import MatchedBy, PortalLink, WorkRequest
from crewline.portal.signals import work_requested

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
    """Every live link to ``customer``'s portal, and to their visits' tracking pages, stops
    working at once; returns how many portal links."""
    now = timezone.now()
    with transaction.atomic():
        live = list(PortalLink.objects.select_for_update()
                    .filter(organization_id=customer.organization_id, customer=customer,
                            revoked_at__isnull=True, expires_at__gt=now)
                    .values_list("pk", flat=True))
        if live:
            PortalLink.objects.filter(pk__in=live).update(revoked_at=now, revoked_by=by)
        # The links to the customer's visits' tracking pages stop working too.
        from crewline.portal.models import TrackingLink

        TrackingLink.objects.filter(organization_id=customer.organization_id,
                                    visit__work_order__customer_id=customer.pk,
                                    expires_at__gt=now).update(expires_at=now)
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


# Requests for work from the public form --------------------------------------------------

def _match_customer(organization_id: int, *, email: str, phone: str) -> tuple[
        Customer | None, str]:
    """The organization's current customer with this email (theirs or a contact's) or, failing
    that, this phone number; and which one matched."""
    live = Q(organization_id=organization_id, archived_at__isnull=True)
    if email:
        customer = (Customer.objects.filter(live, email__iexact=email).order_by("id").first()
                    or Customer.objects.filter(
                        live, contacts__email__iexact=email,
                        contacts__archived_at__isnull=True).order_by("id").first())
        if customer is not None:
            return customer, MatchedBy.EMAIL
    digits = _digits(phone)
    if len(digits) >= 7:
        for customer in (Customer.objects.filter(live, phone__contains=digits[-4:])
                         .order_by("id")[:200]):
            if _digits(customer.phone) == digits:
                return customer, MatchedBy.PHONE
    return None, MatchedBy.NONE


def work_request_submit(*, organization: Organization, name: str, email: str, phone: str,
                        address_line1: str, city: str, postal_code: str = "",
                        description: str, preferred_times: str = "",
                        photos: Iterable[UploadedFile] = (),
                        customer: Customer | None = None) -> WorkRequest:
    """A request from the organization's public form becomes a work order in status new.

    The customer is matched by email or phone (and the request flagged for the office to
    confirm it is them) or created; the site is one of theirs at the same address or a new
    one; the request is the job's first note, with its photos; the office is told
    (``work_requested``). Everything through the customers' and work orders' own services.
    ``customer``: the request comes from that customer's portal (their link says who it is).
    """
    from crewline.customers.services import customer_create, site_create
    from crewline.workorders.services import attachment_add, note_add, work_order_create

    name, email, phone = name.strip(), email.strip(), phone.strip()
    description = description.strip()
    if not email and not phone:
        raise ValidationError({"email": _("Give an email address or a phone number so that we "
                                          "can answer you.")})
    if customer is not None and customer.organization_id != organization.pk:
        raise ValidationError("The customer belongs to another organization.")
    with transaction.atomic():
        if customer is not None:
            matched_by = MatchedBy.PORTAL
        else:
            customer, matched_by = _match_customer(organization.pk, email=email, phone=phone)
        if customer is None:
            customer = customer_create(organization=organization, by=None, name=name,
                                       email=email, phone=phone,
                                       language=translation.get_language() or "")
        site = (Site.objects.filter(organization_id=organization.pk, customer=customer,
                                    archived_at__isnull=True,
                                    address_line1__iexact=address_line1.strip(),
                                    city__iexact=city.strip()).order_by("id").first()
                or site_create(customer=customer, by=None, address_line1=address_line1.strip(),
                               city=city.strip(), postal_code=postal_code.strip()))
        title = description.splitlines()[0][:80] if description else _("Request for work")
        work_order = work_order_create(
            organization=organization, by=None, customer=customer, site=site, title=title,
            instructions=description)
        request = WorkRequest.objects.create(
            organization=organization, customer=customer, work_order=work_order,
            matched_by=matched_by, name=name, email=email, phone=phone,
            address=", ".join(p for p in (address_line1.strip(), city.strip(),
                                          postal_code.strip()) if p),
            description=description, preferred_times=preferred_times.strip())
        with translation.override(settings.LANGUAGE_CODE):
            note_add(work_order=work_order, by=None, body=_request_note(request))
            for photo in photos:
                attachment_add(work_order=work_order, by=None, file=photo,
                               caption=_("Sent with the request"))
        audit_record(organization=organization, actor=None, action="work_request.submit",
                     obj=request, changes={"work_order": [None, work_order.number],
                                           "customer": [None, customer.pk],
                                           "matched_by": [None, matched_by]})
        work_requested.send(sender=WorkRequest, request=request)
    return request


def _request_note(request: WorkRequest) -> str:
    """The request as the office reads it on the job's timeline (in the site's language)."""
    lines = [_("Request from the customer's portal by %(name)s.") % {"name": request.name}
             if request.matched_by == MatchedBy.PORTAL else
             _("Request from the website by %(name)s.") % {"name": request.name}]
    contact = " · ".join(p for p in (request.email, request.phone) if p)
    if contact:
        lines.append(contact)
    lines.append(_("Address: %(address)s") % {"address": request.address})
    if request.preferred_times:
        lines.append(_("Preferred times: %(times)s") % {"times": request.preferred_times})
    if request.matched_by == MatchedBy.EMAIL:
        lines.append(_("Matched to the existing customer by email address: confirm it is "
                       "them."))
    elif request.matched_by == MatchedBy.PHONE:
        lines.append(_("Matched to the existing customer by phone number: confirm it is "
                       "them."))
    lines += ["", request.description]
    return "\n".join(lines)


def work_request_confirm(*, request: WorkRequest, by: Member) -> WorkRequest:
    """The office confirms that a matched request is from that customer."""
    with transaction.atomic():
        locked = WorkRequest.objects.select_for_update().get(pk=request.pk)
        if locked.confirmed_at is None:
            locked.confirmed_at = timezone.now()
            locked.confirmed_by = by
            locked.save(update_fields=["confirmed_at", "confirmed_by"])
            audit_record(organization=locked.organization, actor=by,
                         action="work_request.confirm", obj=locked,
                         changes={"confirmed": [False, True]})
    return locked


# Times offered to the customer --------------------------------------------------------------

OFFERS_AT_MOST = 3


class WindowTaken(ValidationError):
    """The time the customer picked is no longer free (the board's conflict rules said so):
    the offer was withdrawn and the office told; the customer may pick another."""


def work_order_offerable(work_order) -> bool:
    """Whether the office may offer ``work_order``'s customer times: it is open and none of its
    open visits has a time yet (a new one from a request, or any not scheduled)."""
    from crewline.workorders.models import OPEN_VISIT_STATUSES, Visit

    return work_order.is_open and not Visit.objects.filter(
        organization_id=work_order.organization_id, work_order_id=work_order.pk,
        status__in=OPEN_VISIT_STATUSES, start__isnull=False).exists()


def _window_words(organization: Organization, start: dt.datetime, end: dt.datetime) -> str:
    from django.utils.formats import date_format

    tz = organization.tzinfo
    s, e = start.astimezone(tz), end.astimezone(tz)
    return f"{date_format(s.date(), 'D j M')} {s:%H:%M}–{e:%H:%M}"


def _withdraw_live(work_order, now: dt.datetime, *, keep: int | None = None) -> int:
    from crewline.portal.models import WindowOffer

    live = (WindowOffer.objects.filter(organization_id=work_order.organization_id,
                                       work_order_id=work_order.pk, picked_at__isnull=True,
                                       withdrawn_at__isnull=True))
    if keep is not None:
        live = live.exclude(pk=keep)
    return live.update(withdrawn_at=now)


def window_offers_make(*, work_order, by: Member, windows: list[tuple[dt.datetime, dt.datetime]],
                       crew: Member | None = None) -> list:
    """Offer ``work_order``'s customer up to ``OFFERS_AT_MOST`` times to choose from in their
    portal, in place of any offered before; ``crew``: the technician who would come (checked
    for conflicts when the customer picks). The office's; the job must be offerable
    (``work_order_offerable``), each time in the future and ending after it starts. On the
    job's timeline and audited."""
    from django.core.exceptions import PermissionDenied

    from crewline.core.audit import organization_write_lock
    from crewline.portal.models import WindowOffer
    from crewline.workorders import timeline
    from crewline.workorders.models import WorkOrder

    if by.organization_id != work_order.organization_id or not by.is_office:
        raise PermissionDenied(_("Only the office offers times to the customer."))
    if crew is not None and (crew.organization_id != work_order.organization_id
                             or not crew.is_active):
        raise ValidationError({"crew": _("Choose an active member of your team.")})
    if not windows:
        raise ValidationError(_("Offer at least one time."))
    if len(windows) > OFFERS_AT_MOST:
        raise ValidationError(_("Offer at most %(n)d times.") % {"n": OFFERS_AT_MOST})
    now = timezone.now()
    for start, end in windows:
        if timezone.is_naive(start) or timezone.is_naive(end):
            raise ValueError("Times must be timezone-aware.")
        if end <= start:
            raise ValidationError(_("Each time must end after it starts."))
        if start <= now:
            raise ValidationError(_("Offer times in the future."))
    windows = sorted(windows)
    with transaction.atomic():
        organization_write_lock(work_order.organization_id)
        locked = (WorkOrder.objects.select_for_update(no_key=True, of=("self",))
                  .select_related("organization")
                  .get(organization_id=work_order.organization_id, pk=work_order.pk))
        if not work_order_offerable(locked):
            raise ValidationError(_("This work order is scheduled or closed: there is no time "
                                    "to offer."), code="state")
        _withdraw_live(locked, now)
        offers = [WindowOffer.objects.create(
            organization_id=locked.organization_id, work_order=locked, start=start, end=end,
            crew=crew, offered_by=by, offered_at=now) for start, end in windows]
        words = ", ".join(_window_words(locked.organization, s, e) for s, e in windows)
        with translation.override(settings.LANGUAGE_CODE):
            timeline.system_recorded(work_order=locked, by=by, event="windows_offered",
                                     body=_("offered the customer %(times)s")
                                     % {"times": words})
        audit_record(organization=locked.organization, actor=by, action="window_offer.make",
                     obj=locked, changes={"offers": [None, [o.pk for o in offers]],
                                          "crew": [None, crew.pk if crew else None]})
    return offers


def window_offers_withdraw(*, work_order, by: Member) -> int:
    """The office takes back the times it offered; returns how many were live."""
    from crewline.core.audit import organization_write_lock

    if by.organization_id != work_order.organization_id or not by.is_office:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("Only the office offers times to the customer."))
    with transaction.atomic():
        organization_write_lock(work_order.organization_id)
        count = _withdraw_live(work_order, timezone.now())
        if count:
            audit_record(organization=work_order.organization, actor=by,
                         action="window_offer.withdraw", obj=work_order,
                         changes={"offers": [count, 0]})
    return count


def window_pick(*, link: PortalLink, offer_id: int):
    """The customer picks one of the times offered to them (through their portal ``link``):
    the visit is scheduled by the board's own service (``visit_schedule`` for the job's visit
    without a time, else ``visit_add``), with the offered technician, the other offers are
    withdrawn, the pick is on the job's timeline and the office is told (``window_picked``).

    Refused (ValidationError) when the offer is not the customer's, was picked or withdrawn,
    its time has passed or the job was scheduled meanwhile. When the board's conflict rules
    find the time no longer free, that offer is withdrawn, the office told
    (``window_taken``), and ``WindowTaken`` raised once that is committed.
    """
    from crewline.core.audit import organization_write_lock
    from crewline.portal.models import WindowOffer
    from crewline.portal.signals import window_picked, window_taken
    from crewline.workorders import timeline
    from crewline.workorders.models import OPEN_VISIT_STATUSES, Visit
    from crewline.workorders.services import ConflictError, visit_add, visit_schedule

    taken = False
    with transaction.atomic():
        organization_write_lock(link.organization_id)
        offer = (WindowOffer.objects.select_for_update(no_key=True, of=("self",))
                 .select_related("work_order__organization", "crew")
                 .filter(organization_id=link.organization_id, pk=offer_id,
                         work_order__customer_id=link.customer_id).first())
        if offer is None:
            raise ValidationError(_("This time is not offered to you."), code="not_found")
        if not offer.is_live:
            raise ValidationError(_("This time is no longer offered: it was chosen, withdrawn "
                                    "or has passed."), code="state")
        work_order = offer.work_order
        now = timezone.now()
        if not work_order_offerable(work_order):
            _withdraw_live(work_order, now)
            raise ValidationError(_("This job has been scheduled already."), code="state")
        crew = [offer.crew] if offer.crew_id and offer.crew.is_active else []
        unscheduled = (Visit.objects.filter(organization_id=work_order.organization_id,
                                            work_order_id=work_order.pk, start__isnull=True,
                                            status__in=OPEN_VISIT_STATUSES)
                       .order_by("pk").first())
        words = _window_words(work_order.organization, offer.start, offer.end)
        try:
            with transaction.atomic():
                if unscheduled is not None:
                    visit = visit_schedule(visit=unscheduled, start=offer.start, end=offer.end,
                                           crew=crew or None, by=None)
                else:
                    visit = visit_add(work_order=work_order, by=None, start=offer.start,
                                      end=offer.end, crew=crew)
        except ConflictError as exc:
            taken = True
            offer.withdrawn_at = now
            offer.save(update_fields=["withdrawn_at"])
            with translation.override(settings.LANGUAGE_CODE):
                timeline.system_recorded(
                    work_order=work_order, by=None, event="window_taken",
                    body=_("The customer chose %(time)s, which is no longer free: %(why)s")
                    % {"time": words, "why": " ".join(exc.messages)})
            audit_record(organization=work_order.organization, actor=None,
                         action="window_offer.taken", obj=offer,
                         changes={"conflicts": [None, exc.messages]})
            window_taken.send(sender=WindowOffer, offer=offer)
        else:
            offer.picked_at, offer.visit = now, visit
            offer.save(update_fields=["picked_at", "visit"])
            _withdraw_live(work_order, now, keep=offer.pk)
            with translation.override(settings.LANGUAGE_CODE):
                timeline.system_recorded(work_order=work_order, by=None, visit=visit,
                                         event="window_picked",
                                         body=_("The customer chose %(time)s from the times "
                                                "offered.") % {"time": words})
            audit_record(organization=work_order.organization, actor=None,
                         action="window_offer.pick", obj=offer,
                         changes={"visit": [None, visit.pk]})
            window_picked.send(sender=WindowOffer, offer=offer)
    if taken:
        raise WindowTaken(_("Sorry, this time is no longer free. The office has been told; "
                            "choose another time or wait for them to contact you."),
                          code="taken")
    return visit
