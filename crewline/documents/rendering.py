"""Turning a Typst template and its data into a PDF.

The template is fixed code in ``crewline/documents/typst/``; everything a user typed reaches it
only as data in ``data.json``, which Typst reads with ``json()`` and shows as plain text, so no
name or note can ever be taken for Typst markup. Images are files next to it, named by us.

Only Typst's embedded fonts are used (Libertinus Serif, New Computer Modern, DejaVu Sans Mono):
the same PDF on every machine, accents and ß included, and no font scan on each render.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import tempfile
from pathlib import Path

import typst
from django.core.serializers.json import DjangoJSONEncoder

TEMPLATES = Path(__file__).resolve().parent / "typst"


class RenderError(RuntimeError):
    """The template could not be compiled; the message holds Typst's diagnostic."""


@functools.cache
def embedded_fonts() -> typst.Fonts:
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=True)


def render_pdf(template: str, data: dict, files: dict[str, bytes] | None = None, *,
               timestamp: dt.datetime | None = None) -> bytes:
    """Compile ``typst/<template>`` with ``data`` (as ``data.json``) and ``files`` beside it.

    ``files`` maps relative paths (``photos/1.jpg``) to their bytes; the data refers to them by
    those paths. ``timestamp`` is the document's creation time in the PDF's metadata.
    """
    with tempfile.TemporaryDirectory(prefix="crewline-typst-") as tmp:
        root = Path(tmp)
        for source in TEMPLATES.glob("*.typ"):
            shutil.copyfile(source, root / source.name)
        (root / "data.json").write_text(json.dumps(data, cls=DjangoJSONEncoder,
                                                   ensure_ascii=False), encoding="utf-8")
        for name, content in (files or {}).items():
            path = (root / name).resolve()
            if root.resolve() not in path.parents:
                raise ValueError(f"File name outside the document: {name}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        try:
            return typst.compile(str(root / template), root=str(root), format="pdf",
                                 font_paths=embedded_fonts(), ignore_system_fonts=True,
                                 timestamp=int(timestamp.timestamp()) if timestamp else None)
        except typst.TypstError as exc:
            raise RenderError(f"{exc.message}\n{exc.diagnostic}") from exc
