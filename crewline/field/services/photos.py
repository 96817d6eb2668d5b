"""Photos sent ahead of the mutation that uses them: checked, turned into JPEG, kept once per
client id."""

from __future__ import annotations

import hashlib
import io
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crewline.core.audit import organization_write_lock
from crewline.core.models import Member
from crewline.field.models import (
    Upload,
)

MAX_PHOTO_BYTES = 8 * 1024 * 1024
# Photos are downscaled on the phone; anything larger than this on its long side is shrunk.
MAX_PHOTO_SIDE = 2560


# --- Photos ----------------------------------------------------------------------------------

def image_to_jpeg(content: bytes) -> bytes:
    """The photo as JPEG: JPEGs are kept as sent, HEIC/PNG/WebP are converted (upright, RGB)
    and anything larger than ``MAX_PHOTO_SIDE`` is shrunk. Raises ValidationError when the
    bytes are not an image."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    _register_heif()
    if len(content) > MAX_PHOTO_BYTES:
        raise ValidationError(_("The photo is too large."), code="photo_too_large")
    try:
        with Image.open(io.BytesIO(content)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(content))
        if image.format == "JPEG" and max(image.size) <= MAX_PHOTO_SIDE:
            return content
        image = ImageOps.exif_transpose(image).convert("RGB")
        image.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85, optimize=True)
        return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(_("The photo could not be read."), code="not_an_image") from exc


_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def check_sha256(content: bytes, sha256: str) -> None:
    if hashlib.sha256(content).hexdigest() != (sha256 or "").lower():
        raise ValidationError(_("The photo arrived damaged (its checksum does not match)."),
                              code="checksum")


def upload_store(*, member: Member, client_id: uuid.UUID, content: bytes,
                 sha256: str) -> Upload:
    """Keep a photo sent ahead of its ``photo_add`` mutation; idempotent by ``client_id``.

    The checksum is of the bytes as sent; they are stored as JPEG (see ``image_to_jpeg``).
    Sending a different photo under a used ``client_id`` raises ValidationError.
    """
    existing = Upload.objects.filter(organization_id=member.organization_id,
                                     client_id=client_id).first()
    if existing is not None:
        if existing.sha256 != sha256.lower() or existing.member_id != member.pk:
            raise ValidationError(_("This upload id is already used by another photo."),
                                  code="client_id_taken")
        return existing
    check_sha256(content, sha256)
    jpeg = image_to_jpeg(content)
    upload = Upload(organization_id=member.organization_id, client_id=client_id,
                    member=member, content_type="image/jpeg", size=len(jpeg),
                    sha256=sha256.lower())
    # The file first, outside the transaction, so the organization's lock is held only for the
    # insert.
    upload.file.save(f"{client_id.hex}.jpg", ContentFile(jpeg), save=False)
    try:
        with transaction.atomic():
            # Locks in the order of every other write (see organization_write_lock): the
            # insert's foreign keys are checked under this lock, not against a push holding it.
            organization_write_lock(member.organization_id)
            upload.save(force_insert=True)
    except IntegrityError:
        upload.file.delete(save=False)  # sent twice at once: the other copy is the answer
        return Upload.objects.get(organization_id=member.organization_id, client_id=client_id)
    except BaseException:
        upload.file.delete(save=False)  # nothing refers to it; a retry stores it again
        raise
    return upload
