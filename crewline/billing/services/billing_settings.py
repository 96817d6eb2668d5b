"""The organization's billing settings and its quote and invoice numbers.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crewline.billing.models import BillingSettings, tax_rate_key
from crewline.billing.services.lines import _decimal
from crewline.core.audit import audit_record, diff, snapshot
from crewline.core.models import Member, Organization


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
