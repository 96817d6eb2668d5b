"""Writes to the price book, labor rates, quotes and invoices.

Every write records an audit entry in its own transaction. Money follows ``money.py``: each
line's net and tax are rounded when it is saved, and a document's totals are re-summed from its
lines (``_retotal``) in the same transaction as any change to them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crewline.billing import selectors
from crewline.billing.models import (
    BillingSettings,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    ItemKind,
    LineSource,
    MemberRate,
    PaymentMethod,
    PriceBookItem,
    Quote,
    QuoteLine,
    QuoteStatus,
    tax_rate_key,
)
from crewline.billing.money import ZERO, totals
from crewline.billing.quantities import quantity_with_unit
from crewline.billing.signals import quote_approved
from crewline.core.audit import audit_record, diff, organization_write_lock, snapshot
from crewline.core.models import Member, Organization
from crewline.customers.models import Customer, Site
from crewline.live.models import ChangeKind
from crewline.live.services import change_record
from crewline.workorders.models import EntryKind, Status, TimelineEntry, WorkOrder, WorkOrderKind
from crewline.workorders.timeline import entry_data, labor_that_counts

ITEM_FIELDS = ("code", "name", "description", "kind", "unit", "unit_price", "unit_cost",
               "tax_rate", "is_active")
LINE_FIELDS = ("item", "description", "quantity", "unit", "unit_price", "discount", "tax_rate")
QUOTE_FIELDS = ("customer", "site", "title", "valid_until", "notes")
LABOR_CODE = "LABOR"
FOUR_PLACES = Decimal("0.0001")


def _check_scope(organization: Organization, **objects) -> None:
    for label, obj in objects.items():
        if obj is not None and obj.organization_id != organization.pk:
            raise ValidationError({label: _("Not found in this organization.")})


# Settings and numbers ------------------------------------------------------------------------

def billing_settings_for(organization: Organization) -> BillingSettings:
    """The organization's billing settings, made with defaults on first need."""
    found = BillingSettings.objects.filter(organization=organization).first()
    if found is not None:
        return found
    settings, _created = BillingSettings.objects.get_or_create(organization=organization)
    return settings


def billing_settings_update(*, organization: Organization, by: Member | None,
                            **changes: Any) -> BillingSettings:
    allowed = {"technicians_see_prices", "payment_terms_days", "quote_valid_days",
               "sales_account_code", "free_text_product", "xero_tax_types"}
    if set(changes) - allowed:
        raise TypeError(f"Not editable: {', '.join(sorted(set(changes) - allowed))}")
    if "xero_tax_types" in changes:
        changes["xero_tax_types"] = _clean_tax_types(changes["xero_tax_types"])
    with transaction.atomic():
        settings = billing_settings_for(organization)
        settings = BillingSettings.objects.select_for_update().get(pk=settings.pk)
        before = snapshot(settings, changes)
        for name, value in changes.items():
            setattr(settings, name, value)
        settings.full_clean(exclude=["organization"])
        settings.save(update_fields=list(changes))
        changed = diff(before, snapshot(settings, changes))
        if changed:
            audit_record(organization=organization, actor=by, action="billing.settings",
                         obj=settings, object_repr="Billing settings", changes=changed)
    return settings


def _clean_tax_types(value: Any) -> dict[str, str]:
    """``{rate: Xero tax type}`` with rates written as ``tax_rate_key`` does; empty types are
    dropped (the rate is then unset)."""
    if not isinstance(value, dict):
        raise ValidationError({"xero_tax_types": _("Give a tax type per tax rate.")})
    cleaned: dict[str, str] = {}
    for rate, tax_type in value.items():
        key = tax_rate_key(_decimal(rate, "xero_tax_types"))
        tax_type = str(tax_type or "").strip()
        if len(tax_type) > 50:
            raise ValidationError({"xero_tax_types": _(
                "Keep the tax type of %(rate)s%% under 50 characters.") % {"rate": key}})
        if tax_type:
            cleaned[key] = tax_type
    return cleaned


