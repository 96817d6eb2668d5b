"""One format for dates and times on every page, document and the phone app."""

from __future__ import annotations

import datetime as dt

from django.utils import formats, translation


def test_invoices_quotes_and_pages_write_dates_alike():
    day = dt.date(2026, 12, 3)
    moment = dt.datetime(2026, 12, 3, 14, 5)
    with translation.override("en"):
        assert formats.date_format(day) == "3 Dec 2026"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "3 Dec 2026"
        assert formats.date_format(moment, "DATETIME_FORMAT") == "3 Dec 2026, 14:05"
        assert formats.time_format(moment) == "14:05"
    with translation.override("es"):
        assert formats.time_format(moment) == "14:05"
        assert formats.date_format(day) == "3 dic 2026"
        assert formats.date_format(moment, "DATETIME_FORMAT") == "3 dic 2026, 14:05"


def test_spanish_writes_month_abbreviations_in_lower_case_in_every_format():
    """Django's "M" titles the abbreviation ("3 Dic"); Spanish writes "3 dic", English "3 Dec".
    The explicit formats of pages, notifications and documents ("D j M") included."""
    from django.template import Context, Template

    day = dt.date(2026, 12, 3)
    page = Template('{{ day|date:"D j M" }} · {{ day|date:"j M Y" }}')
    with translation.override("es"):
        assert formats.date_format(day, "D j M") == "jue 3 dic"
        assert formats.date_format(dt.date(2026, 5, 1), "l j M") == "viernes 1 may"
        assert page.render(Context({"day": day})) == "jue 3 dic · 3 dic 2026"
        assert formats.date_format(dt.datetime(2026, 12, 3, 9, 0), "SHORT_DATETIME_FORMAT") == (
            "3 dic 2026, 09:00")
    with translation.override("en"):
        assert formats.date_format(day, "D j M") == "Thu 3 Dec"
        assert page.render(Context({"day": day})) == "Thu 3 Dec · 3 Dec 2026"
    # The same process, back and forth: nothing of one language stays in the other.
    with translation.override("es"):
        assert formats.date_format(day, "j M") == "3 dic"
