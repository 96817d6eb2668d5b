"""The message catalogues in ``crewline/locale/<lang>/LC_MESSAGES/``, ``django.po`` (Python and
templates) and ``djangojs.po`` (the technician app's JavaScript, served by Django's
``JavaScriptCatalog``), and their compiled ``.mo`` files, which are committed: installing
Crewline (``pip``, ``dev.py``) needs nothing but Python, and
``core/tests/test_translations.py`` fails when a ``.mo`` is not the compiled form of its ``.po``.

``crewline messages`` (after adding or changing a string) brings every catalogue up to date
with the code through Django's ``makemessages`` (which needs GNU gettext's ``xgettext`` and
``msgmerge``: ``apt-get install gettext``) and compiles them with polib (no ``msgfmt``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

ROOT = Path(settings.BASE_DIR).parent
LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
# Not Crewline's strings: the virtual environment, data, benchmarks and tools.
IGNORE = [".venv/*", "var/*", "bench/*", "tools/*", "build/*", "dist/*", "*/tests/*",
          "crewline/conftest.py", "crewline/factories.py", "crewline/testing_env.py",
          "*/static/vendor/*", "staticfiles/*",
          # makemessages would write to a locale folder it walks past instead of
          # LOCALE_PATHS[0] (a copy, in the tests).
          "crewline/locale"]
DOMAINS = ("django", "djangojs")


def translated_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def gettext_available() -> bool:
    return all(shutil.which(tool) for tool in ("xgettext", "msgmerge", "msguniq"))


def make_messages(*, verbosity: int = 0) -> None:
    """Extract the strings of the code and templates into each language's ``django.po``, and
    those of the JavaScript (``gettext()`` calls) into its ``djangojs.po``, under
    ``LOCALE_PATHS[0]``, keeping the translations made (run from the repository's root)."""
    for domain in DOMAINS:
        call_command("makemessages", locale=translated_languages(), domain=domain,
                     no_obsolete=True, ignore_patterns=IGNORE, add_location="file",
                     verbosity=verbosity)


def compiled(po_path: Path) -> bytes:
    """``po_path`` compiled as ``msgfmt`` would: translated entries only, fuzzy ones left out."""
    import polib

    return polib.pofile(str(po_path)).to_binary()


def compile_messages() -> list[Path]:
    """Write each catalogue's ``.mo`` beside its ``.po``; the ``.mo`` files written."""
    written = []
    for po_path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        mo_path.write_bytes(compiled(po_path))
        written.append(mo_path)
    return written
