"""Writes to the price book and the labor rates (the LABOR item's price and each member's).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crewline.billing.models import ItemKind, MemberRate, PriceBookItem
from crewline.billing.money import ZERO
from crewline.core.audit import audit_record, diff, snapshot
from crewline.core.models import Member, Organization
from crewline.live.models import ChangeKind
from crewline.live.services import change_record

ITEM_FIELDS = ("code", "name", "description", "kind", "unit", "unit_price", "unit_cost",
               "tax_rate", "is_active")
LABOR_CODE = "LABOR"


def _clean_item(item: PriceBookItem) -> None:
    item.code = item.code.strip()
    item.name = item.name.strip()
    item.full_clean(exclude=["organization"], validate_constraints=False)
    clash = (PriceBookItem.objects.filter(organization_id=item.organization_id,
                                          code__iexact=item.code).exclude(pk=item.pk))
    if clash.exists():
        raise ValidationError({"code": ValidationError(
            _("Another item already has the code %(code)s.") % {"code": item.code},
            code="state")})


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