def _take_number(organization: Organization, field: str) -> int:
    settings = billing_settings_for(organization)
    locked = BillingSettings.objects.select_for_update().get(pk=settings.pk)
    number = getattr(locked, field)
    setattr(locked, field, number + 1)
    locked.save(update_fields=[field])
    return number


# Price book ----------------------------------------------------------------------------------

def _clean_item(item: PriceBookItem) -> None:
    item.code = item.code.strip()
    item.name = item.name.strip()
    item.full_clean(exclude=["organization"], validate_constraints=False)
    clash = (PriceBookItem.objects.filter(organization_id=item.organization_id,
                                          code__iexact=item.code).exclude(pk=item.pk))
    if clash.exists():
        raise ValidationError({"code": _("Another item already has the code %(code)s.")
                               % {"code": item.code}})


def _price_item_changed(item: PriceBookItem) -> None:
    """The phones keep the price book for picking parts offline: an added, changed or archived
    item reaches them with their next pull."""
    change_record(organization_id=item.organization_id, kind=ChangeKind.PRICE_ITEM,
                  object_id=item.pk)


def price_item_create(*, organization: Organization, by: Member | None, code: str, name: str,
                      unit_price: Decimal, kind: str = ItemKind.SERVICE, unit: str = "each",
                      unit_cost: Decimal = ZERO, tax_rate: Decimal = ZERO,
                      description: str = "", is_active: bool = True) -> PriceBookItem:
    item = PriceBookItem(organization=organization, code=code, name=name, kind=kind, unit=unit,
                         unit_price=unit_price, unit_cost=unit_cost, tax_rate=tax_rate,
                         description=description, is_active=is_active)
    with transaction.atomic():
        _clean_item(item)
        item.save(force_insert=True)
        _price_item_changed(item)
        audit_record(organization=organization, actor=by, action="price_item.create", obj=item,
                     changes=diff({}, snapshot(item, ITEM_FIELDS)))
    return item


def price_item_update(*, item: PriceBookItem, by: Member | None, **changes: Any
                      ) -> PriceBookItem:
    unknown = set(changes) - set(ITEM_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = PriceBookItem.objects.select_for_update().get(pk=item.pk)
        before = snapshot(locked, ITEM_FIELDS)
        for name, value in changes.items():
            setattr(locked, name, value)
        _clean_item(locked)
        locked.save()
        changed = diff(before, snapshot(locked, ITEM_FIELDS))
        if changed:
            _price_item_changed(locked)
            audit_record(organization=locked.organization, actor=by, action="price_item.update",
                         obj=locked, changes=changed)
    return locked


def price_item_deactivate(*, item: PriceBookItem, by: Member | None) -> PriceBookItem:
    """Inactive items stay on existing quotes and invoices but are not offered for new lines."""
    return price_item_update(item=item, by=by, is_active=False)


def labor_item_for(organization: Organization, by: Member | None = None) -> PriceBookItem:
    """The organization's default labor service (code LABOR), made on first need."""
    item = (PriceBookItem.objects.filter(organization=organization, code__iexact=LABOR_CODE)
            .first())
    if item is None:
        item = price_item_create(organization=organization, by=by, code=LABOR_CODE,
                                 name=_("Labor"), kind=ItemKind.SERVICE, unit="hour",
                                 unit_price=ZERO)
    return item


def default_labor_rate_set(*, organization: Organization, hourly_rate: Decimal,
                           by: Member | None) -> PriceBookItem:
    """Set the default labor rate: the LABOR item's price, billed for members without a rate
    of their own. Zero means "not set": an invoice draft will not price labor at it."""
    if hourly_rate is None or hourly_rate < 0:
        raise ValidationError({"hourly_rate": _("Give the hourly rate, zero or more.")})
    return price_item_update(item=labor_item_for(organization, by), by=by,
                             unit_price=hourly_rate)


def labor_rate_is_set(organization: Organization) -> bool:
    """Whether labor can be priced: a default labor rate above zero, or any member's rate."""
    labor = (PriceBookItem.objects.filter(organization=organization, code__iexact=LABOR_CODE)
             .values_list("unit_price", flat=True).first())
    return bool(labor) or MemberRate.objects.filter(organization=organization).exists()


def member_rate_set(*, member: Member, hourly_rate: Decimal | None, by: Member | None
                    ) -> MemberRate | None:
    """Set (or with None, clear) the member's hourly rate."""
    with transaction.atomic():
        existing = MemberRate.objects.select_for_update().filter(member=member).first()
        before = existing.hourly_rate if existing else None
        if hourly_rate is None:
            if existing:
                existing.delete()
            result = None
        else:
            if hourly_rate < 0:
                raise ValidationError({"hourly_rate": _("A rate cannot be negative.")})
            result = existing or MemberRate(organization_id=member.organization_id, member=member)
            result.hourly_rate = hourly_rate
            result.save()
        if before != hourly_rate:
            audit_record(organization=member.organization, actor=by, action="member_rate.set",
                         obj=member, changes={"hourly_rate": [before, hourly_rate]})
    return result


# Lines (shared) ------------------------------------------------------------------------------

def _decimal(value: Any, field: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: _("Enter a number.")}) from exc
    if not result.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    return result


