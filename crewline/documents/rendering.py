"""Crewline's one way of turning a Typst template and its data into a PDF: job reports
(``typst/job_report.typ``), quotes and invoices (``billing/typst/document.typ``) alike.

The template is fixed code; everything a user typed reaches it only as data in ``data.json``,
which Typst reads with ``json()`` and shows as plain text, so no name or note can ever be taken
for Typst markup. Images are files next to it, named by us.

The file guard: each document is compiled in a folder of its own that holds the template, its
data and the files the document names, and nothing else; Typst's root is that folder, so a
template can read no other file, and a file name that would land outside it is refused.

Only Typst's embedded fonts are used (Libertinus Serif, New Computer Modern, DejaVu Sans Mono):
the same PDF on every machine, accents and ß included, and no font scan on each render. The
paper size is the organization's (``Organization.paper``), given to the template as
``sys.inputs.paper``.
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

from crewline.core.models import Paper

TEMPLATES = Path(__file__).resolve().parent / "typst"
DATA_FILE = "data.json"


class RenderError(RuntimeError):
    """The template could not be compiled; the message holds Typst's diagnostic."""


@functools.cache
def embedded_fonts() -> typst.Fonts:
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=True)


def guarded_path(root: Path, name: str) -> Path:
    """Where the document's file ``name`` goes in ``root``; refused (``ValueError``) unless it
    is a plain relative path inside it that is not the data or a template."""
    path = (root / name).resolve()
    if root.resolve() not in path.parents:
        raise ValueError(f"File name outside the document: {name}")
    if path.suffix == ".typ" or path == (root / DATA_FILE).resolve():
        raise ValueError(f"File name taken by the document itself: {name}")
    return path


def render_pdf(template: str | Path, data: dict, files: dict[str, bytes] | None = None, *,
               paper: str, timestamp: dt.datetime | None = None) -> bytes:
    """Compile ``template`` with ``data`` (as ``data.json``) and ``files`` beside it.

    ``template`` is a file name in ``documents/typst/`` or the path of a ``.typ`` file
    elsewhere; the ``.typ`` files of its folder come along (for ``#import``). ``files`` maps
    relative paths (``photos/1.jpg``) to their bytes; the data refers to them by those paths.
    ``paper`` is one of ``Paper`` (``us-letter``, ``a4``). ``timestamp`` is the document's
    creation time in the PDF's metadata.
    """
    if paper not in Paper.values:
        raise ValueError(f"Unknown paper size: {paper!r}")
    source = Path(template) if isinstance(template, Path) else TEMPLATES / template
    with tempfile.TemporaryDirectory(prefix="crewline-typst-") as tmp:
        root = Path(tmp)
        for typ in source.parent.glob("*.typ"):
            shutil.copyfile(typ, root / typ.name)
        (root / DATA_FILE).write_text(json.dumps(data, cls=DjangoJSONEncoder,
                                                 ensure_ascii=False), encoding="utf-8")
        for name, content in (files or {}).items():
            path = guarded_path(root, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        try:
            return typst.compile(str(root / source.name), root=str(root), format="pdf",
                                 font_paths=embedded_fonts(), ignore_system_fonts=True,
                                 sys_inputs={"paper": paper},
                                 timestamp=int(timestamp.timestamp()) if timestamp else None)
        except typst.TypstError as exc:
            raise RenderError(f"{exc.message}\n{exc.diagnostic}") from exc
