import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from crewline.plans.recurrence import (
    build_rrule,
    humanise,
    local_start,
    next_date,
    normalise_rrule,
    occurrence_dates,
    picker_values,
    validate_rrule,
)


@pytest.mark.parametrize("rule", [
    "FREQ=MONTHLY;INTERVAL=3", "FREQ=MONTHLY;BYDAY=1MO", "RRULE:FREQ=WEEKLY;BYDAY=MO,TH",
    "freq=yearly;bymonth=3,9", "FREQ=DAILY;COUNT=10", "FREQ=MONTHLY;UNTIL=20261231T000000Z",
    "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYMONTHDAY=15",
])
def test_it_accepts_rules_a_plan_can_use(rule):
    validate_rrule(rule)


@pytest.mark.parametrize(("rule", "says"), [
    ("", "Enter a recurrence rule"),
    ("garbage", "NAME=VALUE"),
    ("INTERVAL=3", "needs a frequency"),
    ("FREQ=FORTNIGHTLY", "daily, weekly, monthly or yearly"),
    ("FREQ=HOURLY", "daily, weekly, monthly or yearly"),
    ("FREQ=DAILY;BYHOUR=9", "start time sets the time"),
    ("FREQ=MONTHLY;BYDAY=9XX", "not a valid recurrence rule"),
    ("FREQ=MONTHLY;INTERVAL=often", "not a valid recurrence rule"),
    ("FREQ=WEEKLY;COLOUR=RED", "not a valid recurrence rule"),
])
def test_it_rejects_bad_rules_with_a_reason(rule, says):
    with pytest.raises(ValidationError) as exc:
        validate_rrule(rule)
    assert says in " ".join(exc.value.messages)


def test_it_normalises_case_prefix_spaces_and_utc_until():
    assert normalise_rrule(" rrule:freq=monthly; interval=3 ") == "FREQ=MONTHLY;INTERVAL=3"
    assert normalise_rrule("FREQ=DAILY;UNTIL=20261231T000000Z") == \
        "FREQ=DAILY;UNTIL=20261231T000000"


def test_it_lists_the_dates_of_a_rule_in_a_window():
    dates = occurrence_dates("FREQ=MONTHLY;BYDAY=1MO", start=dt.date(2025, 1, 1),
                             first=dt.date(2025, 2, 1), last=dt.date(2025, 5, 31))
    assert dates == [dt.date(2025, 2, 3), dt.date(2025, 3, 3), dt.date(2025, 4, 7),
                     dt.date(2025, 5, 5)]
    # Nothing before the plan's start date, nothing after its end date.
    assert occurrence_dates("FREQ=WEEKLY", start=dt.date(2025, 3, 3),
                            first=dt.date(2025, 2, 1), last=dt.date(2025, 3, 31),
                            end=dt.date(2025, 3, 17)) == [
        dt.date(2025, 3, 3), dt.date(2025, 3, 10), dt.date(2025, 3, 17)]


def test_it_finds_the_next_date():
    assert next_date("FREQ=MONTHLY;INTERVAL=3", start=dt.date(2025, 1, 15),
                     after=dt.date(2025, 2, 1)) == dt.date(2025, 4, 15)
    assert next_date("FREQ=MONTHLY;INTERVAL=3", start=dt.date(2025, 1, 15),
                     after=dt.date(2025, 2, 1), end=dt.date(2025, 3, 1)) is None


@pytest.mark.parametrize(("rule", "words"), [
    ("FREQ=MONTHLY;INTERVAL=3", "Every 3 months"),
    ("FREQ=MONTHLY", "Monthly"),
    ("FREQ=MONTHLY;BYDAY=1MO", "Monthly on the first Monday"),
    ("FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR", "Every 2 months on the last Friday"),
    ("FREQ=MONTHLY;BYMONTHDAY=15", "Monthly on day 15"),
    ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "Weekly on Monday, Wednesday and Friday"),
    ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "Weekly on weekdays"),
    ("FREQ=WEEKLY;INTERVAL=2", "Every 2 weeks"),
    ("FREQ=DAILY", "Daily"),
    ("FREQ=YEARLY;BYMONTH=3,9", "Yearly in March and September"),
    ("FREQ=MONTHLY;COUNT=4", "Monthly 4 times"),
    ("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,FR", "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,FR"),
])
def test_it_says_common_rules_in_words_and_falls_back_to_the_rule(rule, words):
    assert humanise(rule) == words


def test_it_builds_and_recognises_the_pickers_rules():
    assert build_rrule(freq="MONTHLY", interval=3) == "FREQ=MONTHLY;INTERVAL=3"
    assert build_rrule(freq="MONTHLY", nth=1, nth_weekday="MO") == "FREQ=MONTHLY;BYDAY=1MO"
    assert build_rrule(freq="WEEKLY", weekdays=["TH", "MO"]) == "FREQ=WEEKLY;BYDAY=MO,TH"
    assert picker_values("FREQ=MONTHLY;BYDAY=-1FR") == {
        "freq": "MONTHLY", "interval": 1, "weekdays": [], "nth": -1, "nth_weekday": "FR",
        "month_day": None}
    assert picker_values("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO") is None


def test_it_keeps_the_local_time_across_daylight_saving():
    before = local_start(dt.date(2025, 3, 3), dt.time(9), "America/Chicago")
    after = local_start(dt.date(2025, 3, 10), dt.time(9), "America/Chicago")
    assert before.utcoffset() == dt.timedelta(hours=-6)
    assert after.utcoffset() == dt.timedelta(hours=-5)
    assert before.astimezone(dt.UTC).hour == 15
    assert after.astimezone(dt.UTC).hour == 14