def _fill_line(line: QuoteLine | InvoiceLine, organization: Organization,
               values: dict[str, Any]) -> None:
    """Apply ``values`` to a line; a price book item fills what was not given."""
    item = values.get("item", line.item if line.item_id else None)
    _check_scope(organization, item=item)
    if "item" in values and item is not None:
        line.item = item
        values.setdefault("description", item.name)
        values.setdefault("unit", item.unit)
        if values.get("unit_price") in (None, ""):
            values["unit_price"] = item.unit_price
        if values.get("tax_rate") in (None, ""):
            values["tax_rate"] = item.tax_rate
    elif "item" in values:
        line.item = None
    for name in ("quantity", "unit_price", "discount", "tax_rate"):
        if values.get(name) not in (None, ""):
            setattr(line, name, _decimal(values[name], name))
    for name in ("description", "unit"):
        if name in values and values[name] is not None:
            setattr(line, name, str(values[name]).strip())
    if not line.description:
        raise ValidationError({"description": _("Describe the line or choose an item.")})
    line.full_clean(exclude=["organization", "quote", "invoice", "item"],
                    validate_constraints=False)
    if line.discount > line.quantity * line.unit_price:
        raise ValidationError({"discount": _("The discount cannot be more than the line's "
                                             "amount (%(amount)s).")
                               % {"amount": (line.quantity * line.unit_price).quantize(
                                   Decimal("0.01"))}})
    line.compute()


def _retotal(document: Quote | Invoice) -> None:
    lines = document.lines.all()
    if isinstance(document, Quote):
        lines = lines.filter(is_selected=True)
    result = totals(line.amounts() for line in lines)
    document.subtotal, document.tax_total = result.subtotal, result.tax
    document.save(update_fields=["subtotal", "tax_total", "updated_at"])


def _line_snapshot(line: QuoteLine | InvoiceLine) -> dict[str, Any]:
    return snapshot(line, LINE_FIELDS)


# Quotes --------------------------------------------------------------------------------------

def _require_quote_editable(quote: Quote) -> None:
    if not quote.is_editable:
        raise ValidationError(_("A quote that is %(status)s cannot be changed.")
                              % {"status": quote.get_status_display().lower()})


def _next_position(document: Quote | Invoice) -> int:
    last = document.lines.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


