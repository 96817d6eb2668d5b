"""Invoices: the draft made from a completed work order, its lines, issuing, payment, voiding
and sending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crewline.billing import selectors
from crewline.billing.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineSource,
    MemberRate,
    PaymentMethod,
    PriceBookItem,
    Quote,
)
from crewline.billing.money import ZERO, totals
from crewline.billing.services.billing_settings import _take_number, billing_settings_for
from crewline.billing.services.lines import (
    _fill_line,
    _line_delete,
    _line_insert,
    _line_save,
    _line_snapshot,
    _next_position,
    _retotal,
)
from crewline.billing.services.price_book import labor_item_for
from crewline.core.audit import audit_record, diff, organization_write_lock, snapshot
from crewline.core.models import Member
from crewline.live.models import ChangeKind
from crewline.live.services import change_record
from crewline.workorders.models import EntryKind, Status, TimelineEntry, WorkOrder
from crewline.workorders.selectors import labor_that_counts
from crewline.workorders.timeline import entry_data

FOUR_PLACES = Decimal("0.0001")


def _invoice_changed(invoice: Invoice, event: str) -> None:
    """Log the invoice's lifecycle event (the change feed, webhooks) in its transaction."""
    change_record(organization_id=invoice.organization_id, kind=ChangeKind.INVOICE,
                  object_id=invoice.pk, event=event)


def _require_invoice_editable(invoice: Invoice) -> None:
    if not invoice.is_editable:
        raise ValidationError(_("An issued invoice is locked; void it and draft a new one to "
                                "change it."), code="state")


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
            raise ValidationError(_("Only a completed work order can be invoiced."), code="state")
        if Invoice.objects.filter(work_order=wo).exclude(status=InvoiceStatus.VOID).exists():
            raise ValidationError(_("This work order already has an invoice."), code="state")
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
        _invoice_changed(invoice, "invoice.drafted")
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
            raise ValidationError(_("Add at least one line before issuing the invoice."),
                                  code="state")
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
        _invoice_changed(locked, "invoice.issued")
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
            raise ValidationError(_("Only an issued invoice can be marked paid."), code="state")
        if locked.issue_date and paid_on < locked.issue_date:
            raise ValidationError({"paid_on": _("The payment date is before the issue date.")})
        locked.status = InvoiceStatus.PAID
        locked.paid_on = paid_on
        locked.payment_method = method
        locked.payment_reference = reference.strip()[:100]
        locked.save(update_fields=["status", "paid_on", "payment_method", "payment_reference",
                                   "updated_at"])
        _invoice_changed(locked, "invoice.paid")
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
            raise ValidationError(_("A paid or void invoice cannot be voided."), code="state")
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
        raise ValidationError(_("Issue the invoice before sending it."), code="state")
    with transaction.atomic():
        audit_record(organization=invoice.organization, actor=by, action="invoice.send",
                     obj=invoice, changes={"to": [None, to]})
        invoice_id = invoice.pk
        transaction.on_commit(lambda: send_invoice_email.enqueue(invoice_id, to))
    return invoice
