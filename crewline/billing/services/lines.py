"""Lines of quotes and invoices alike: filling a line from its values or a price book item,
saving, removing and re-totalling the document, each recorded in the audit log.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crewline.billing.models import Invoice, InvoiceLine, Quote, QuoteLine
from crewline.billing.money import totals
from crewline.core.audit import audit_record, diff, snapshot
from crewline.core.models import Member, Organization

LINE_FIELDS = ("item", "description", "quantity", "unit", "unit_price", "discount", "tax_rate")


def _check_scope(organization: Organization, **objects) -> None:
    for label, obj in objects.items():
        if obj is not None and obj.organization_id != organization.pk:
            raise ValidationError({label: _("Not found in this organization.")})



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