def _line_insert(document: Quote | Invoice, line: QuoteLine | InvoiceLine,
                 values: dict[str, Any], *, by: Member | None, action: str
                 ) -> QuoteLine | InvoiceLine:
    """Save the new ``line`` of the locked ``document`` and record it; in a transaction."""
    _fill_line(line, document.organization, dict(values))
    line.save(force_insert=True)
    _retotal(document)
    audit_record(organization=document.organization, actor=by, action=action,
                 obj=document, changes={"line": [None, _line_snapshot(line)]})
    return line


def _line_save(document: Quote | Invoice, line: QuoteLine | InvoiceLine,
               before: dict[str, Any], *, by: Member | None, action: str) -> None:
    """Save a changed ``line`` of the locked ``document``, recording what changed."""
    line.save()
    _retotal(document)
    changed = diff(before, _line_snapshot(line))
    if changed:
        audit_record(organization=document.organization, actor=by, action=action,
                     obj=document, changes=changed)


def _line_delete(document: Quote | Invoice, line: QuoteLine | InvoiceLine, *,
                 by: Member | None, action: str) -> None:
    before = _line_snapshot(line)
    line.delete()
    _retotal(document)
    audit_record(organization=document.organization, actor=by, action=action,
                 obj=document, changes={"line": [before, None]})


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
            raise ValidationError(_("Add at least one line before sending the quote."))
        if locked.valid_until < timezone.localdate():
            raise ValidationError({"valid_until": _("The quote's validity date has passed; "
                                                    "move it on before sending.")})
        before = locked.status
        locked.status = QuoteStatus.SENT
        locked.sent_at = timezone.now()
        locked.sent_to = to
        locked.save(update_fields=["status", "sent_at", "sent_to", "updated_at"])
        audit_record(organization=locked.organization, actor=by, action="quote.send",
                     obj=locked, changes={"status": [before, locked.status], "to": [None, to]})
        _quote_changed(locked)
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


def _quote_changed(quote: Quote) -> None:
    """Tell the quote's open office pages (crewline.live), in the transaction of the change."""
    change_record(organization_id=quote.organization_id, kind=ChangeKind.QUOTE,
                  object_id=quote.pk, topics=[f"quote:{quote.pk}"],
                  payload={"quote": quote.pk, "what": "quote", "status": quote.status})


def _require_open_for_customer(quote: Quote) -> None:
    if quote.status != QuoteStatus.SENT or quote.is_expired:
        raise ValidationError(_("This quote can no longer be answered."))


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
        _quote_changed(locked)
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
        _quote_changed(locked)
    return locked


def quote_convert(*, quote: Quote, by: Member | None) -> WorkOrder:
    """An approved quote becomes a work order of kind quoted; the quote keeps its lines and
    points at the work order, whose invoice draft takes them."""
    from crewline.workorders.services import work_order_create

    with transaction.atomic():
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        if locked.status != QuoteStatus.APPROVED:
            raise ValidationError(_("Only an approved quote can become a work order."))
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


# Invoices ------------------------------------------------------------------------------------

def _require_invoice_editable(invoice: Invoice) -> None:
    if not invoice.is_editable:
        raise ValidationError(_("An issued invoice is locked; void it and draft a new one to "
                                "change it."))


def _hours(minutes: Any) -> Decimal:
    return (Decimal(str(minutes)) / Decimal(60)).quantize(FOUR_PLACES)


