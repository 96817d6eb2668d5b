"""One way of writing durations for people (crewline/formats/durations.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from crewline.formats.durations import duration_units, format_duration


@pytest.mark.parametrize(("minutes", "text"), [
    (0, "0 min"), (59, "59 min"), (60, "1 h"), (90, "1 h 30 min"), (65, "1 h 05 min"),
    (1440, "24 h"), (1441, "24 h 01 min"), (1590, "26 h 30 min"), (3000, "50 h"),
])
def test_it_writes_time_worked_in_hours_and_minutes(minutes, text):
    with translation.override("en"):
        assert format_duration(minutes) == text


@pytest.mark.parametrize(("minutes", "text"), [
    (0, "0 min"), (59, "59 min"), (60, "1 h"), (90, "1 h 30 min"), (1439, "23 h 59 min"),
    (1440, "1 d"), (1500, "1 d 1 h"), (1590, "1 d 2 h"), (3 * 1440 + 60, "3 d 1 h"),
])
def test_it_writes_time_waited_in_days_past_a_day(minutes, text):
    with translation.override("en"):
        assert format_duration(minutes, style="days") == text
        assert format_duration(dt.timedelta(minutes=minutes), style="days") == text


@pytest.mark.parametrize(("minutes", "text"), [
    (0, "–"), (59, "0:59"), (60, "1:00"), (90, "1:30"), (1440, "24:00"), (1590, "26:30"),
])
def test_it_writes_timesheet_columns_as_hours_and_minutes(minutes, text):
    assert format_duration(minutes, style="clock") == text


def test_it_takes_what_the_pages_and_documents_have():
    with translation.override("en"):
        assert format_duration("95") == "1 h 35 min"
        assert format_duration(Decimal("95.0")) == "1 h 35 min"
        assert format_duration(dt.timedelta(hours=1, minutes=5, seconds=40)) == "1 h 05 min"
        assert format_duration(dt.timedelta(seconds=20)) == "under a minute"
        assert format_duration(dt.timedelta(0)) == "0 min"
        assert format_duration(-30) == "0 min"
        assert format_duration(-30, style="clock") == "–"
    for nothing in (None, "", "soon"):
        assert format_duration(nothing) == ""
        assert format_duration(nothing, style="clock") == ""
    with pytest.raises(ValueError, match="style"):
        format_duration(60, style="weeks")


def test_the_units_follow_the_language():
    assert duration_units("en") == {"d": "d", "h": "h", "min": "min"}
    assert duration_units("es") == {"d": "d", "h": "h", "min": "min"}
    assert duration_units("de") == duration_units("en")  # a language Crewline has no formats of
    with translation.override("es"):
        assert format_duration(1590, style="days") == "1 d 2 h"
        assert format_duration(90) == "1 h 30 min"


def test_every_template_has_the_duration_filters():
    template = Template('{{ m|duration }} · {{ late|duration:"days" }} · {{ m|duration:"clock" }}'
                        ' · {{ now|duration_since:then }} · {{ now|duration_since:nothing }}.')
    now = dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC)
    with translation.override("en"):
        text = template.render(Context({"m": 90, "late": dt.timedelta(days=2, hours=3),
                                        "now": now, "then": now - dt.timedelta(minutes=59),
                                        "nothing": None}))
    assert text == "1 h 30 min · 2 d 3 h · 1:30 · 59 min · ."
