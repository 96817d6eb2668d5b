"""Customers, their contacts and sites, and the equipment at a site (``read:customers``,
``write:customers``), written through ``crewline.customers.services``."""

from __future__ import annotations

from typing import Annotated, Literal

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Schema
from ninja import Status as Answer
from pydantic import AwareDatetime, ConfigDict, Field

from crewline.api import pagination, problems
from crewline.api.auth import need
from crewline.api.idempotency import idempotent
from crewline.api.routes.base import (
    ERRORS,
    WRITE_ERRORS,
    Day,
    Id,
    In,
    Limit,
    Text,
    _get,
    _member_of,
    _no_nul_in_document,
    _since,
    _url,
    _write,
    api,
    check_if_match,
    patch_values,
    with_etag,
)
from crewline.api.schemas import (
    ContactOut,
    ContactPage,
    CustomerOut,
    CustomerPage,
    EquipmentOut,
    EquipmentPage,
    SiteOut,
    SitePage,
)
from crewline.core import timezones
from crewline.customers import services as customers
from crewline.customers.models import Contact, Customer, CustomerKind, Equipment, Site

# Something besides spaces (the services strip text; Python's strip takes \x1c-\x1f too).
FILLED = r"^[^\x00]*[^\s\x1c-\x1f\x00][^\x00]*$"
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=FILLED)]
City = Annotated[str, Field(min_length=1, max_length=100, pattern=FILLED)]
Short = Annotated[str, Field(max_length=100)]
# An address Django's EmailValidator takes (or none), said exactly so in the document.
_ATOM = r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^(?:{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}})?$"
Email = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN)]
Phone = Annotated[str, Field(max_length=40)]
# A site's own time zone: one the site form offers, or empty for the organization's.
SiteZone = Literal[("", *timezones.canonical_zones())]  # type: ignore[valid-type]


def _customers(org) -> QuerySet[Customer]:
    """The organization's customers with their contacts and sites (each read in it too)."""
    return Customer.objects.filter(organization=org).prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.filter(organization=org).order_by("id")),
        Prefetch("sites", queryset=Site.objects.filter(organization=org).order_by("id")))


def _site(request: HttpRequest, s: Site) -> dict:
    return {"id": s.pk, "customer_id": s.customer_id, "name": s.name,
            "address_line1": s.address_line1, "address_line2": s.address_line2,
            "city": s.city, "region": s.region, "postal_code": s.postal_code,
            "country": s.country,
            "latitude": None if s.latitude is None else str(s.latitude),
            "longitude": None if s.longitude is None else str(s.longitude),
            "access_notes": s.access_notes, "time_zone": s.time_zone,
            "archived_at": s.archived_at,
            "updated_at": s.updated_at, "url": _url(request, "site_get", s.pk)}


def _contact(request: HttpRequest, k: Contact) -> dict:
    return {"id": k.pk, "customer_id": k.customer_id, "name": k.name, "role": k.role,
            "email": k.email, "phone": k.phone, "is_primary": k.is_primary,
            "archived_at": k.archived_at, "updated_at": k.updated_at,
            "url": _url(request, "contact_get", k.pk)}


def _equipment(request: HttpRequest, e: Equipment) -> dict:
    return {"id": e.pk, "site_id": e.site_id, "name": e.name, "manufacturer": e.manufacturer,
            "model": e.model, "serial_number": e.serial_number, "installed_on": e.installed_on,
            "notes": e.notes, "archived_at": e.archived_at, "created_at": e.created_at,
            "updated_at": e.updated_at, "url": _url(request, "equipment_get", e.pk)}


def _customer(request: HttpRequest, c: Customer) -> dict:
    return {"id": c.pk, "name": c.name, "kind": c.kind, "email": c.email, "phone": c.phone,
            "billing_address": c.billing_address, "notes": c.notes,
            "external_ref": c.external_ref, "archived_at": c.archived_at,
            "created_at": c.created_at, "updated_at": c.updated_at,
            "contacts": [_contact(request, k) for k in c.contacts.all()],
            "sites": [_site(request, s) for s in c.sites.all()],
            "url": _url(request, "customer_get", c.pk)}


class ListFilters(Schema):
    updated_since: AwareDatetime | None = Field(
        None, description="Only rows changed at or after this time; pages by (updated_at, id).")
    include_archived: bool = True
    cursor: pagination.Cursor | None = Field(None, description=pagination.CURSOR_HELP)
    limit: Limit = pagination.DEFAULT_LIMIT


