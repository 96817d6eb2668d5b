"""Crewline's date and time formats, one set for every page, document and the phone app.

Django's defaults differ from page to page ("Dec. 3, 2026" on an invoice, "12/03/2026" in a
list, "2 p.m." for a time) while Crewline's own pages write "3 Dec 2026" and "14:00"; these
make the defaults say the same. The technician app is sent the same formats (see
``crewline.field.selectors.phone_formats``). Durations ("1 h 30 min") are written by one
function too: ``crewline.formats.durations.format_duration`` and the ``duration`` filter.
"""

from django.utils import dateformat, formats
from django.utils.dates import MONTHS_3
from django.utils.translation import get_language


def month_abbreviation(month: int, lang: str | None = None) -> str:
    """The month's abbreviation as ``lang`` (the active language) writes it beside a day:
    English "Dec", Spanish "dic". ``MONTH_ABBREVIATION_LOWER`` in a language's format module
    says it keeps the lower case of Django's translated abbreviations."""
    abbreviation = str(MONTHS_3[month])
    for module in formats.get_format_modules(lang or get_language()):
        if hasattr(module, "MONTH_ABBREVIATION_LOWER"):
            return abbreviation if module.MONTH_ABBREVIATION_LOWER else abbreviation.title()
    return abbreviation.title()


def _month_as_the_language_writes_it(self: dateformat.DateFormat) -> str:
    "Month, textual, 3 letters, in the case of the active language; e.g. 'Jan', 'ene'"
    return month_abbreviation(self.data.month)


# Django's "M" titles the abbreviation in every language ("3 Dic"); the many "j M" and
# "D j M" formats of pages, notifications and documents write it as the language does.
dateformat.DateFormat.M = _month_as_the_language_writes_it
