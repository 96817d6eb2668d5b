"""Reading uploaded CSV files, shared by the importers (customers, price book).

The generic part only: size limit, decoding (UTF-8 with or without BOM), the delimiter (comma
or semicolon), header names normalised to column keys, rows as ``{column: value}`` numbered as
a spreadsheet shows them, per-row errors and the preview result kept between requests. Which
columns are required and what a valid row is stays with each importer.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why, in the user's words."""


@dataclass
class RowError:
    """A problem with one cell: the row as a spreadsheet numbers it, the column, what is wrong,
    and for the preview the cell's value as written and what the row is about (a customer's
    name), so that the problem can be found in the file."""

    row: int
    column: str
    message: str
    value: str = ""
    label: str = ""


@dataclass
class ParseResult:
    """Valid rows and the errors of the others, as shown on the preview.

    Subclasses set ``row_class`` (built from JSON with ``row_class(**data)``) and may override
    ``row_to_json`` when a row's values are not plain JSON.
    """

    row_class: ClassVar[type]

    rows: list[Any] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    @staticmethod
    def row_to_json(row: Any) -> dict[str, Any]:
        return asdict(row)

    def to_json(self) -> dict[str, Any]:
        return {"rows": [self.row_to_json(r) for r in self.rows],
                "errors": [asdict(e) for e in self.errors],
                "total_rows": self.total_rows, "ignored_columns": self.ignored_columns}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParseResult:
        return cls(rows=[cls.row_class(**r) for r in data["rows"]],
                   errors=[RowError(**e) for e in data["errors"]],
                   total_rows=data["total_rows"], ignored_columns=data["ignored_columns"])


def normalise_header(name: str, aliases: Mapping[str, str] | None = None) -> str:
    """``" Unit Price "`` → ``"unit_price"``, then through ``aliases``."""
    key = re.sub(r"[\s\-]+", "_", (name or "").strip().lower())
    return (aliases or {}).get(key, key)


def decode_csv(data: bytes) -> str:
    """The uploaded bytes as text (UTF-8, with or without BOM); ``ImportFileError`` if not."""
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if b"\x00" in data[:4096]:
        raise ImportFileError(_("This does not look like a CSV file. Save your spreadsheet as "
                                "“CSV UTF-8” and upload that."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("The file is not UTF-8 text. Save your spreadsheet as "
                                "“CSV UTF-8” and upload that.")) from exc


def csv_delimiter(text: str) -> str:
    """Semicolon when the header has more of them than commas (European spreadsheets)."""
    first_line = text.split("\n", 1)[0]
    return ";" if first_line.count(";") > first_line.count(",") else ","


@dataclass
class CsvTable:
    """An opened CSV file: its header as written, the normalised column keys and the columns
    that are not ``known`` (ignored). ``rows()`` reads the rest of the file."""

    header: list[str]
    columns: list[str]
    known: Sequence[str]
    _reader: Iterator[list[str]]

    @property
    def ignored(self) -> list[str]:
        return [h for h, c in zip(self.header, self.columns, strict=True)
                if c not in self.known]

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """``(row number, values)`` for each non-blank row, the header being row 1. Every
        known column is in ``values`` (empty when missing); cells are stripped and the first
        non-empty cell of a repeated column wins. A broken file raises ``ImportFileError``."""
        try:
            for number, record in enumerate(self._reader, start=2):
                if not any(cell.strip() for cell in record):
                    continue
                values = dict.fromkeys(self.known, "")
                for column, cell in zip(self.columns, record, strict=False):
                    if column in values and not values[column]:
                        values[column] = cell.strip()
                yield number, values
        except csv.Error as exc:
            raise ImportFileError(_("The file could not be read as CSV: %(error)s")
                                  % {"error": exc}) from exc


def open_csv(data: bytes, *, columns: Sequence[str],
             aliases: Mapping[str, str] | None = None) -> CsvTable:
    """Check the size, decode, find the delimiter and read the header of an uploaded file.
    Raises ``ImportFileError`` when the file as a whole cannot be read."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFileError(_("The file is larger than 5 MB. Split it into smaller files."))
    text = decode_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ImportFileError(_("The file is empty.")) from exc
    return CsvTable(header=header, columns=[normalise_header(h, aliases) for h in header],
                    known=columns, _reader=reader)


class Echo:
    """A file-like object for ``csv.writer`` that hands each written line back, for
    streaming responses."""

    def write(self, value: str) -> str:
        return value