def invoice_draft_from_work_order(*, work_order: WorkOrder, by: Member | None) -> Invoice:
    """A draft invoice for a completed work order with nothing typed again.

    Lines, in order: the quote's approved lines (if the work order came from a quote); labor
    from the timeline's labor entries (``data: {minutes, member_id, description}``) at the
    member's hourly rate, or the LABOR item's price (the default labor rate) for members without
    one; refused with code ``labor_rate_missing`` when that default is zero, so that labor is
    never billed at nothing unnoticed (a member's own rate of zero is a choice); parts from the
    timeline's part entries (``data: {price_book_item_id or name, quantity, unit}``) at the
    price book's price (a part not in the price book comes in at zero for the office to price).
    Refused for a work order that is not completed or that already has an invoice (not void).
    """
    org = work_order.organization
    with transaction.atomic():
        organization_write_lock(work_order.organization_id)
        wo = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
        if wo.status != Status.COMPLETED:
            raise ValidationError(_("Only a completed work order can be invoiced."))
        if Invoice.objects.filter(work_order=wo).exclude(status=InvoiceStatus.VOID).exists():
            raise ValidationError(_("This work order already has an invoice."))
        invoice = Invoice(organization=org, customer_id=wo.customer_id, work_order=wo,
                          currency=org.currency, created_by=by)
        invoice.save(force_insert=True)
        lines = _lines_from_work_order(wo, invoice)
        for position, line in enumerate(lines, start=1):
            line.position = position
            line.compute()
        InvoiceLine.objects.bulk_create(lines)
        result = totals(line.amounts() for line in lines)
        invoice.subtotal, invoice.tax_total = result.subtotal, result.tax
        invoice.save(update_fields=["subtotal", "tax_total"])
        audit_record(organization=org, actor=by, action="invoice.draft", obj=invoice,
                     changes={"work_order": [None, wo.pk], "lines": [None, len(lines)],
                              "total": [None, invoice.total]})
    return invoice


def _lines_from_work_order(wo: WorkOrder, invoice: Invoice) -> list[InvoiceLine]:
    org_id = wo.organization_id
    lines: list[InvoiceLine] = []

    def new_line(**kwargs: Any) -> InvoiceLine:
        return InvoiceLine(organization_id=org_id, invoice=invoice, **kwargs)

    quote = Quote.objects.filter(work_order=wo).first()
    if quote is not None:
        for q in quote.lines.filter(is_selected=True).order_by("position", "id"):
            lines.append(new_line(
                source=LineSource.QUOTE, source_id=q.pk, item_id=q.item_id,
                description=q.description, quantity=q.quantity, unit=q.unit,
                unit_price=q.unit_price, discount=q.discount, tax_rate=q.tax_rate))

    entries = list(TimelineEntry.objects.filter(work_order=wo,
                                                kind__in=[EntryKind.LABOR, EntryKind.PART])
                   .order_by("created_at", "id")
                   .only("id", "kind", "data", "body", "author_id", "visit_id", "created_at"))
    # A technician's corrected labor time replaces the earlier entry: bill it once.
    labor = labor_that_counts(entries)
    parts = [(e, entry_data(e)) for e in entries if e.kind == EntryKind.PART]

    if labor:
        labor_item = labor_item_for(wo.organization)
        member_ids = {entry_data(e).member_id for e in labor}
        members = {m.pk: m for m in Member.objects.filter(organization_id=org_id,
                                                          pk__in=member_ids)
                   .select_related("user")}
        rates = dict(MemberRate.objects.filter(organization_id=org_id, member_id__in=member_ids)
                     .values_list("member_id", "hourly_rate"))
        unpriced: dict[int | None, str] = {}
        for entry in labor:
            minutes, member_id = entry_data(entry).minutes, entry_data(entry).member_id
            if minutes <= 0:
                continue
            member = members.get(member_id)
            text = entry.body.strip()
            who = member.name if member else ""
            description = " — ".join(p for p in (labor_item.name, who, text) if p)[:500]
            rate = rates.get(member_id, labor_item.unit_price)
            if member_id not in rates and not labor_item.unit_price:
                unpriced[member_id] = who or _("a former member")
                continue
            lines.append(new_line(
                source=LineSource.LABOR, source_id=entry.pk, item=labor_item,
                description=description, quantity=_hours(minutes), unit=labor_item.unit,
                unit_price=rate, tax_rate=labor_item.tax_rate))
        if unpriced:
            raise ValidationError(
                _("Labor would be billed at 0.00: %(names)s has no hourly rate and the default "
                  "labor rate is not set. Set the labor rate, then make the invoice again.")
                % {"names": ", ".join(sorted(unpriced.values()))}, code="labor_rate_missing")

    if parts:
        item_ids = {part.price_book_item_id for _e, part in parts} - {None}
        names = {part.name.lower() for _e, part in parts if part.is_free_text}
        query = Q(pk__in=item_ids)
        if names:
            query |= Q(code__in=[n.upper() for n in names]) | Q(name__in=[
                part.name for _e, part in parts])
        items = list(PriceBookItem.objects.filter(query, organization_id=org_id))
        by_id = {i.pk: i for i in items}
        by_name: dict[str, PriceBookItem] = {}
        for item in items:
            by_name.setdefault(item.code.lower(), item)
            by_name.setdefault(item.name.lower(), item)
        for entry, part in parts:
            item = by_id.get(part.price_book_item_id or 0)
            if item is None:
                item = by_name.get(part.name.lower())
            description = item.name if item else part.name
            lines.append(new_line(
                source=LineSource.PART, source_id=entry.pk, item=item,
                description=description[:500], quantity=part.quantity.quantize(FOUR_PLACES),
                unit=(part.unit or (item.unit if item else ""))[:20],
                unit_price=item.unit_price if item else ZERO,
                tax_rate=item.tax_rate if item else ZERO))
    return lines


