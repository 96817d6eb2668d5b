"""``crewline media-to-s3``: copy the files an install kept on its disk into its bucket.

Run it once with ``MEDIA_STORAGE=s3`` and the ``AWS_*`` variables set, before the web and
worker processes start on the bucket (and again after, to catch what the old ones wrote
meanwhile). Every file a row refers to (photos, signatures, job reports, attachments, logos,
uploads, the scaled copies for reports) is copied under the same name, so no row changes.
Running it again copies only what is not there yet, or not at the same size; it never deletes
anything, on either side.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import models

from crewline.core.files import signs_urls


def stored_names() -> Iterator[str]:
    """Every file name the database refers to, once each, in a stable order per field."""
    seen: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.FileField):
                continue
            names = (model._default_manager.exclude(**{field.attname: ""})
                     .exclude(**{f"{field.attname}__isnull": True})
                     .order_by("pk").values_list(field.attname, flat=True))
            for name in names.iterator(chunk_size=2000):
                if name not in seen:
                    seen.add(name)
                    yield name


class Command(BaseCommand):
    help = ("Copy the files kept under MEDIA_ROOT (or --source) to the S3-compatible bucket that "
            "MEDIA_STORAGE=s3 names, under the same names; idempotent.")

    def add_arguments(self, parser):
        parser.add_argument("--source", metavar="PATH",
                            help="the folder the files are in (default: MEDIA_ROOT)")
        parser.add_argument("--dry-run", action="store_true",
                            help="say what would be copied, copy nothing")

    def handle(self, *args, source: str | None, dry_run: bool, **options):
        if not signs_urls(default_storage):
            raise CommandError(
                "The files' storage is not a bucket: set MEDIA_STORAGE=s3 and the AWS_* "
                "variables (see the README's Deploying section), then run this again.")
        folder = Path(source or settings.MEDIA_ROOT)
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        local = FileSystemStorage(location=folder)
        copied = present = replaced = 0
        missing: list[str] = []
        for name in stored_names():
            if not local.exists(name):
                missing.append(name)
                continue
            size = local.size(name)
            there = default_storage.exists(name)
            if there and default_storage.size(name) == size:
                present += 1
                continue
            if dry_run:
                self.stdout.write(f"would copy {name} ({size} bytes)")
            else:
                if there:
                    # Not the same file (a copy cut off half-way): the local one is the truth.
                    default_storage.delete(name)
                with local.open(name, "rb") as handle:
                    saved = default_storage.save(name, handle)
                if saved != name:  # pragma: no cover - only if another writer raced us
                    raise CommandError(f"{name} was stored as {saved}; run the command again.")
            if there:
                replaced += 1
            else:
                copied += 1
        verb = "would copy" if dry_run else "copied"
        self.stdout.write(f"{verb} {copied}, {'would replace' if dry_run else 'replaced'} "
                          f"{replaced} of another size, {present} already in the bucket, "
                          f"{len(missing)} missing from {folder}")
        for name in missing:
            self.stderr.write(f"missing: {name}")
