"""The hour arithmetic of a week, without the database."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from hypothesis import given, settings
from hypothesis import strategies as st

from crewline.timesheets.hours import Labor, Span, compute_week, week_start_for

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def at(day: str, time: str, tz=CHICAGO) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=tz)


def week(spans, labor=(), *, start="2025-03-03", weekly=40 * 60, daily=None, now=NOW):
    return compute_week(spans=spans, labor=labor, tz=CHICAGO,
                        start=dt.date.fromisoformat(start), weekly_minutes=weekly,
                        daily_minutes=daily, now=now)


def test_it_counts_a_plain_day():
    w = week([Span("shift", at("2025-03-03", "08:00"), at("2025-03-03", "17:00")),
              Span("break", at("2025-03-03", "12:00"), at("2025-03-03", "12:30")),
              Span("travel", at("2025-03-03", "08:00"), at("2025-03-03", "08:45")),
              Span("work", at("2025-03-03", "09:00"), at("2025-03-03", "11:00"), visit_id=1)])
    monday = w.days[0]
    assert (monday.shift, monday.breaks, monday.paid) == (540, 30, 510)
    assert (monday.job, monday.travel, monday.gaps) == (120, 45, 510 - 120 - 45)
    assert (monday.regular, monday.overtime) == (510, 0)
    assert w.totals["paid"] == 510


def test_it_counts_a_visits_labor_entry_instead_of_its_work_entries():
    w = week([Span("shift", at("2025-03-04", "08:00"), at("2025-03-04", "16:00")),
              Span("work", at("2025-03-04", "09:00"), at("2025-03-04", "10:00"), visit_id=7),
              Span("work", at("2025-03-04", "13:00"), at("2025-03-04", "14:00"), visit_id=8)],
             [Labor(at=at("2025-03-04", "11:00"), minutes=90, visit_id=7)])
    assert w.days[1].job == 90 + 60


def test_it_splits_a_shift_across_midnight_by_local_day():
    w = week([Span("shift", at("2025-03-05", "22:00"), at("2025-03-06", "06:00")),
              Span("break", at("2025-03-05", "23:30"), at("2025-03-06", "00:30"))])
    wed, thu = w.days[2], w.days[3]
    assert (wed.shift, wed.breaks, wed.paid) == (120, 30, 90)
    assert (thu.shift, thu.breaks, thu.paid) == (360, 30, 330)
    assert w.totals["paid"] == 420


def test_it_counts_real_hours_on_the_day_the_clocks_spring_forward():
    # 9 March 2025: 02:00 does not exist in Chicago; midnight to 06:00 is 5 hours.
    w = week([Span("shift", at("2025-03-09", "00:00"), at("2025-03-09", "06:00")),
              Span("shift", at("2025-03-08", "20:00"), at("2025-03-08", "23:00"))],
             start="2025-03-03")
    assert w.days[6].shift == 5 * 60
    assert w.days[5].shift == 3 * 60


def test_it_counts_real_hours_on_the_day_the_clocks_fall_back():
    # 2 November 2025: 01:00–02:00 happens twice; midnight to 06:00 is 7 hours, and a
    # shift across the whole day is 25.
    w = week([Span("shift", at("2025-11-02", "00:00"), at("2025-11-02", "06:00"))],
             start="2025-10-27")
    assert w.days[6].shift == 7 * 60
    whole = week([Span("shift", at("2025-11-01", "23:00"), at("2025-11-03", "01:00"))],
                 start="2025-10-27")
    assert [d.shift for d in whole.days[5:]] == [60, 25 * 60]


def test_it_puts_overtime_past_the_daily_then_the_weekly_threshold():
    days = [f"2025-03-0{d}" for d in range(3, 9)]  # Monday to Saturday
    spans = [Span("shift", at(d, "07:00"), at(d, "17:00")) for d in days]  # 10 h a day
    only_weekly = week(spans)
    # 10 h a day reach 40 on Thursday: Friday and Saturday are overtime.
    assert [d.overtime for d in only_weekly.days[:6]] == [0, 0, 0, 0, 600, 600]
    assert only_weekly.totals["regular"] == 2400
    daily = week(spans, daily=8 * 60)
    # 2 h a day past 8; 8 h regular a day reach 40 on Friday, so Saturday is all overtime.
    assert [d.overtime for d in daily.days[:6]] == [120, 120, 120, 120, 120, 600]
    assert daily.totals["regular"] == 2400 and daily.totals["overtime"] == 1200


def test_it_flags_an_open_shift_and_stops_it_at_the_end_of_its_day():
    w = week([Span("shift", at("2025-03-03", "20:00"), None)])
    assert w.open_shift and w.days[0].open_shift
    assert w.days[0].shift == 4 * 60 and w.days[1].shift == 0
    running = week([Span("shift", at("2025-03-03", "08:00"), None)],
                   now=at("2025-03-03", "10:15"))
    assert running.days[0].shift == 135


def test_it_starts_weeks_on_the_organizations_day():
    wednesday = dt.date(2025, 3, 5)
    assert week_start_for(wednesday, 0) == dt.date(2025, 3, 3)
    assert week_start_for(wednesday, 6) == dt.date(2025, 3, 2)
    assert week_start_for(wednesday, 2) == wednesday


BASE = dt.datetime(2025, 3, 3, tzinfo=CHICAGO)  # the week holds the spring-forward Sunday


@st.composite
def spans(draw):
    kind = draw(st.sampled_from(["shift", "shift", "break", "work", "travel"]))
    start = BASE + dt.timedelta(minutes=draw(st.integers(-600, 8 * 24 * 60)))
    length = draw(st.one_of(st.none(), st.integers(0, 20 * 60)))
    end = None if length is None else start + dt.timedelta(minutes=length)
    return Span(kind, start.astimezone(dt.UTC), end and end.astimezone(dt.UTC),
                visit_id=draw(st.one_of(st.none(), st.integers(1, 3))))


@settings(max_examples=150, deadline=None)
@given(items=st.lists(spans(), max_size=12),
       labor=st.lists(st.builds(Labor, at=st.just(BASE + dt.timedelta(hours=30)),
                                minutes=st.integers(0, 600), visit_id=st.integers(1, 3)),
                      max_size=2),
       weekly=st.integers(0, 60 * 60), daily=st.one_of(st.none(), st.integers(0, 24 * 60)))
def test_its_hours_always_add_up(items, labor, weekly, daily):
    w = week(items, labor, weekly=weekly, daily=daily)
    for day in w.days:
        assert day.paid == day.shift - day.breaks
        assert day.regular + day.overtime == day.paid
        for name in ("shift", "breaks", "paid", "job", "travel", "gaps", "regular", "overtime"):
            assert getattr(day, name) >= 0, name
        # A local day is at most 25 hours long.
        assert day.shift <= 25 * 60
    assert w.totals["regular"] <= weekly
    if daily is not None:
        assert all(day.regular <= daily for day in w.days)


def test_it_flags_a_day_with_more_job_labor_than_paid_time():
    w = week([Span("shift", at("2025-03-04", "08:00"), at("2025-03-04", "12:00")),
              Span("break", at("2025-03-04", "10:00"), at("2025-03-04", "10:30")),
              Span("shift", at("2025-03-05", "08:00"), at("2025-03-05", "16:00"))],
             [Labor(at=at("2025-03-04", "11:00"), minutes=200, visit_id=7),
              Labor(at=at("2025-03-04", "15:00"), minutes=40, visit_id=8),
              Labor(at=at("2025-03-05", "11:00"), minutes=480, visit_id=9),
              # Labor on a day with no shift at all.
              Labor(at=at("2025-03-06", "11:00"), minutes=30, visit_id=10)])
    tue, wed, thu = w.days[1], w.days[2], w.days[3]
    assert (tue.paid, tue.job, tue.labor_over_paid) == (210, 240, 30)
    assert wed.labor_over_paid == 0  # exactly the paid time fits
    assert (thu.paid, thu.labor_over_paid) == (0, 30)
    assert [d.date.isoformat() for d in w.labor_over_paid_days] == ["2025-03-04", "2025-03-06"]