def invoice_update(*, invoice: Invoice, by: Member | None, **changes: Any) -> Invoice:
    allowed = {"notes", "due_date"}
    if set(changes) - allowed:
        raise TypeError(f"Not editable: {', '.join(sorted(set(changes) - allowed))}")
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _require_invoice_editable(locked)
        before = snapshot(locked, changes)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*changes, "updated_at"])
        changed = diff(before, snapshot(locked, changes))
        if changed:
            audit_record(organization=locked.organization, actor=by, action="invoice.update",
                         obj=locked, changes=changed)
    return locked


def invoice_line_add(*, invoice: Invoice, by: Member | None, **values: Any) -> InvoiceLine:
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _require_invoice_editable(locked)
        line = InvoiceLine(organization_id=locked.organization_id, invoice=locked,
                           position=_next_position(locked))
        return _line_insert(locked, line, values, by=by, action="invoice.line_add")


def invoice_line_update(*, line: InvoiceLine, by: Member | None, **values: Any) -> InvoiceLine:
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=line.invoice_id)
        _require_invoice_editable(invoice)
        before = _line_snapshot(line)
        _fill_line(line, invoice.organization, dict(values))
        _line_save(invoice, line, before, by=by, action="invoice.line_update")
    return line


def invoice_line_remove(*, line: InvoiceLine, by: Member | None) -> None:
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=line.invoice_id)
        _require_invoice_editable(invoice)
        _line_delete(invoice, line, by=by, action="invoice.line_remove")