def _page(request: HttpRequest, qs: QuerySet, filters: ListFilters, serialize) -> dict:
    since = _since(filters.updated_since)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    if not filters.include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=since is not None,
                                  serialize=lambda row: serialize(request, row))


# Customers ---------------------------------------------------------------------------------

@api.get("/customers", response={200: CustomerPage, **ERRORS}, url_name="customer_list",
         tags=["customers"], summary="List customers with their contacts and sites")
def customer_list(request: HttpRequest, filters: Query[ListFilters]):
    principal = need(request, "read:customers")
    return _page(request, _customers(principal.organization), filters,
                 _customer)


@api.get("/customers/{int:customer_id}", response={200: CustomerOut, 304: None, **ERRORS},
         url_name="customer_get", tags=["customers"], summary="A customer")
def customer_get(request: HttpRequest, customer_id: int, response: HttpResponse):
    principal = need(request, "read:customers")
    return with_etag(request, response, _customer(
        request, _get(_customers(principal.organization), principal.organization, customer_id)))


class CustomerIn(In):
    name: Name
    kind: CustomerKind = CustomerKind.RESIDENTIAL
    email: Email = ""
    phone: Phone = ""
    billing_address: Text = ""
    notes: Text = ""
    external_ref: Annotated[str, Field(max_length=80)] = ""


class CustomerPatch(In):
    name: Name = None
    kind: CustomerKind = None
    email: Email = None
    phone: Phone = None
    billing_address: Text = None
    notes: Text = None
    external_ref: Annotated[str, Field(max_length=80)] = None


@api.post("/customers", response={201: CustomerOut, **WRITE_ERRORS}, url_name="customer_create",
          tags=["customers"], summary="Add a customer")
@idempotent
def customer_create(request: HttpRequest, payload: CustomerIn, response: HttpResponse):
    with _write(request, "write:customers") as principal:
        customer = customers.customer_create(organization=principal.organization,
                                             by=_member_of(principal),
                                             **payload.model_dump())
    data = _customer(request, _get(_customers(principal.organization), principal.organization,
                                   customer.pk))
    return Answer(201, with_etag(request, response, data))


@api.patch("/customers/{int:customer_id}", response={200: CustomerOut, **WRITE_ERRORS},
           url_name="customer_update", tags=["customers"], summary="Change a customer")
@idempotent
def customer_update(request: HttpRequest, customer_id: int, payload: CustomerPatch,
                    response: HttpResponse):
    changes = patch_values(payload)
    with _write(request, "write:customers") as principal:
        org = principal.organization
        customer = _get(Customer.objects.all(), org, customer_id)
        check_if_match(request, org.pk, lambda: _customer(
            request, _get(_customers(org), org, customer_id)))
        if changes:
            customers.customer_update(customer=customer, by=_member_of(principal), **changes)
    return with_etag(request, response, _customer(request, _get(_customers(org), org, customer_id)))


# Contacts ----------------------------------------------------------------------------------

class ContactIn(In):
    name: Name
    role: Short = ""
    email: Email = ""
    phone: Phone = ""
    is_primary: bool = False


class ContactPatch(In):
    name: Name = None
    role: Short = None
    email: Email = None
    phone: Phone = None
    is_primary: bool = None


@api.get("/customers/{int:customer_id}/contacts", response={200: ContactPage, **ERRORS},
         url_name="contact_list", tags=["customers"], summary="A customer's contacts")
def contact_list(request: HttpRequest, customer_id: int, filters: Query[ListFilters]):
    principal = need(request, "read:customers")
    customer = _get(Customer.objects.all(), principal.organization, customer_id)
    return _page(request, Contact.objects.filter(organization=principal.organization,
                                                 customer=customer), filters, _contact)


@api.get("/contacts/{int:contact_id}", response={200: ContactOut, 304: None, **ERRORS},
         url_name="contact_get", tags=["customers"], summary="A contact")
def contact_get(request: HttpRequest, contact_id: int, response: HttpResponse):
    principal = need(request, "read:customers")
    return with_etag(request, response, _contact(
        request, _get(Contact.objects.all(), principal.organization, contact_id)))


@api.post("/customers/{int:customer_id}/contacts", response={201: ContactOut, **WRITE_ERRORS},
          url_name="contact_create", tags=["customers"], summary="Add a contact to a customer")
