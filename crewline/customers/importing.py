"""CSV import and export of customers with their sites and contacts.

One row per site. Rows with the same ``external_ref`` (or, without one, the same customer name,
case-insensitively) belong to one customer. Importing is idempotent: a row whose customer
already exists adds to it, and a site (same address and city) or contact (same name) that the
customer already has is skipped, so importing the same file twice changes nothing the second
time, and an export imports back cleanly.

The import is two steps: ``parse_csv`` + ``plan_import`` for the preview (nothing written),
then ``apply_import`` in one transaction through the services. Rows with errors are skipped;
the valid rows are imported.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from crewline.core.csvimport import (
    MAX_UPLOAD_BYTES,
    Echo,
    ImportFileError,
    RowError,
    csv_delimiter,
    decode_csv,
    open_csv,
)
from crewline.core.csvimport import ParseResult as BaseParseResult
from crewline.core.models import Member, Organization
from crewline.customers import services
from crewline.customers.models import Contact, Customer, CustomerKind, Site

__all__ = ["MAX_UPLOAD_BYTES", "ImportFileError", "RowError", "csv_delimiter", "decode_csv",
           "parse_csv", "plan_import", "apply_import", "export_rows", "template_csv"]

COLUMNS = (
    "customer_name", "customer_type", "email", "phone", "billing_address", "external_ref",
    "contact_name", "contact_email", "contact_phone",
    "site_name", "address_line1", "address_line2", "city", "region", "postal_code", "country",
    "latitude", "longitude", "access_notes",
)
CUSTOMER_COLUMNS = {"customer_name": "name", "customer_type": "kind", "email": "email",
                    "phone": "phone", "billing_address": "billing_address",
                    "external_ref": "external_ref"}
CONTACT_COLUMNS = {"contact_name": "name", "contact_email": "email", "contact_phone": "phone"}
SITE_COLUMNS = {"site_name": "name", "address_line1": "address_line1",
                "address_line2": "address_line2", "city": "city", "region": "region",
                "postal_code": "postal_code", "country": "country", "latitude": "latitude",
                "longitude": "longitude", "access_notes": "access_notes"}
COLUMN_HELP = {
    "customer_name": _lazy("Required. Rows with the same name (or external_ref) are one customer."),
    "customer_type": _lazy("residential or commercial; empty means residential."),
    "email": _lazy("The customer's email address."),
    "phone": _lazy("The customer's phone number."),
    "billing_address": _lazy("Where invoices go."),
    "external_ref": _lazy("Your own id for the customer (accounting system, old spreadsheet)."),
    "contact_name": _lazy("A person to call. Needed if contact_email or contact_phone is given."),
    "contact_email": _lazy("The contact's email address."),
    "contact_phone": _lazy("The contact's phone number."),
    "site_name": _lazy("For example: Main office, Warehouse 2. Optional."),
    "address_line1": _lazy("Street address of the site. Required when the row has a site."),
    "address_line2": _lazy("Suite, floor, unit."),
    "city": _lazy("Required when the row has a site."),
    "region": _lazy("State or region."),
    "postal_code": _lazy("ZIP or postal code."),
    "country": _lazy("Two-letter country code, for example US."),
    "latitude": _lazy("Decimal degrees, for example 41.878113. Give both or neither."),
    "longitude": _lazy("Decimal degrees, for example -87.629799."),
    "access_notes": _lazy("Gate codes, key safe, parking, pets, hazards."),
}
COLUMN_ALIASES = {"type": "customer_type", "kind": "customer_type", "name": "customer_name",
                  "customer": "customer_name", "address": "address_line1", "state": "region",
                  "zip": "postal_code", "lat": "latitude", "lng": "longitude",
                  "lon": "longitude"}


@dataclass
class ImportRow:
    """One valid row, normalised: values keyed by CSV column."""

    row: int
    values: dict[str, str]

    @property
    def has_site(self) -> bool:
        return any(self.values.get(c) for c in SITE_COLUMNS)

    @property
    def has_contact(self) -> bool:
        return bool(self.values.get("contact_name"))


@dataclass
class ParseResult(BaseParseResult):
    row_class = ImportRow
    rows: list[ImportRow] = field(default_factory=list)


# Reading -----------------------------------------------------------------------------------

def read_rows(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[str]]:
    """Header columns, ``(row number, values)`` pairs and ignored column names.

    Row numbers are as a spreadsheet shows them: the header is row 1.
    """
    table = open_csv(data, columns=COLUMNS, aliases=COLUMN_ALIASES)
    if "customer_name" not in table.columns:
        raise ImportFileError(_("The first row must name the columns, and one of them must be "
                                "customer_name. Download the template to see the columns."))
    return table.columns, list(table.rows()), table.ignored


# Validating --------------------------------------------------------------------------------

def _kind(value: str) -> str | None:
    if not value:
        return CustomerKind.RESIDENTIAL
    wanted = value.strip().lower()
    for choice in CustomerKind:
        if wanted in (choice.value, str(choice.label).lower()):
            return choice.value
    return None


def _model_errors(instance, mapping: dict[str, str], row: int,
                  exclude: list[str]) -> list[RowError]:
    reverse = {model: column for column, model in mapping.items()}
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return [RowError(row, reverse.get(name, name), " ".join(messages))
                for name, messages in exc.message_dict.items()]
    return []


def validate_row(number: int, values: dict[str, str]) -> list[RowError]:
    """The problems with one row, one per column; empty if it can be imported."""
    errors: list[RowError] = []
    kind = _kind(values["customer_type"])
    if kind is None:
        errors.append(RowError(number, "customer_type",
                               _("Unknown type “%(value)s”: use residential or commercial.")
                               % {"value": values["customer_type"]}))
    customer = Customer(**{m: values[c] for c, m in CUSTOMER_COLUMNS.items() if m != "kind"},
                        kind=kind or CustomerKind.RESIDENTIAL)
    customer_errors = _model_errors(customer, CUSTOMER_COLUMNS, number, ["organization"])
    for error in customer_errors:
        if error.column == "customer_name" and not values["customer_name"]:
            error.message = _("Missing customer name.")
    errors += customer_errors

    if any(values[c] for c in CONTACT_COLUMNS):
        if not values["contact_name"]:
            errors.append(RowError(number, "contact_name",
                                   _("Missing contact name (the row has a contact email or "
                                     "phone).")))
        else:
            contact = Contact(**{m: values[c] for c, m in CONTACT_COLUMNS.items()})
            errors += _model_errors(contact, CONTACT_COLUMNS, number,
                                    ["organization", "customer"])

    if any(values[c] for c in SITE_COLUMNS):
        site_values: dict[str, Any] = {m: values[c] for c, m in SITE_COLUMNS.items()}
        bad_coordinate = False
        for coord in ("latitude", "longitude"):
            try:
                site_values[coord] = services.coordinate(coord, values[coord].replace(",", "."))
            except ValidationError:
                bad_coordinate = True
                site_values[coord] = None
                errors.append(RowError(number, coord, _("Bad %(column)s “%(value)s”: give a "
                                                        "number in decimal degrees.")
                                       % {"column": coord, "value": values[coord]}))
        site = Site(**site_values)
        site_errors = _model_errors(site, SITE_COLUMNS, number, ["organization", "customer"])
        for error in site_errors:
            if error.column in ("address_line1", "city") and not values[error.column]:
                error.message = _("Missing %(column)s (the row has a site).") % {
                    "column": error.column}
            elif error.column in ("latitude", "longitude"):
                error.message = _("Bad %(column)s “%(value)s”: %(problem)s") % {
                    "column": error.column, "value": values[error.column],
                    "problem": error.message}
        errors += site_errors
        if not bad_coordinate and bool(values["latitude"]) != bool(values["longitude"]):
            missing = "longitude" if values["latitude"] else "latitude"
            errors.append(RowError(number, missing,
                                   _("Give both latitude and longitude, or neither.")))
    for error in errors:
        error.value = values.get(error.column, "")
        error.label = values.get("customer_name", "")
    return errors


def _normalise(values: dict[str, str]) -> dict[str, str]:
    values = dict(values)
    values["customer_type"] = _kind(values["customer_type"]) or CustomerKind.RESIDENTIAL
    for column in ("email", "contact_email"):
        values[column] = values[column].lower()
    values["country"] = values["country"].upper()
    for coord in ("latitude", "longitude"):
        values[coord] = values[coord].replace(",", ".")
    return values


def parse_csv(data: bytes) -> ParseResult:
    """Read and check an uploaded file. Raises ``ImportFileError`` if it cannot be read."""
    _columns, rows, ignored = read_rows(data)
    result = ParseResult(total_rows=len(rows), ignored_columns=ignored)
    if not rows:
        raise ImportFileError(_("The file has a header but no rows."))
    for number, values in rows:
        errors = validate_row(number, values)
        if errors:
            result.errors += errors
        else:
            result.rows.append(ImportRow(number, _normalise(values)))
    return result


# Planning and applying ---------------------------------------------------------------------

def _site_key(values: dict[str, str]) -> tuple[str, str]:
    return (values["address_line1"].lower(), values["city"].lower())


def _contact_key(name: str) -> str:
    return name.strip().lower()


@dataclass
class PlannedCustomer:
    name: str
    existing: Customer | None
    rows: list[int] = field(default_factory=list)
    new_sites: list[str] = field(default_factory=list)
    new_contacts: list[str] = field(default_factory=list)
    skipped_sites: int = 0
    skipped_contacts: int = 0


@dataclass
class Plan:
    customers: list[PlannedCustomer]

    @property
    def new_customers(self) -> int:
        return sum(1 for c in self.customers if c.existing is None)

    @property
    def matched_customers(self) -> int:
        return sum(1 for c in self.customers if c.existing is not None)

    @property
    def new_sites(self) -> int:
        return sum(len(c.new_sites) for c in self.customers)

    @property
    def new_contacts(self) -> int:
        return sum(len(c.new_contacts) for c in self.customers)

    @property
    def skipped(self) -> int:
        return sum(c.skipped_sites + c.skipped_contacts for c in self.customers)

    @property
    def changes_anything(self) -> bool:
        return bool(self.new_customers or self.new_sites or self.new_contacts)


def _customer_keys(rows: list[ImportRow]) -> dict[int, str]:
    """Each row's group key: its external_ref, or the external_ref another row gives the same
    name, or else the name (case-insensitively)."""
    ref_for_name: dict[str, str] = {}
    for row in rows:
        if row.values["external_ref"]:
            ref_for_name.setdefault(row.values["customer_name"].lower(),
                                    row.values["external_ref"])
    keys = {}
    for row in rows:
        ref = row.values["external_ref"] or ref_for_name.get(row.values["customer_name"].lower())
        keys[row.row] = f"ref:{ref}" if ref else f"name:{row.values['customer_name'].lower()}"
    return keys


def _find_existing(organization: Organization, rows: list[ImportRow],
                   keys: dict[int, str]) -> dict[str, Customer]:
    """Existing customers for the rows' keys: by external_ref, else by name (case-insensitive)
    among customers without a different external_ref. Active customers win over archived."""
    refs = {r.values["external_ref"] for r in rows if r.values["external_ref"]}
    names = {r.values["customer_name"].lower() for r in rows}
    candidates = (Customer.objects.filter(organization=organization)
                  .prefetch_related("sites", "contacts"))
    by_ref = list(candidates.filter(external_ref__in=refs)) if refs else []
    by_name = list(candidates.annotate(lname=Lower("name"))
                   .filter(lname__in=names, external_ref__in=["", *refs]))

    def active_first(customer: Customer) -> tuple[bool, int]:
        return (customer.archived_at is not None, customer.pk)

    found_ref: dict[str, Customer] = {}
    for customer in sorted(by_ref, key=active_first):
        found_ref.setdefault(customer.external_ref, customer)
    found_name: dict[str, Customer] = {}
    for customer in sorted(by_name, key=active_first):
        found_name.setdefault(customer.name.lower(), customer)
    found: dict[str, Customer] = {}
    for row in rows:
        key = keys[row.row]
        if key in found:
            continue
        match = None
        if key.startswith("ref:"):
            match = found_ref.get(key[4:])
        if match is None:
            by = found_name.get(row.values["customer_name"].lower())
            if by is not None and (not by.external_ref or key == f"ref:{by.external_ref}"):
                match = by
        if match is not None:
            found[key] = match
    return found


def _group(organization: Organization, rows: list[ImportRow]
           ) -> list[tuple[PlannedCustomer, list[ImportRow]]]:
    keys = _customer_keys(rows)
    existing = _find_existing(organization, rows, keys)
    groups: dict[str, tuple[PlannedCustomer, list[ImportRow], set, set]] = {}
    for row in rows:
        key = keys[row.row]
        if key not in groups:
            customer = existing.get(key)
            sites = ({_site_key({"address_line1": s.address_line1, "city": s.city})
                      for s in customer.sites.all()} if customer else set())
            contacts = ({_contact_key(c.name) for c in customer.contacts.all()}
                        if customer else set())
            groups[key] = (PlannedCustomer(row.values["customer_name"], customer), [],
                           sites, contacts)
        planned, group_rows, sites, contacts = groups[key]
        planned.rows.append(row.row)
        group_rows.append(row)
        if row.has_site:
            site_key = _site_key(row.values)
            if site_key in sites:
                planned.skipped_sites += 1
            else:
                sites.add(site_key)
                planned.new_sites.append(", ".join(
                    p for p in (row.values["site_name"], row.values["address_line1"],
                                row.values["city"]) if p))
        if row.has_contact:
            contact_key = _contact_key(row.values["contact_name"])
            if contact_key in contacts:
                planned.skipped_contacts += 1
            else:
                contacts.add(contact_key)
                planned.new_contacts.append(row.values["contact_name"])
    return [(planned, group_rows) for planned, group_rows, _s, _c in groups.values()]


def plan_import(*, organization: Organization, rows: list[ImportRow]) -> Plan:
    """What ``apply_import`` would do now, without writing anything."""
    return Plan([planned for planned, _rows in _group(organization, rows)])


@dataclass
class ImportResult:
    customers: int = 0
    sites: int = 0
    contacts: int = 0


def apply_import(*, organization: Organization, by: Member | None,
                 rows: list[ImportRow]) -> ImportResult:
    """Create the customers, sites and contacts of valid ``rows`` in one transaction.

    The plan is recomputed here, so what changed since the preview is taken into account.
    A failure rolls the whole import back.
    """
    result = ImportResult()
    with transaction.atomic():
        for planned, group_rows in _group(organization, rows):
            first = group_rows[0].values
            customer = planned.existing
            if customer is None:
                customer = services.customer_create(
                    organization=organization, by=by, name=first["customer_name"],
                    kind=first["customer_type"], email=first["email"], phone=first["phone"],
                    billing_address=first["billing_address"], external_ref=first["external_ref"])
                result.customers += 1
            sites_done = {_site_key({"address_line1": s.address_line1, "city": s.city})
                          for s in customer.sites.all()}
            contacts_done = {_contact_key(c.name) for c in customer.contacts.all()}
            has_primary = any(c.is_primary for c in customer.contacts.all())
            for row in group_rows:
                v = row.values
                if row.has_site and _site_key(v) not in sites_done:
                    services.site_create(
                        customer=customer, by=by, name=v["site_name"],
                        address_line1=v["address_line1"], address_line2=v["address_line2"],
                        city=v["city"], region=v["region"], postal_code=v["postal_code"],
                        country=v["country"], latitude=v["latitude"] or None,
                        longitude=v["longitude"] or None, access_notes=v["access_notes"])
                    sites_done.add(_site_key(v))
                    result.sites += 1
                if row.has_contact and _contact_key(v["contact_name"]) not in contacts_done:
                    services.contact_create(
                        customer=customer, by=by, name=v["contact_name"],
                        email=v["contact_email"], phone=v["contact_phone"],
                        is_primary=not has_primary)
                    has_primary = True
                    contacts_done.add(_contact_key(v["contact_name"]))
                    result.contacts += 1
    return result


# Keeping the upload between preview and confirm ---------------------------------------------

PENDING_MAX_AGE_SECONDS = 24 * 60 * 60
_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def _pending_folder(organization: Organization) -> str:
    # In the files' storage, not on this machine's disk: the preview and the confirmation may
    # be answered by two web processes on two machines.
    return f"imports/org-{organization.pk}"


def _pending_name(organization: Organization, token: str) -> str:
    return f"{_pending_folder(organization)}/{token}.json"


def pending_tokens(*, organization: Organization) -> list[str]:
    """The tokens of the organization's uploads kept for confirmation."""
    try:
        _folders, files = default_storage.listdir(_pending_folder(organization))
    except FileNotFoundError:
        return []
    return sorted(name.removesuffix(".json") for name in files if name.endswith(".json"))


