"""Scaling photos and signatures down for documents, once per timeline entry.

A phone photo is 3–12 MP; a report prints it a few centimetres wide. Decoding the full image on
every render would cost ~50 ms a photo, so each is scaled once to ``MAX_SIDE`` and kept as a
``Rendition`` (made when the photo arrives, or on the first render that needs it).
"""

from __future__ import annotations

import io
import logging

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from crewline.documents.models import Rendition
from crewline.workorders.models import EntryKind, TimelineEntry

logger = logging.getLogger(__name__)

MAX_SIDE = 1200
JPEG_QUALITY = 82
RENDERED_KINDS = (EntryKind.PHOTO, EntryKind.SIGNATURE)


def scale_image(data: bytes | io.BufferedIOBase, *, max_side: int = MAX_SIDE,
                keep_alpha: bool = False) -> tuple[bytes, str, int, int]:
    """The image scaled to fit ``max_side``: ``(bytes, extension, width, height)``.

    Photos become JPEG, upright by their EXIF orientation. With ``keep_alpha`` (signatures,
    logos) an image with transparency stays a PNG so it sits cleanly on the page.
    Raises ``ValueError`` when the data is not an image Pillow can read.
    """
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        with Image.open(source) as image:
            # JPEG can decode straight at 1/2, 1/4 or 1/8 size: far faster than full size.
            image.draft("RGB", (max_side, max_side))
            image = ImageOps.exif_transpose(image)
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
            out = io.BytesIO()
            has_alpha = image.mode in ("RGBA", "LA", "PA") or (
                image.mode == "P" and "transparency" in image.info)
            if keep_alpha and has_alpha:
                image.save(out, "PNG", optimize=False)
                ext = "png"
            else:
                if image.mode != "RGB":
                    image = _flatten(image)
                image.save(out, "JPEG", quality=JPEG_QUALITY)
                ext = "jpg"
            return out.getvalue(), ext, image.width, image.height
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not a readable image: {exc}") from exc


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: transparent parts of a PNG would otherwise turn black in a JPEG."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def rendition_for(entry: TimelineEntry) -> Rendition | None:
    """The entry's rendition, made now if it has none; None when the file is unreadable."""
    try:
        return entry.rendition  # loaded with the entry by select_related("rendition")
    except Rendition.DoesNotExist:
        pass
    try:
        with entry.attachment.open("rb") as handle:
            data, ext, width, height = scale_image(
                handle.read(), keep_alpha=entry.kind == EntryKind.SIGNATURE)
    except (ValueError, FileNotFoundError) as exc:
        logger.warning("Cannot scale timeline entry %s for documents: %s", entry.pk, exc)
        return None
    rendition = Rendition(organization_id=entry.organization_id, entry=entry, width=width,
                          height=height)
    rendition.file.save(f"entry-{entry.pk}.{ext}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            rendition.save(force_insert=True)
    except IntegrityError:
        # Made at the same moment by another process (the upload's task and a render).
        rendition.file.delete(save=False)
        return Rendition.objects.get(entry=entry)
    return rendition
