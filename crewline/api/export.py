"""Everything of an organization in one zip, so a contractor can leave with all their data:
one JSON Lines file per table (``<app>.<model>.jsonl``, a row a line, columns by their names,
many-to-many links as lists of ids), every stored file under ``files/`` by its stored name,
and ``manifest.json`` (when, by whom, rows per table, files, any missing).

Every table with an ``organization`` is in it, and the organization and its members' users
(without passwords). Left out: secrets (API key and link hashes, phone sessions, push
subscriptions' keys) and a server's working state, not data (the change log, stored API
answers).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import zipfile
from collections.abc import Iterator
from typing import IO

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from crewline.core.audit import audit_record
from crewline.core.models import Member, Organization, User

FORMAT = 1
CHUNK = 2000
# Tables that are a server's working state rather than the organization's data.
SKIPPED = {"live.change", "api.idempotentrequest"}
# Columns that are secrets, by name in any table, and per table.
SECRET_COLUMNS = {"password", "token_hash", "session_key", "p256dh", "auth", "endpoint",
                  "secret", "secret_hash"}
SECRET_BY_TABLE = {"api.apikey": {"hash"}}


def _tables() -> list[type[models.Model]]:
    """Every model with an ``organization``, in a fixed order (by label)."""
    found = []
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in SKIPPED or model._meta.proxy:
            continue
        field = next((f for f in model._meta.concrete_fields
                      if f.name == "organization" and f.is_relation
                      and f.related_model is Organization), None)
        if field is not None:
            found.append(model)
    return sorted(found, key=lambda m: m._meta.label_lower)


def _columns(model: type[models.Model]) -> list[models.Field]:
    secret = SECRET_COLUMNS | SECRET_BY_TABLE.get(model._meta.label_lower, set())
    return [f for f in model._meta.concrete_fields if f.name not in secret
            and f.attname not in secret]


def _value(field: models.Field, obj: models.Model):
    value = field.value_from_object(obj)
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, memoryview | bytes):
        return None
    return value


def _rows(model: type[models.Model], qs) -> Iterator[tuple[dict, list[str]]]:
    """Each row as a dict of its columns (and many-to-many id lists), with its files."""
    columns = _columns(model)
    files = [f for f in columns if isinstance(f, models.FileField)]
    many = list(model._meta.many_to_many)
    if many:
        qs = qs.prefetch_related(*(f.name for f in many))
    for obj in qs.order_by("pk").iterator(chunk_size=CHUNK):
        row = {f.attname: _value(f, obj) for f in columns}
        for f in many:
            row[f.name] = sorted(o.pk for o in getattr(obj, f.name).all())
        yield row, [(f.storage, getattr(obj, f.attname).name) for f in files
                    if getattr(obj, f.attname)]


def _write_table(archive: zipfile.ZipFile, name: str, rows) -> tuple[int, list]:
    count, names = 0, []
    with archive.open(name, "w", force_zip64=True) as out:
        for row, files in rows:
            out.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False).encode())
            out.write(b"\n")
            count += 1
            names += files
    return count, names


def _copy_file(archive: zipfile.ZipFile, storage, name: str) -> bool:
    try:
        with storage.open(name, "rb") as source, \
                archive.open(f"files/{name}", "w", force_zip64=True) as target:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                target.write(chunk)
    except (FileNotFoundError, OSError):
        return False
    return True


def organization_export(*, organization: Organization, by: Member | None,
                        label: str = "") -> IO[bytes]:
    """Write the organization's zip to a temporary file and return it, at its start; audited
    (``organization.export``). ``label`` says who asked when ``by`` is None (an API key)."""
    with transaction.atomic():
        audit_record(organization=organization, actor=by, action="organization.export",
                     obj=organization, changes={"by": [None, label or None]})
    started = timezone.now()
    out = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the response, which closes it)
    counts: dict[str, int] = {}
    missing: list[str] = []
    stored = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        org_qs = Organization.objects.filter(pk=organization.pk)
        files_by_storage: list[tuple[object, str]] = []
        for model, qs in [(Organization, org_qs),
                          (User, User.objects.filter(memberships__organization=organization)
                           .distinct()),
                          *((m, m._default_manager.filter(organization=organization))
                            for m in _tables())]:
            name = f"{model._meta.label_lower}.jsonl"
            count, names = _write_table(archive, name, _rows(model, qs))
            counts[name] = count
            files_by_storage += names
        seen: set[str] = set()
        for storage, name in files_by_storage:
            if name in seen:
                continue
            seen.add(name)
            if _copy_file(archive, storage, name):
                stored += 1
            else:
                missing.append(name)
        manifest = {"format": FORMAT, "organization": {"id": organization.pk,
                                                       "name": organization.name},
                    "exported_at": started.isoformat(),
                    "finished_at": timezone.now().isoformat(),
                    "by": by.name if by is not None else label, "tables": counts,
                    "files": stored, "missing_files": missing}
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    out.seek(0)
    return out


def export_filename(organization: Organization, when: dt.datetime | None = None) -> str:
    when = timezone.localtime(when or timezone.now())
    return f"{organization.slug or 'crewline'}-export-{when:%Y-%m-%d-%H%M}.zip"
