"""CSV import and export of the price book.

Reads files like the customer import, through ``crewline.core.csvimport`` (UTF-8 with or
without BOM, comma or semicolon, errors per row and column, a preview before anything is
written). A row whose code already exists updates that item; a new code creates one, so
importing an export changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from crewline.billing import services
from crewline.billing.models import ItemKind, PriceBookItem
from crewline.core.csvimport import Echo, ImportFileError, RowError, open_csv
from crewline.core.csvimport import ParseResult as BaseParseResult
from crewline.core.models import Member, Organization

COLUMNS = ("code", "name", "description", "kind", "unit", "unit_price", "unit_cost",
           "tax_rate", "active")
REQUIRED = ("code", "name", "unit_price")
MAX_ROWS = 5000

__all__ = ["ImportFileError", "RowError", "parse_csv", "apply_import", "export_rows"]


@dataclass
class ParsedItem:
    row: int
    values: dict[str, Any]
    existing_id: int | None = None


@dataclass
class ParseResult(BaseParseResult):
    row_class = ParsedItem
    rows: list[ParsedItem] = field(default_factory=list)

    @property
    def new_count(self) -> int:
        return sum(1 for r in self.rows if r.existing_id is None)

    @property
    def update_count(self) -> int:
        return sum(1 for r in self.rows if r.existing_id is not None)

    @staticmethod
    def row_to_json(row: ParsedItem) -> dict[str, Any]:
        return {"row": row.row, "values": {k: str(v) for k, v in row.values.items()},
                "existing_id": row.existing_id}


HEADER_ALIASES = {"price": "unit_price", "cost": "unit_cost", "tax": "tax_rate", "type": "kind",
                  "is_active": "active", "sku": "code"}


def _decimal(value: str, column: str, row: int, errors: list[RowError],
             maximum: Decimal | None = None) -> Decimal | None:
    text = value.strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    text = text.replace(",", "").rstrip("%")
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors.append(RowError(row, column, _("“%(value)s” is not a number.")
                               % {"value": value}))
        return None
    if not number.is_finite() or number < 0:
        errors.append(RowError(row, column, _("%(column)s cannot be negative.")
                               % {"column": column}))
        return None
    if maximum is not None and number > maximum:
        errors.append(RowError(row, column, _("%(column)s must be at most %(max)s.")
                               % {"column": column, "max": maximum}))
        return None
    if number.as_tuple().exponent < -4 or number >= Decimal("1e8"):
        errors.append(RowError(row, column, _("“%(value)s” has too many digits.")
                               % {"value": value}))
        return None
    return number


def _kind(value: str) -> str | None:
    wanted = value.strip().lower() or ItemKind.SERVICE
    for choice in ItemKind:
        if wanted in (choice.value, str(choice.label).lower()):
            return choice.value
    return None


def _active(value: str) -> bool | None:
    wanted = value.strip().lower()
    if wanted in ("", "1", "yes", "y", "true", "active"):
        return True
    if wanted in ("0", "no", "n", "false", "inactive"):
        return False
    return None


def parse_csv(data: bytes, *, organization: Organization) -> ParseResult:
    """Read and check an uploaded price list; nothing is written. Raises ``ImportFileError``
    when the file as a whole cannot be read."""
    table = open_csv(data, columns=COLUMNS, aliases=HEADER_ALIASES)
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ImportFileError(_("The first row must name the columns; missing: %(columns)s. "
                                "Download the template to see them.")
                              % {"columns": ", ".join(missing)})
    result = ParseResult(ignored_columns=table.ignored)
    existing = {code.lower(): pk for pk, code in PriceBookItem.objects.filter(
        organization=organization).values_list("pk", "code")}
    seen: dict[str, int] = {}
    for number, raw in table.rows():
        result.total_rows += 1
        if result.total_rows > MAX_ROWS:
            raise ImportFileError(_("The file has more than %(n)d rows. Split it.")
                                  % {"n": MAX_ROWS})
        errors: list[RowError] = []
        values = _row_values(number, raw, errors)
        code = raw["code"].lower()
        if code and code in seen:
            errors.append(RowError(number, "code", _("Code %(code)s is also on row %(other)d.")
                                   % {"code": raw["code"], "other": seen[code]}))
        if code:
            seen.setdefault(code, number)
        if errors:
            result.errors += errors
        else:
            result.rows.append(ParsedItem(number, values, existing.get(code)))
    if not result.total_rows:
        raise ImportFileError(_("The file has a header but no rows."))
    return result


def _row_values(number: int, raw: dict[str, str], errors: list[RowError]) -> dict[str, Any]:
    for column in ("code", "name"):
        if not raw[column]:
            errors.append(RowError(number, column, _("Missing %(column)s.")
                                   % {"column": column}))
    if len(raw["code"]) > 40:
        errors.append(RowError(number, "code", _("Keep the code under 40 characters.")))
    if len(raw["name"]) > 200:
        errors.append(RowError(number, "name", _("Keep the name under 200 characters.")))
    if len(raw["unit"]) > 20:
        errors.append(RowError(number, "unit", _("Keep the unit under 20 characters.")))
    price = (_decimal(raw["unit_price"], "unit_price", number, errors) if raw["unit_price"]
             else errors.append(RowError(number, "unit_price", _("Missing unit_price."))))
    cost = _decimal(raw["unit_cost"], "unit_cost", number, errors) if raw["unit_cost"] else \
        Decimal(0)
    tax = _decimal(raw["tax_rate"], "tax_rate", number, errors, Decimal(100)) \
        if raw["tax_rate"] else Decimal(0)
    kind = _kind(raw["kind"])
    if kind is None:
        errors.append(RowError(number, "kind", _("Unknown kind “%(value)s”: use service or "
                                                 "material.") % {"value": raw["kind"]}))
    active = _active(raw["active"])
    if active is None:
        errors.append(RowError(number, "active", _("Write yes or no.")))
    return {"code": raw["code"], "name": raw["name"], "description": raw["description"],
            "kind": kind, "unit": raw["unit"] or "each", "unit_price": price,
            "unit_cost": cost, "tax_rate": tax, "is_active": active}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0


def apply_import(*, organization: Organization, by: Member | None,
                 rows: list[ParsedItem]) -> ImportResult:
    """Create or update the items of valid rows in one transaction, through the services.
    Codes are matched again here, so what changed since the preview is taken into account."""
    result = ImportResult()
    with transaction.atomic():
        existing = {item.code.lower(): item for item in
                    PriceBookItem.objects.filter(organization=organization)}
        for row in rows:
            values = dict(row.values)
            for name in ("unit_price", "unit_cost", "tax_rate"):
                values[name] = Decimal(str(values[name]))
            values["is_active"] = values["is_active"] in (True, "True")
            item = existing.get(values["code"].lower())
            try:
                if item is None:
                    existing[values["code"].lower()] = services.price_item_create(
                        organization=organization, by=by, **values)
                    result.created += 1
                else:
                    changes = {k: v for k, v in values.items() if getattr(item, k) != v}
                    if changes:
                        services.price_item_update(item=item, by=by, **changes)
                        result.updated += 1
            except ValidationError as exc:
                raise ValidationError(_("Row %(row)d: %(error)s") % {
                    "row": row.row, "error": "; ".join(exc.messages)}) from exc
    return result


def template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(["SVC-CALL", "Service call", "First hour on site", "service", "visit",
                     "95.00", "0", "0", "yes"])
    writer.writerow(["FLT-16x25", "Air filter 16x25x1", "", "material", "each", "12.50",
                     "4.10", "8.25", "yes"])
    return out.getvalue()


def export_rows(items: QuerySet[PriceBookItem]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(COLUMNS)
    for item in items.order_by("code", "id").iterator(chunk_size=500):
        yield writer.writerow([item.code, item.name, item.description, item.kind, item.unit,
                               f"{item.unit_price.normalize():f}",
                               f"{item.unit_cost.normalize():f}",
                               f"{item.tax_rate.normalize():f}",
                               "yes" if item.is_active else "no"])