@idempotent
def contact_create(request: HttpRequest, customer_id: int, payload: ContactIn,
                   response: HttpResponse):
    with _write(request, "write:customers") as principal:
        customer = _get(Customer.objects.select_related("organization"),
                        principal.organization, customer_id)
        contact = customers.contact_create(customer=customer, by=_member_of(principal),
                                           **payload.model_dump())
    data = _contact(request, _get(Contact.objects.all(), principal.organization, contact.pk))
    return Answer(201, with_etag(request, response, data))


@api.patch("/contacts/{int:contact_id}", response={200: ContactOut, **WRITE_ERRORS},
           url_name="contact_update", tags=["customers"], summary="Change a contact")
@idempotent
def contact_update(request: HttpRequest, contact_id: int, payload: ContactPatch,
                   response: HttpResponse):
    changes = patch_values(payload)
    with _write(request, "write:customers") as principal:
        org = principal.organization
        contact = _get(Contact.objects.select_related("organization"), org, contact_id)
        check_if_match(request, org.pk, lambda: _contact(request, contact))
        if changes:
            customers.contact_update(contact=contact, by=_member_of(principal), **changes)
    return with_etag(request, response,
                     _contact(request, _get(Contact.objects.all(), org, contact_id)))


# Sites -------------------------------------------------------------------------------------

class SiteFilters(ListFilters):
    customer: Id | None = Field(None, description="A customer's id.")


# Decimal degrees within their range, as ``customers.coordinate`` takes them.
Latitude = Annotated[str | None, Field(
    max_length=20, pattern=r"^-?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?)$")]
Longitude = Annotated[str | None, Field(
    max_length=20, pattern=r"^-?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?)$")]


def _paired_coordinates(schema: dict) -> None:
    """Say in the document that a site has both coordinates or neither: a body that gives one
    as a number gives the other too (a PATCH that gives one alone keeps the site's other, so
    it must agree with it: a 409 otherwise)."""
    _no_nul_in_document(schema)

    def given(name: str) -> dict:
        return {"required": [name], "properties": {name: {"type": "string"}}}

    schema["allOf"] = [{"if": given("latitude"), "then": given("longitude")},
                       {"if": given("longitude"), "then": given("latitude")}]


class SiteIn(In):
    model_config = ConfigDict(json_schema_extra=_paired_coordinates)

    name: Short = ""
    address_line1: Name
    address_line2: Annotated[str, Field(max_length=200)] = ""
    city: City
    region: Short = ""
    postal_code: Annotated[str, Field(max_length=20)] = ""
    country: Annotated[str, Field(max_length=2)] = ""
    latitude: Latitude = Field(None, description="Decimal degrees as a string, e.g. "
                               "\"41.878113\"; with longitude or not at all.")
    longitude: Longitude = None
    access_notes: Text = ""
    time_zone: SiteZone = ""


class SitePatch(In):
    model_config = ConfigDict(json_schema_extra=_paired_coordinates)

    name: Short = None
    address_line1: Name = None
    address_line2: Annotated[str, Field(max_length=200)] = None
    city: City = None
    region: Short = None
    postal_code: Annotated[str, Field(max_length=20)] = None
    country: Annotated[str, Field(max_length=2)] = None
    latitude: Latitude = None
    longitude: Longitude = None
    access_notes: Text = None
    time_zone: SiteZone = None


@api.get("/sites", response={200: SitePage, **ERRORS}, url_name="site_list",
         tags=["customers"], summary="List sites")
def site_list(request: HttpRequest, filters: Query[SiteFilters]):
    principal = need(request, "read:customers")
    qs = Site.objects.filter(organization=principal.organization)
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    return _page(request, qs, filters, _site)


@api.get("/sites/{int:site_id}", response={200: SiteOut, 304: None, **ERRORS},
         url_name="site_get", tags=["customers"], summary="A site")
def site_get(request: HttpRequest, site_id: int, response: HttpResponse):
    principal = need(request, "read:customers")
    return with_etag(request, response,
                     _site(request, _get(Site.objects.all(), principal.organization, site_id)))


@api.post("/customers/{int:customer_id}/sites", response={201: SiteOut, **WRITE_ERRORS},
          url_name="site_create", tags=["customers"], summary="Add a site to a customer")
@idempotent
def site_create(request: HttpRequest, customer_id: int, payload: SiteIn,
                response: HttpResponse):
    with _write(request, "write:customers") as principal:
        customer = _get(Customer.objects.select_related("organization"),
                        principal.organization, customer_id)
        site = customers.site_create(customer=customer, by=_member_of(principal),
                                     **payload.model_dump())
    data = _site(request, _get(Site.objects.all(), principal.organization, site.pk))
    return Answer(201, with_etag(request, response, data))