def invoice_issue(*, invoice: Invoice, by: Member | None,
                  issue_date: dt.date | None = None,
                  zero_lines_confirmed: Iterable[int] = ()) -> Invoice:
    """Number the invoice (INV-1001, … per organization), lock it, and move its work order to
    invoiced through ``work_order_invoice``.

    A line at 0.00 is usually a price not yet set, sometimes work done free of charge: the
    invoice is issued only when every such line's id is in ``zero_lines_confirmed`` (the page
    asks, naming them), so a line that turned up at 0.00 after the question is asked again."""
    from crewline.workorders.services import work_order_invoice

    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _require_invoice_editable(locked)
        if not locked.lines.exists():
            raise ValidationError(_("Add at least one line before issuing the invoice."))
        zero_lines = selectors.invoice_zero_lines(locked)
        unconfirmed = [line for line in zero_lines if line.pk not in set(zero_lines_confirmed)]
        if unconfirmed:
            names = ", ".join(f"“{line.description}”" for line in unconfirmed)
            raise ValidationError(
                ngettext("%(lines)s is at 0.00. Set its price, or confirm that it is free of "
                         "charge, before issuing.",
                         "%(lines)s are at 0.00. Set their prices, or confirm that they are "
                         "free of charge, before issuing.", len(unconfirmed))
                % {"lines": names}, code="zero_lines")
        settings = billing_settings_for(locked.organization)
        locked.issue_date = issue_date or timezone.localdate()
        if locked.due_date is None or locked.due_date < locked.issue_date:
            locked.due_date = locked.issue_date + dt.timedelta(days=settings.payment_terms_days)
        locked.number = _take_number(locked.organization, "next_invoice_number")
        locked.status = InvoiceStatus.ISSUED
        _retotal(locked)
        locked.save(update_fields=["issue_date", "due_date", "number", "status", "updated_at"])
        if locked.work_order_id and locked.work_order.status == Status.COMPLETED:
            work_order_invoice(work_order=locked.work_order, by=by)
        audit_record(organization=locked.organization, actor=by, action="invoice.issue",
                     obj=locked, changes={"status": [InvoiceStatus.DRAFT, locked.status],
                                          "number": [None, locked.number],
                                          "total": [None, locked.total],
                                          **({"free_of_charge": [None, [
                                              line.description for line in zero_lines]]}
                                             if zero_lines else {})})
    return locked


def invoice_mark_paid(*, invoice: Invoice, by: Member | None, paid_on: dt.date, method: str,
                      reference: str = "") -> Invoice:
    if method not in PaymentMethod.values:
        raise ValidationError({"method": _("Choose how it was paid.")})
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status != InvoiceStatus.ISSUED:
            raise ValidationError(_("Only an issued invoice can be marked paid."))
        if locked.issue_date and paid_on < locked.issue_date:
            raise ValidationError({"paid_on": _("The payment date is before the issue date.")})
        locked.status = InvoiceStatus.PAID
        locked.paid_on = paid_on
        locked.payment_method = method
        locked.payment_reference = reference.strip()[:100]
        locked.save(update_fields=["status", "paid_on", "payment_method", "payment_reference",
                                   "updated_at"])
        audit_record(organization=locked.organization, actor=by, action="invoice.paid",
                     obj=locked, changes={"status": [InvoiceStatus.ISSUED, locked.status],
                                          "paid_on": [None, paid_on],
                                          "method": [None, method]})
    return locked


def invoice_void(*, invoice: Invoice, by: Member | None, reason: str) -> Invoice:
    """Void a draft or issued invoice; its number stays used. The work order stays invoiced."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for voiding the invoice.")})
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status not in (InvoiceStatus.DRAFT, InvoiceStatus.ISSUED):
            raise ValidationError(_("A paid or void invoice cannot be voided."))
        before = locked.status
        locked.status = InvoiceStatus.VOID
        locked.void_reason = reason[:500]
        locked.save(update_fields=["status", "void_reason", "updated_at"])
        audit_record(organization=locked.organization, actor=by, action="invoice.void",
                     obj=locked, changes={"status": [before, locked.status],
                                          "reason": [None, reason[:500]]})
    return locked


def invoice_send(*, invoice: Invoice, by: Member | None, to: str) -> Invoice:
    from crewline.billing.tasks import send_invoice_email

    to = (to or "").strip()
    if not to:
        raise ValidationError({"to": _("Give an email address to send the invoice to.")})
    if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PAID):
        raise ValidationError(_("Issue the invoice before sending it."))
    with transaction.atomic():
        audit_record(organization=invoice.organization, actor=by, action="invoice.send",
                     obj=invoice, changes={"to": [None, to]})
        invoice_id = invoice.pk
        transaction.on_commit(lambda: send_invoice_email.enqueue(invoice_id, to))
    return invoice