def pending_save(*, organization: Organization, result: ParseResult) -> str:
    """Store a parsed upload under the organization's folder; returns its token."""
    token = uuid.uuid4().hex
    # Previews that were never confirmed or cancelled are dropped after a day.
    cutoff = timezone.now() - dt.timedelta(seconds=PENDING_MAX_AGE_SECONDS)
    for old in pending_tokens(organization=organization):
        name = _pending_name(organization, old)
        with contextlib.suppress(OSError):
            if default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
    default_storage.save(_pending_name(organization, token),
                         ContentFile(json.dumps(result.to_json()).encode()))
    return token


def pending_load(*, organization: Organization, token: str | None) -> ParseResult | None:
    if not token or not _TOKEN_RE.match(token):
        return None
    try:
        with default_storage.open(_pending_name(organization, token), "rb") as handle:
            return ParseResult.from_json(json.loads(handle.read().decode("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pending_discard(*, organization: Organization, token: str | None) -> None:
    if token and _TOKEN_RE.match(token):
        default_storage.delete(_pending_name(organization, token))


# Export ------------------------------------------------------------------------------------

def template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(["Maple Dental", "commercial", "office@mapledental.example", "555-0100",
                     "12 Maple Ave, Springfield IL 62701", "ACC-1001", "Dr. Rosa Diaz",
                     "rosa@mapledental.example", "555-0101", "Main clinic", "12 Maple Ave",
                     "Suite 200", "Springfield", "IL", "62701", "US", "39.781721", "-89.650148",
                     "Gate code 4412. Park at the back."])
    writer.writerow(["Maple Dental", "commercial", "", "", "", "ACC-1001", "", "", "",
                     "Warehouse", "400 Industrial Rd", "", "Springfield", "IL", "62703", "US",
                     "", "", "Ask for the key at reception."])
    writer.writerow(["John Smith", "residential", "john@example.com", "555-0199", "", "", "",
                     "", "", "", "88 Oak Street", "", "Springfield", "IL", "62704", "US", "", "",
                     "Dog in the yard."])
    return out.getvalue()


def export_rows(customers: QuerySet[Customer]) -> Iterator[str]:
    """CSV lines for ``customers``: one per active site (one with no site columns for a
    customer without sites), in the import's columns, with the primary contact."""
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(COLUMNS)
    customers = customers.prefetch_related("sites", "contacts").order_by("name", "id")
    for customer in _chunked(customers, 500):
        base = [customer.name, customer.kind, customer.email, customer.phone,
                customer.billing_address, customer.external_ref]
        contacts = [c for c in customer.contacts.all() if not c.is_archived]
        sites = [s for s in customer.sites.all() if not s.is_archived]
        contact_cells = [[c.name, c.email, c.phone] for c in contacts]
        lines = max(len(sites), len(contact_cells), 1)
        for i in range(lines):
            contact = contact_cells[i] if i < len(contact_cells) else ["", "", ""]
            site = sites[i] if i < len(sites) else None
            site_cells = ([site.name, site.address_line1, site.address_line2, site.city,
                           site.region, site.postal_code, site.country,
                           _decimal(site.latitude), _decimal(site.longitude), site.access_notes]
                          if site else [""] * 10)
            yield writer.writerow([*base, *contact, *site_cells])


def _decimal(value) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _chunked(queryset: QuerySet[Customer], size: int) -> Iterable[Customer]:
    # prefetch_related works per chunk with iterator(chunk_size=...).
    return queryset.iterator(chunk_size=size)