@api.patch("/sites/{int:site_id}", response={200: SiteOut, **WRITE_ERRORS},
           url_name="site_update", tags=["customers"], summary="Change a site")
@idempotent
def site_update(request: HttpRequest, site_id: int, payload: SitePatch,
                response: HttpResponse):
    changes = patch_values(payload, nullable=("latitude", "longitude"))
    with _write(request, "write:customers") as principal:
        org = principal.organization
        site = _get(Site.objects.select_related("organization"), org, site_id)
        check_if_match(request, org.pk, lambda: _site(request, site))
        _check_lone_coordinate(site, changes)
        if changes:
            customers.site_update(site=site, by=_member_of(principal), **changes)
    return with_etag(request, response, _site(request, _get(Site.objects.all(), org, site_id)))


# Equipment ---------------------------------------------------------------------------------

class EquipmentFilters(ListFilters):
    site: Id | None = Field(None, description="A site's id.")


class EquipmentIn(In):
    name: Name
    manufacturer: Short = ""
    model: Short = ""
    serial_number: Short = ""
    installed_on: Day = None
    notes: Text = ""


class EquipmentPatch(In):
    name: Name = None
    manufacturer: Short = None
    model: Short = None
    serial_number: Short = None
    installed_on: Day = None
    notes: Text = None


@api.get("/equipment", response={200: EquipmentPage, **ERRORS}, url_name="equipment_list",
         tags=["customers"], summary="List equipment")
def equipment_list(request: HttpRequest, filters: Query[EquipmentFilters]):
    principal = need(request, "read:customers")
    qs = Equipment.objects.filter(organization=principal.organization)
    if filters.site is not None:
        qs = qs.filter(site_id=filters.site)
    return _page(request, qs, filters, _equipment)


@api.get("/equipment/{int:equipment_id}", response={200: EquipmentOut, 304: None, **ERRORS},
         url_name="equipment_get", tags=["customers"], summary="A piece of equipment")
def equipment_get(request: HttpRequest, equipment_id: int, response: HttpResponse):
    principal = need(request, "read:customers")
    return with_etag(request, response, _equipment(
        request, _get(Equipment.objects.all(), principal.organization, equipment_id)))


@api.post("/sites/{int:site_id}/equipment", response={201: EquipmentOut, **WRITE_ERRORS},
          url_name="equipment_create", tags=["customers"],
          summary="Record a piece of equipment at a site")
@idempotent
def equipment_create(request: HttpRequest, site_id: int, payload: EquipmentIn,
                     response: HttpResponse):
    with _write(request, "write:customers") as principal:
        site = _get(Site.objects.select_related("organization"), principal.organization,
                    site_id)
        equipment = customers.equipment_create(site=site, by=_member_of(principal),
                                               **payload.model_dump())
    data = _equipment(request, _get(Equipment.objects.all(), principal.organization,
                                    equipment.pk))
    return Answer(201, with_etag(request, response, data))


@api.patch("/equipment/{int:equipment_id}", response={200: EquipmentOut, **WRITE_ERRORS},
           url_name="equipment_update", tags=["customers"], summary="Change equipment")
@idempotent
def equipment_update(request: HttpRequest, equipment_id: int, payload: EquipmentPatch,
                     response: HttpResponse):
    changes = patch_values(payload, nullable=("installed_on",))
    with _write(request, "write:customers") as principal:
        org = principal.organization
        equipment = _get(Equipment.objects.select_related("organization"), org, equipment_id)
        check_if_match(request, org.pk, lambda: _equipment(request, equipment))
        if changes:
            customers.equipment_update(equipment=equipment, by=_member_of(principal),
                                       **changes)
    return with_etag(request, response,
                     _equipment(request, _get(Equipment.objects.all(), org, equipment_id)))



def _check_lone_coordinate(site: Site, changes: dict) -> None:
    """A PATCH that gives one coordinate alone keeps the site's other: one set while the other
    is not (or cleared while the other is) is refused for the site's state, 409."""
    given = [name for name in ("latitude", "longitude") if name in changes]
    if len(given) != 1:
        return
    name = given[0]
    other = "longitude" if name == "latitude" else "latitude"
    if (changes[name] is None) != (getattr(site, other) is None):
        message = _("Give both latitude and longitude, or neither.")
        raise problems.Problem(409, "conflict", message, title="Conflict",
                               errors=[{"field": name, "message": message,
                                        "code": "coordinates"}])
