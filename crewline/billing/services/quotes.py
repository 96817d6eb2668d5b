"""Quotes: drafting and their lines, sending with a public link, the customer's approval or
refusal, expiry and the work order an approved quote becomes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.billing.models import Quote, QuoteLine, QuoteStatus
from crewline.billing.quantities import quantity_with_unit
from crewline.billing.services.billing_settings import _take_number, billing_settings_for
from crewline.billing.services.lines import (
    _check_scope,
    _fill_line,
    _line_delete,
    _line_insert,
    _line_save,
    _line_snapshot,
    _next_position,
    _retotal,
)
from crewline.billing.signals import quote_approved
from crewline.core.audit import audit_record, diff, snapshot
from crewline.core.models import Member, Organization
from crewline.customers.models import Customer, Site
from crewline.live.models import ChangeKind
from crewline.live.services import change_record
from crewline.workorders.models import WorkOrder, WorkOrderKind

QUOTE_FIELDS = ("customer", "site", "title", "valid_until", "notes")


def _require_quote_editable(quote: Quote) -> None:
    if not quote.is_editable:
        raise ValidationError(_("A quote that is %(status)s cannot be changed.")
                              % {"status": quote.get_status_display().lower()}, code="state")



def quote_create(*, organization: Organization, by: Member | None, customer: Customer,
                 title: str, site: Site | None = None, valid_until: dt.date | None = None,
                 notes: str = "") -> Quote:
    _check_scope(organization, customer=customer, site=site)
    if site is not None and site.customer_id != customer.pk:
        raise ValidationError({"site": _("This site belongs to another customer.")})
    settings = billing_settings_for(organization)
    if valid_until is None:
        valid_until = timezone.localdate() + dt.timedelta(days=settings.quote_valid_days)
    with transaction.atomic():
        quote = Quote(organization=organization, customer=customer, site=site,
                      title=title.strip(), valid_until=valid_until, notes=notes,
                      currency=organization.currency, created_by=by,
                      number=_take_number(organization, "next_quote_number"))
        quote.full_clean(exclude=["organization", "customer", "site", "created_by", "number"])
        quote.save(force_insert=True)
        audit_record(organization=organization, actor=by, action="quote.create", obj=quote,
                     changes=diff({}, snapshot(quote, QUOTE_FIELDS)))
    return quote


def quote_update(*, quote: Quote, by: Member | None, **changes: Any) -> Quote:
    unknown = set(changes) - set(QUOTE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    org = quote.organization
    _check_scope(org, customer=changes.get("customer"), site=changes.get("site"))
    with transaction.atomic():
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        _require_quote_editable(locked)
        before = snapshot(locked, QUOTE_FIELDS)
        for name, value in changes.items():
            setattr(locked, name, value)
        if locked.site_id and locked.site.customer_id != locked.customer_id:
            raise ValidationError({"site": _("This site belongs to another customer.")})
        locked.full_clean(exclude=["organization", "customer", "site", "created_by", "number"])
        locked.save()
        changed = diff(before, snapshot(locked, QUOTE_FIELDS))
        if changed:
            audit_record(organization=org, actor=by, action="quote.update", obj=locked,
                         changes=changed)
    return locked


def quote_line_add(*, quote: Quote, by: Member | None, is_optional: bool = False,
                   **values: Any) -> QuoteLine:
    """Add a line from a price book item (``item``) or free text (``description``)."""
    with transaction.atomic():
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        _require_quote_editable(locked)
        line = QuoteLine(organization_id=locked.organization_id, quote=locked,
                         position=_next_position(locked), is_optional=is_optional,
                         is_selected=not is_optional)
        return _line_insert(locked, line, values, by=by, action="quote.line_add")


def quote_line_update(*, line: QuoteLine, by: Member | None, is_optional: bool | None = None,
                      **values: Any) -> QuoteLine:
    with transaction.atomic():
        quote = Quote.objects.select_for_update().get(pk=line.quote_id)
        _require_quote_editable(quote)
        before = _line_snapshot(line)
        _fill_line(line, quote.organization, dict(values))
        if is_optional is not None and is_optional != line.is_optional:
            line.is_optional = is_optional
            line.is_selected = not is_optional
        _line_save(quote, line, before, by=by, action="quote.line_update")
    return line


def quote_line_remove(*, line: QuoteLine, by: Member | None) -> None:
    with transaction.atomic():
        quote = Quote.objects.select_for_update().get(pk=line.quote_id)
        _require_quote_editable(quote)
        _line_delete(quote, line, by=by, action="quote.line_remove")


def quote_send(*, quote: Quote, by: Member | None, to: str) -> Quote:
    """Mark the quote sent and email it to ``to`` with a new public link.

    The link's token is made by the background task that sends the email, and only its hash
    is kept; sending again makes a new link and the old one stops working.
    """
    from crewline.billing.tasks import send_quote_email

    to = (to or "").strip()
    if not to:
        raise ValidationError({"to": _("Give an email address to send the quote to.")})
    with transaction.atomic():
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        _require_quote_editable(locked)
        if not locked.lines.exists():
            raise ValidationError(_("Add at least one line before sending the quote."),
                                  code="state")
        if locked.valid_until < timezone.localdate(timezone=quote.organization.tzinfo):
            raise ValidationError({"valid_until": _("The quote's validity date has passed; "
                                                    "move it on before sending.")})
        before = locked.status
        locked.status = QuoteStatus.SENT
        locked.sent_at = timezone.now()
        locked.sent_to = to
        locked.save(update_fields=["status", "sent_at", "sent_to", "updated_at"])
        audit_record(organization=locked.organization, actor=by, action="quote.send",
                     obj=locked, changes={"status": [before, locked.status], "to": [None, to]})
        _quote_changed(locked, "quote.sent")
        quote_id = locked.pk
        transaction.on_commit(lambda: send_quote_email.enqueue(quote_id, to))
    return locked


def quote_link_token(*, quote: Quote) -> str:
    """A new public link token for the quote; only its hash is stored."""
    import secrets

    token = secrets.token_urlsafe(32)
    Quote.objects.filter(pk=quote.pk).update(token_hash=Quote.hash_token(token))
    quote.token_hash = Quote.hash_token(token)
    return token


def quote_for_token(token: str) -> Quote | None:
    if not token or len(token) > 100:
        return None
    return (Quote.objects.select_related("organization", "customer", "site")
            .filter(token_hash=Quote.hash_token(token)).first())


def quote_expire(*, quote: Quote) -> Quote:
    """Sent (or draft) quotes past their validity date become expired."""
    with transaction.atomic():
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        if locked.is_expired:
            before = locked.status
            locked.status = QuoteStatus.EXPIRED
            locked.save(update_fields=["status", "updated_at"])
            audit_record(organization=locked.organization, actor=None, action="quote.expire",
                         obj=locked, changes={"status": [before, locked.status]})
    return locked


def _validate_signature(png: bytes) -> None:
    from PIL import Image, UnidentifiedImageError

    if not png or len(png) > 2 * 1024 * 1024:
        raise ValidationError({"signature": _("Sign in the box before approving.")})
    try:
        with Image.open(io.BytesIO(png)) as image:
            image.verify()
            if image.format != "PNG":
                raise ValidationError({"signature": _("The signature must be a PNG image.")})
        with Image.open(io.BytesIO(png)) as image:
            width, height = image.size
            extrema = image.convert("L").getextrema()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationError({"signature": _("The signature could not be read.")}) from exc
    if width < 50 or height < 20 or width > 4000 or height > 2000:
        raise ValidationError({"signature": _("The signature image has an odd size.")})
    if extrema[0] == extrema[1]:
        # A blank canvas: every pixel the same.
        raise ValidationError({"signature": _("Sign in the box before approving.")})


def _quote_changed(quote: Quote, event: str = "") -> None:
    """Tell the quote's open office pages (crewline.live), in the transaction of the change."""
    change_record(organization_id=quote.organization_id, kind=ChangeKind.QUOTE,
                  object_id=quote.pk, topics=[f"quote:{quote.pk}"],
                  payload={"quote": quote.pk, "what": "quote", "status": quote.status},
                  event=event)


