"""Writes to customers, contacts, sites and equipment.

Every service validates with ``full_clean`` (raising ``ValidationError`` keyed by field) and
records an audit entry with before/after values in the same transaction as the change.
Rows are archived, never deleted: work orders and the audit log keep pointing at them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core.audit import audit_record, diff, snapshot
from crewline.core.models import Member, Organization
from crewline.customers.models import Contact, Customer, CustomerKind, Equipment, Site
from crewline.live.models import ChangeKind, Tombstone
from crewline.live.services import change_record

CUSTOMER_FIELDS = ("name", "kind", "email", "phone", "billing_address", "notes", "external_ref",
                   "language")
CONTACT_FIELDS = ("name", "role", "email", "phone", "is_primary")
SITE_FIELDS = ("name", "address_line1", "address_line2", "city", "region", "postal_code",
               "country", "latitude", "longitude", "access_notes", "time_zone")
EQUIPMENT_FIELDS = ("name", "manufacturer", "model", "serial_number", "installed_on", "notes")

_TEXT_FIELDS = {
    "name", "email", "phone", "billing_address", "notes", "external_ref", "role",
    "address_line1", "address_line2", "city", "region", "postal_code", "country",
    "access_notes", "manufacturer", "model", "serial_number",
}


def _clean_value(name: str, value: Any) -> Any:
    if name in _TEXT_FIELDS:
        value = "" if value is None else str(value).strip()
        if name == "email":
            value = value.lower()
        if name == "country":
            value = value.upper()
    return value


def _check_same_org(organization_id: int, by: Member | None) -> None:
    if by is not None and by.organization_id != organization_id:
        raise ValidationError(_("You are not a member of this organization."))


def _check_unknown(allowed: tuple[str, ...], fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise TypeError(f"Unknown or read-only fields: {', '.join(unknown)}")


def _check_coordinates(site: Site) -> None:
    if (site.latitude is None) != (site.longitude is None):
        missing = "longitude" if site.longitude is None else "latitude"
        raise ValidationError(
            {missing: _("Give both latitude and longitude, or neither.")}, code="coordinates")


def _changed(instance: models.Model, what: str = "updated") -> None:
    """Log the change (the phones show customers, their contacts, sites and equipment).
    ``what``: created, updated or archived; a customer or site archived is a tombstone in the
    change feed, a contact or equipment archived an update of its customer or site."""
    model, kind, object_id = {
        Customer: (Customer, ChangeKind.CUSTOMER, instance.pk),
        Contact: (Customer, ChangeKind.CUSTOMER, getattr(instance, "customer_id", None)),
        Site: (Site, ChangeKind.SITE, instance.pk),
        Equipment: (Site, ChangeKind.SITE, getattr(instance, "site_id", None)),
    }[type(instance)]
    event = ""
    if kind == ChangeKind.CUSTOMER:
        event = f"customer.{what}" if isinstance(instance, Customer) else "customer.updated"
    if type(instance) is model and what != "updated":
        archived = what == "archived"
    else:
        # The tombstone is the state the change leaves: an archived customer edited (or its
        # contact) stays archived. Read from the row, not the caller's object, which may
        # predate another's archiving that an update of some fields keeps.
        archived = (model.objects.filter(pk=object_id)
                    .values_list("archived_at", flat=True).first()) is not None
    change_record(organization_id=instance.organization_id, kind=kind, object_id=object_id,
                  event=event, tombstone=Tombstone.ARCHIVED if archived else "")


def _create(instance: models.Model, fields: tuple[str, ...], *, organization: Organization,
            by: Member | None, action: str) -> Any:
    with transaction.atomic():
        instance.save(force_insert=True)
        _changed(instance, "created")
        audit_record(organization=organization, actor=by, action=action, obj=instance,
                     changes=diff({}, snapshot(instance, fields)))
    return instance


def _update(instance: models.Model, allowed: tuple[str, ...], fields: dict[str, Any], *,
            by: Member | None, action: str, validate=None) -> Any:
    _check_unknown(allowed, fields)
    _check_same_org(instance.organization_id, by)
    before = snapshot(instance, allowed)
    for name, value in fields.items():
        setattr(instance, name, _clean_value(name, value))
    try:
        instance.full_clean(exclude=["organization"])
        if validate is not None:
            validate(instance)
    except ValidationError:
        # Leave the caller's object as it was stored.
        for name, value in before.items():
            setattr(instance, name, instance._meta.get_field(name).to_python(value))
        raise
    after = snapshot(instance, allowed)
    changes = diff(before, after)
    if not changes:
        return instance
    with transaction.atomic():
        instance.save(update_fields=[*changes, "updated_at"])
        _changed(instance)
        audit_record(organization=instance.organization, actor=by, action=action, obj=instance,
                     changes=changes)
    return instance


def _set_archived(instance: models.Model, *, archived: bool, by: Member | None,
                  action: str) -> Any:
    _check_same_org(instance.organization_id, by)
    if instance.is_archived == archived:
        return instance
    before = instance.archived_at
    with transaction.atomic():
        instance.archived_at = timezone.now() if archived else None
        instance.save(update_fields=["archived_at", "updated_at"])
        _changed(instance, "archived" if archived else "updated")
        audit_record(organization=instance.organization, actor=by, action=action, obj=instance,
                     changes={"archived_at": [before, instance.archived_at]})
    return instance


# Customers ---------------------------------------------------------------------------------

def customer_create(*, organization: Organization, by: Member | None, name: str,
                    kind: str = CustomerKind.RESIDENTIAL, email: str = "", phone: str = "",
                    billing_address: str = "", notes: str = "",
                    external_ref: str = "", language: str = "") -> Customer:
    """Create a customer in ``organization``; ``language`` ("" = the site's default) is the
    one their emails and documents are written in."""
    _check_same_org(organization.pk, by)
    _check_language(language)
    values = {"name": name, "kind": kind, "email": email, "phone": phone,
              "billing_address": billing_address, "notes": notes,
              "external_ref": external_ref, "language": language}
    customer = Customer(organization=organization,
                        **{k: _clean_value(k, v) for k, v in values.items()})
    customer.full_clean(exclude=["organization"])
    return _create(customer, CUSTOMER_FIELDS, organization=organization, by=by,
                   action="customer.create")


def _check_language(language: str) -> None:
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose a valid language.")})


def customer_update(*, customer: Customer, by: Member | None, **fields: Any) -> Customer:
    """Change any of ``CUSTOMER_FIELDS``; records only what changed."""
    if "language" in fields:
        _check_language(fields["language"])
    return _update(customer, CUSTOMER_FIELDS, fields, by=by, action="customer.update")


def customer_archive(*, customer: Customer, by: Member | None) -> Customer:
    """Hide the customer from lists and pickers; its history stays."""
    return _set_archived(customer, archived=True, by=by, action="customer.archive")


def customer_unarchive(*, customer: Customer, by: Member | None) -> Customer:
    return _set_archived(customer, archived=False, by=by, action="customer.unarchive")


# Contacts ----------------------------------------------------------------------------------

def _clear_other_primaries(contact: Contact, by: Member | None) -> None:
    others = list(Contact.objects.select_for_update()
                  .filter(customer_id=contact.customer_id, is_primary=True)
                  .exclude(pk=contact.pk))
    for other in others:
        other.is_primary = False
        other.save(update_fields=["is_primary", "updated_at"])
        audit_record(organization=contact.organization, actor=by, action="contact.update",
                     obj=other, changes={"is_primary": [True, False]})


def contact_create(*, customer: Customer, by: Member | None, name: str, role: str = "",
                   email: str = "", phone: str = "", is_primary: bool = False) -> Contact:
    """Add a contact to ``customer``; a primary contact takes over from the previous one."""
    _check_same_org(customer.organization_id, by)
    values = {"name": name, "role": role, "email": email, "phone": phone}
    contact = Contact(organization_id=customer.organization_id, customer=customer,
                      is_primary=bool(is_primary),
                      **{k: _clean_value(k, v) for k, v in values.items()})
    contact.full_clean(exclude=["organization", "customer"])
    with transaction.atomic():
        _create(contact, CONTACT_FIELDS, organization=customer.organization, by=by,
                action="contact.create")
        if contact.is_primary:
            _clear_other_primaries(contact, by)
    return contact


def contact_update(*, contact: Contact, by: Member | None, **fields: Any) -> Contact:
    with transaction.atomic():
        _update(contact, CONTACT_FIELDS, fields, by=by, action="contact.update")
        if fields.get("is_primary"):
            _clear_other_primaries(contact, by)
    return contact


def contact_archive(*, contact: Contact, by: Member | None) -> Contact:
    """Archive the contact; an archived contact is no longer primary."""
    with transaction.atomic():
        if contact.is_primary and not contact.is_archived:
            _update(contact, CONTACT_FIELDS, {"is_primary": False}, by=by,
                    action="contact.update")
        return _set_archived(contact, archived=True, by=by, action="contact.archive")


# Sites -------------------------------------------------------------------------------------

def coordinate(name: str, value: Any) -> Decimal | None:
    """A latitude or longitude as stored (6 places), None if empty; ValidationError if bad."""
    if value is None or value == "":
        return None
    try:
        number = Site._meta.get_field(name).to_python(value)
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from exc
    # GPS tools give more digits than the column keeps; 6 places is about 10 cm.
    return number.quantize(Decimal("0.000001")) if number.is_finite() else number


def site_create(*, customer: Customer, by: Member | None, address_line1: str, city: str,
                name: str = "", address_line2: str = "", region: str = "",
                postal_code: str = "", country: str = "",
                latitude: Decimal | float | str | None = None,
                longitude: Decimal | float | str | None = None,
                access_notes: str = "", time_zone: str = "") -> Site:
    """Add a service location to ``customer``. Latitude and longitude: both or neither."""
    _check_same_org(customer.organization_id, by)
    values = {"name": name, "address_line1": address_line1, "address_line2": address_line2,
              "city": city, "region": region, "postal_code": postal_code, "country": country,
              "access_notes": access_notes, "time_zone": time_zone}
    site = Site(organization_id=customer.organization_id, customer=customer,
                latitude=coordinate("latitude", latitude),
                longitude=coordinate("longitude", longitude),
                **{k: _clean_value(k, v) for k, v in values.items()})
    site.full_clean(exclude=["organization", "customer"])
    _check_coordinates(site)
    return _create(site, SITE_FIELDS, organization=customer.organization, by=by,
                   action="site.create")


def site_update(*, site: Site, by: Member | None, **fields: Any) -> Site:
    for coord in ("latitude", "longitude"):
        if coord in fields:
            fields[coord] = coordinate(coord, fields[coord])
    return _update(site, SITE_FIELDS, fields, by=by, action="site.update",
                   validate=_check_coordinates)


def site_geocode(*, site: Site, by: Member | None = None) -> bool:
    """Give a site without a map position the one the geocoder finds for its address (see
    ``crewline.customers.geocoding``); audited as an update. Whether it has one now."""
    from crewline.customers.geocoding import geocode

    if site.has_coordinates:
        return True
    found = geocode(site.one_line_address, country=site.country)
    if found is None:
        return False
    site_update(site=site, by=by, latitude=round(found[0], 6), longitude=round(found[1], 6))
    return True


def site_archive(*, site: Site, by: Member | None) -> Site:
    return _set_archived(site, archived=True, by=by, action="site.archive")


# Equipment ---------------------------------------------------------------------------------

def equipment_create(*, site: Site, by: Member | None, name: str, manufacturer: str = "",
                     model: str = "", serial_number: str = "",
                     installed_on: dt.date | None = None, notes: str = "") -> Equipment:
    """Record a piece of equipment at ``site``."""
    _check_same_org(site.organization_id, by)
    values = {"name": name, "manufacturer": manufacturer, "model": model,
              "serial_number": serial_number, "notes": notes}
    equipment = Equipment(organization_id=site.organization_id, site=site,
                          installed_on=installed_on,
                          **{k: _clean_value(k, v) for k, v in values.items()})
    equipment.full_clean(exclude=["organization", "site"])
    return _create(equipment, EQUIPMENT_FIELDS, organization=site.organization, by=by,
                   action="equipment.create")


def equipment_update(*, equipment: Equipment, by: Member | None, **fields: Any) -> Equipment:
    return _update(equipment, EQUIPMENT_FIELDS, fields, by=by, action="equipment.update")


def equipment_archive(*, equipment: Equipment, by: Member | None) -> Equipment:
    return _set_archived(equipment, archived=True, by=by, action="equipment.archive")
