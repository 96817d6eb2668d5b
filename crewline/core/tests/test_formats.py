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