def _require_open_for_customer(quote: Quote) -> None:
    if quote.status != QuoteStatus.SENT or quote.is_expired:
        raise ValidationError(_("This quote can no longer be answered."), code="state")


def quote_approve(*, quote: Quote, name: str, signature_png: bytes,
                  selected_optional_ids: Iterable[int] = ()) -> Quote:
    """The customer approves the quote on its public page, with the optional lines they chose,
    their name and a drawn signature (a PNG image)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Type your name to approve.")})
    if len(name) > 200:
        raise ValidationError({"name": _("Keep the name under 200 characters.")})
    _validate_signature(signature_png)
    chosen = {int(i) for i in selected_optional_ids}
    with transaction.atomic():
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        _require_open_for_customer(locked)
        optional = list(locked.lines.filter(is_optional=True))
        for line in optional:
            selected = line.pk in chosen
            if line.is_selected != selected:
                line.is_selected = selected
                line.save(update_fields=["is_selected"])
        locked.status = QuoteStatus.APPROVED
        locked.approved_at = timezone.now()
        locked.approved_by_name = name
        locked.signature.save("signature.png", ContentFile(signature_png), save=False)
        locked.save(update_fields=["status", "approved_at", "approved_by_name", "signature",
                                   "updated_at"])
        _retotal(locked)
        audit_record(organization=locked.organization, actor=None, action="quote.approve",
                     obj=locked, changes={"status": [QuoteStatus.SENT, locked.status],
                                          "approved_by": [None, name],
                                          "optional_lines": [None, sorted(
                                              line.pk for line in optional
                                              if line.pk in chosen)]})
        _quote_changed(locked, "quote.approved")
        quote_approved.send(sender=Quote, quote=locked)
    return locked


def quote_decline(*, quote: Quote, reason: str) -> Quote:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tell us why, so that we can do better.")})
    if len(reason) > 2000:
        raise ValidationError({"reason": _("Keep the reason under 2000 characters.")})
    with transaction.atomic():
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        _require_open_for_customer(locked)
        locked.status = QuoteStatus.DECLINED
        locked.declined_at = timezone.now()
        locked.declined_reason = reason
        locked.save(update_fields=["status", "declined_at", "declined_reason", "updated_at"])
        audit_record(organization=locked.organization, actor=None, action="quote.decline",
                     obj=locked, changes={"status": [QuoteStatus.SENT, locked.status],
                                          "reason": [None, reason]})
        _quote_changed(locked, "quote.declined")
    return locked


def quote_convert(*, quote: Quote, by: Member | None) -> WorkOrder:
    """An approved quote becomes a work order of kind quoted; the quote keeps its lines and
    points at the work order, whose invoice draft takes them."""
    from crewline.workorders.services import work_order_create

    with transaction.atomic():
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        if locked.status != QuoteStatus.APPROVED:
            raise ValidationError(_("Only an approved quote can become a work order."),
                                  code="state")
        work_order = work_order_create(
            organization=locked.organization, by=by, customer=locked.customer, site=locked.site,
            title=locked.title, kind=WorkOrderKind.QUOTED,
            instructions="\n".join(f"{quantity_with_unit(line.quantity, line.unit)} × "
                                   f"{line.description}"
                                   for line in locked.lines.filter(is_selected=True)))
        locked.work_order = work_order
        locked.status = QuoteStatus.CONVERTED
        locked.save(update_fields=["work_order", "status", "updated_at"])
        audit_record(organization=locked.organization, actor=by, action="quote.convert",
                     obj=locked, changes={"status": [QuoteStatus.APPROVED, locked.status],
                                          "work_order": [None, work_order.pk]})
        _quote_changed(locked)
    return work_order
