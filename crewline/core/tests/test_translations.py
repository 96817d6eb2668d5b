"""Every string a member or customer sees is in Spanish, and the catalogues are the code's:
``django.po`` (Python and templates) and ``djangojs.po`` (the technician app's JavaScript).

A string counts when one of its occurrences (the catalogue's ``#:`` lines) is in one of the
``FINISHED`` parts, less those in ``LATER`` (none now: an app being written may go there until
its strings are translated, and a string it shares with a finished part still counts).
"""

from __future__ import annotations

import io
import os
import shutil

import polib
import pytest
from django.test import override_settings

from crewline.core import translations

CATALOGUE = translations.LOCALE_DIR / "es" / "LC_MESSAGES" / "django.po"
JS_CATALOGUE = CATALOGUE.with_name("djangojs.po")
CATALOGUES = pytest.mark.parametrize("path", [CATALOGUE, JS_CATALOGUE], ids=["django", "djangojs"])

# Every app's strings: its Python (messages, form errors, model names), templates (pages,
# emails), the technician app's words (field/app_views.py), Web Push texts (notifications),
# the job report, quote and invoice PDFs (documents/, billing/pdf.py) and the site's frame.
FINISHED = ("crewline/",)
LATER: tuple[str, ...] = ()


def finished(entry: polib.POEntry) -> bool:
    return any(path.startswith(FINISHED) and not (LATER and path.startswith(LATER))
               for path, _line in entry.occurrences)


def key(entry: polib.POEntry) -> tuple[str | None, str, str]:
    return entry.msgctxt, entry.msgid, entry.msgid_plural or ""


def missing(catalogue: polib.POFile) -> list[str]:
    """The finished strings without a Spanish translation that counts (empty or fuzzy)."""
    return [f"{entry.msgid!r} ({entry.occurrences[0][0]})" for entry in catalogue
            if not entry.obsolete and finished(entry) and not entry.translated()]


@CATALOGUES
def test_every_finished_string_is_in_spanish(path):
    catalogue = polib.pofile(str(path))
    assert catalogue.metadata["Language"] == "es"
    assert catalogue.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    untranslated = missing(catalogue)
    assert not untranslated, (f"{len(untranslated)} strings are not translated into Spanish "
                              f"(crewline/locale/es/LC_MESSAGES/{path.name}): "
                              + "; ".join(untranslated[:20]))


def test_the_technician_apps_words_are_in_the_javascript_catalogue():
    """The app draws its pages in JavaScript with ``gettext()``: its words are in
    ``djangojs.po``, and no page of it is left to words sent some other way."""
    catalogue = polib.pofile(str(JS_CATALOGUE))
    paths = {path for entry in catalogue for path, _line in entry.occurrences}
    assert "crewline/field/static/field/app.js" in paths
    for msgid, spanish in (("My day", "Mi día"), ("%(n)s not yet sent", "%(n)s sin enviar"),
                           ("Job complete", "Trabajo terminado")):
        entry = catalogue.find(msgid)
        assert entry is not None and entry.msgstr == spanish, msgid


def test_the_finished_parts_are_named_by_their_strings():
    """Each finished part has strings in the catalogue (a misspelt path would count nothing),
    among them those a crew and a customer read."""
    catalogue = polib.pofile(str(CATALOGUE))
    paths = [path for entry in catalogue for path, _line in entry.occurrences]
    for part in FINISHED:
        assert any(path.startswith(part) for path in paths), part
    for part in ("crewline/field/templates/field/app.html", "crewline/notifications/wording.py",
                 "crewline/documents/reports.py", "crewline/billing/pdf.py",
                 "crewline/billing/templates/billing/email/",
                 "crewline/documents/templates/documents/email/",
                 "crewline/templates/registration/"):
        assert any(path.startswith(part) for path in paths) and finished(
            next(e for e in catalogue if any(p.startswith(part) for p, _ in e.occurrences))), part


def test_the_compiled_catalogues_are_those_of_the_po_files():
    """The committed ``.mo`` files (what Django reads) are the compiled ``.po`` files: run
    ``crewline messages --compile`` after editing a translation."""
    po_files = sorted(translations.LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))
    assert po_files
    for po_path in po_files:
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.exists(), f"{mo_path} is missing: run crewline messages --compile"
        assert mo_path.read_bytes() == translations.compiled(po_path), (
            f"{mo_path} is not the compiled {po_path.name}: run crewline messages --compile")


def test_only_complete_languages_are_offered(settings):
    assert [code for code, _name in settings.LANGUAGES] == ["en", "es"]
    assert translations.translated_languages() == ["es"]


@pytest.fixture
def regenerated(tmp_path, monkeypatch):
    """The catalogue as ``makemessages`` makes it from the code now, over a copy of the
    committed one (its translations merged in)."""
    if not translations.gettext_available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI has GNU gettext (.ci/run installs it): xgettext is missing")
        pytest.skip("needs GNU gettext's xgettext and msgmerge (apt-get install gettext)")
    locale_dir = tmp_path / "locale"
    shutil.copytree(translations.LOCALE_DIR, locale_dir)
    monkeypatch.chdir(translations.ROOT)
    with override_settings(LOCALE_PATHS=[locale_dir]):
        translations.make_messages()
    return {name: polib.pofile(str(locale_dir / "es" / "LC_MESSAGES" / name))
            for name in (CATALOGUE.name, JS_CATALOGUE.name)}


@CATALOGUES
def test_the_catalogue_is_up_to_date_with_the_code(regenerated, path):
    """``makemessages`` adds no string to the finished parts and removes none: the catalogue
    holds what the code says (run ``crewline messages`` after changing a string)."""
    committed = polib.pofile(str(path))
    regenerated = regenerated[path.name]
    before = {key(entry) for entry in committed if finished(entry)}
    after = {key(entry) for entry in regenerated if finished(entry)}
    assert not sorted(after - before, key=str), "strings not in the catalogue yet"
    assert not sorted(before - after, key=str), "strings the code no longer has"
    untranslated = missing(regenerated)
    assert not untranslated, "changed strings need their translation checked: " + "; ".join(
        untranslated[:20])


def test_the_command_compiles_every_catalogue(tmp_path, monkeypatch):
    from django.core.management import call_command

    locale_dir = tmp_path / "locale"
    shutil.copytree(translations.LOCALE_DIR, locale_dir)
    mo_path = locale_dir / "es" / "LC_MESSAGES" / "django.mo"
    mo_path.unlink()
    mo_path.with_name("djangojs.mo").unlink()
    monkeypatch.setattr(translations, "LOCALE_DIR", locale_dir)
    monkeypatch.setattr(translations, "ROOT", tmp_path)
    call_command("messages", "--compile", stdout=io.StringIO())
    assert mo_path.read_bytes() == (CATALOGUE.with_suffix(".mo")).read_bytes()
    # What Django reads from it: the Spanish words, fuzzy ones left out.
    catalogue = polib.mofile(str(mo_path))
    assert catalogue.find("My day").msgstr == "Mi día"
    js_mo = mo_path.with_name("djangojs.mo")
    assert js_mo.read_bytes() == JS_CATALOGUE.with_suffix(".mo").read_bytes()
