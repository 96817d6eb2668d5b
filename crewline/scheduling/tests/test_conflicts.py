from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crewline.core.models import Role, Skill
from crewline.factories import MemberFactory, OrganizationFactory, SiteFactory
from crewline.scheduling.conflicts import (
    DOUBLE_BOOKING,
    MISSING_SKILL,
    OUTSIDE_HOURS,
    TIME_OFF,
    TRAVEL_TIME,
    check_conflicts,
    check_conflicts_bulk,
    travel_time,
)
from crewline.scheduling.models import TimeOff, WorkingHours
from crewline.scheduling.tests.conftest import EVANSTON, LOOP, at
from crewline.scheduling.travel import haversine_km

# 2025-06-03 is a Tuesday; 2025-06-07 a Saturday.
TUE = (2025, 6, 3)


def kinds(conflicts):
    return [c.kind for c in conflicts]


def check(org, start, end, crew, **kwargs):
    return check_conflicts(organization=org, start=start, end=end, crew=crew, **kwargs)


# --- Double booking -------------------------------------------------------------------------


def test_it_reports_a_double_booking_with_the_other_job_and_its_times(org, tara, make_visit):
    other = make_visit(at(*TUE, 9), at(*TUE, 11), crew=[tara], number=1042)
    conflicts = check(org, at(*TUE, 10), at(*TUE, 12), [tara])
    assert kinds(conflicts) == [DOUBLE_BOOKING]
    assert conflicts[0].member == tara
    assert conflicts[0].other_visit_id == other.pk
    assert conflicts[0].message == "Tara Nguyen is already on WO-1042 from 09:00 to 11:00."


def test_it_allows_back_to_back_visits_and_ignores_closed_ones(org, tara, make_visit):
    make_visit(at(*TUE, 9), at(*TUE, 11), crew=[tara])
    make_visit(at(*TUE, 11), at(*TUE, 12), crew=[tara], status="done")
    make_visit(at(*TUE, 11), at(*TUE, 12), crew=[tara], status="cancelled")
    assert DOUBLE_BOOKING not in kinds(check(org, at(*TUE, 11), at(*TUE, 12), [tara]))


def test_it_does_not_count_a_visit_against_itself(org, tara, make_visit):
    visit = make_visit(at(*TUE, 9), at(*TUE, 11), crew=[tara])
    assert check(org, at(*TUE, 10), at(*TUE, 12), [tara], visit=visit) == []


def test_it_reports_a_double_booking_for_each_crew_member_involved(org, tara, sam, make_visit):
    make_visit(at(*TUE, 9), at(*TUE, 11), crew=[tara])
    make_visit(at(*TUE, 10), at(*TUE, 11), crew=[sam])
    conflicts = check(org, at(*TUE, 10), at(*TUE, 12), [tara, sam])
    assert sorted(c.member.name for c in conflicts if c.kind == DOUBLE_BOOKING) == [
        "Sam Lee", "Tara Nguyen"]


def test_it_shows_the_date_of_an_overlapping_visit_on_another_day(org, tara, make_visit):
    make_visit(at(2025, 6, 2, 20), at(*TUE, 2), crew=[tara], number=77)
    WorkingHours.objects.create(organization=org, member=tara, weekday=1, start=dt.time(0),
                                end=dt.time(23, 59))
    conflicts = check(org, at(*TUE, 1), at(*TUE, 3), [tara])
    assert conflicts[0].message == "Tara Nguyen is already on WO-77 from Mon 2 Jun 20:00 to 02:00."


# --- Working hours ----------------------------------------------------------------------------


def test_it_follows_business_hours_when_a_member_has_no_hours_of_their_own(org, tara):
    assert check(org, at(*TUE, 8), at(*TUE, 17), [tara]) == []
    conflicts = check(org, at(*TUE, 16), at(*TUE, 18), [tara])
    assert kinds(conflicts) == [OUTSIDE_HOURS]
    assert conflicts[0].message == ("Tara Nguyen works 08:00–17:00 on Tuesday 3 June; this "
                                    "visit runs from 16:00 to 18:00.")
    saturday = check(org, at(2025, 6, 7, 9), at(2025, 6, 7, 10), [tara])
    assert saturday[0].message == "Tara Nguyen does not work on Saturday 7 June."


def test_it_uses_the_members_own_hours_split_shifts_included(org, tara):
    WorkingHours.objects.create(organization=org, member=tara, weekday=1, start=dt.time(7),
                                end=dt.time(11))
    WorkingHours.objects.create(organization=org, member=tara, weekday=1, start=dt.time(13),
                                end=dt.time(17))
    assert check(org, at(*TUE, 7), at(*TUE, 11), [tara]) == []
    lunch = check(org, at(*TUE, 10), at(*TUE, 14), [tara])
    assert kinds(lunch) == [OUTSIDE_HOURS]
    assert "07:00–11:00, 13:00–17:00" in lunch[0].message
    # Once a member has hours of their own, a weekday without rows is a day off, even though
    # the business is open on Wednesdays.
    wednesday = check(org, at(2025, 6, 4, 9), at(2025, 6, 4, 10), [tara])
    assert wednesday[0].message == "Tara Nguyen does not work on Wednesday 4 June."


def test_it_checks_a_visit_crossing_midnight_on_both_days(org, tara, sam):
    # Tara works nights: Tuesday evening into Wednesday morning.
    WorkingHours.objects.create(organization=org, member=tara, weekday=1, start=dt.time(20),
                                end=dt.time(23, 59))
    WorkingHours.objects.create(organization=org, member=tara, weekday=2, start=dt.time(0),
                                end=dt.time(6))
    overnight = (at(*TUE, 22), at(2025, 6, 4, 2))
    assert check(org, *overnight, [tara]) == []
    # Sam follows the business hours (08:00–17:00): the night is outside them.
    assert kinds(check(org, *overnight, [sam])) == [OUTSIDE_HOURS]
    # Past the end of Tara's Wednesday hours.
    late = check(org, at(*TUE, 22), at(2025, 6, 4, 7), [tara])
    assert kinds(late) == [OUTSIDE_HOURS]
    assert "Wednesday 4 June" in late[0].message


def test_it_reads_working_hours_in_the_organizations_time_zone(tara, org):
    org.time_zone = "Asia/Tokyo"
    org.save(update_fields=["time_zone"])
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    # 09:00 in Tokyo is midnight UTC: inside business hours only when read in Tokyo time.
    start = dt.datetime(2025, 6, 3, 9, tzinfo=tokyo)
    assert check(org, start, start + dt.timedelta(hours=2), [tara]) == []
    conflicts = check(org, start - dt.timedelta(hours=2), start, [tara])
    assert kinds(conflicts) == [OUTSIDE_HOURS]
    # The message speaks Tokyo time, whatever zone the caller's datetimes were in.
    assert "from 07:00 to 09:00" in conflicts[0].message


def test_it_moves_working_hours_with_the_clock_on_a_daylight_saving_day(org, tara):
    # America/Chicago springs forward on Sunday 9 March 2025 (02:00 → 03:00) and falls back on
    # Sunday 2 November 2025. Tara works Sundays 08:00–17:00 local time.
    WorkingHours.objects.create(organization=org, member=tara, weekday=6, start=dt.time(8),
                                end=dt.time(17))
    for day in (9, 2):
        month = 3 if day == 9 else 11
        assert check(org, at(2025, month, day, 8), at(2025, month, day, 17), [tara]) == []
        assert kinds(check(org, at(2025, month, day, 7), at(2025, month, day, 8, 30),
                           [tara])) == [OUTSIDE_HOURS]
    # Given in UTC: 13:00 UTC is 08:00 CDT on 9 March (but 07:00 the Sunday before, in CST).
    utc_start = dt.datetime(2025, 3, 9, 13, tzinfo=dt.UTC)
    assert check(org, utc_start, utc_start + dt.timedelta(hours=1), [tara]) == []
    week_before = dt.datetime(2025, 3, 2, 13, tzinfo=dt.UTC)
    assert kinds(check(org, week_before, week_before + dt.timedelta(hours=1), [tara])) == [
        OUTSIDE_HOURS]


def test_it_covers_a_night_visit_across_the_skipped_hour(org, tara):
    WorkingHours.objects.create(organization=org, member=tara, weekday=6, start=dt.time(0),
                                end=dt.time(6))
    # 01:00 CST to 04:00 CDT is two real hours, all within 00:00–06:00 local.
    start, end = at(2025, 3, 9, 1), at(2025, 3, 9, 4)
    assert end - start == dt.timedelta(hours=3)  # wall-clock arithmetic on the same tzinfo
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=2)
    assert check(org, start, end, [tara]) == []
    assert kinds(check(org, at(2025, 3, 9, 5), at(2025, 3, 9, 7), [tara])) == [OUTSIDE_HOURS]


# --- Time off ---------------------------------------------------------------------------------


def test_it_reports_time_off_with_its_reason(org, tara, sam):
    TimeOff.objects.create(organization=org, member=tara, start=at(*TUE, 0),
                           end=at(2025, 6, 5, 0), reason="Family wedding")
    TimeOff.objects.create(organization=org, member=sam, start=at(*TUE, 12),
                           end=at(*TUE, 13))
    conflicts = check(org, at(*TUE, 9), at(*TUE, 10), [tara, sam])
    assert kinds(conflicts) == [TIME_OFF]
    assert conflicts[0].member == tara
    assert conflicts[0].message == ("Tara Nguyen is off from Tue 3 Jun 00:00 to Thu 5 Jun 00:00 "
                                    "(Family wedding).")
    # Ending exactly when the time off starts is fine.
    assert check(org, at(*TUE, 11), at(*TUE, 12), [sam]) == []
    assert kinds(check(org, at(*TUE, 11), at(*TUE, 12, 30), [sam])) == [TIME_OFF]


# --- Skills -----------------------------------------------------------------------------------


@pytest.fixture
def gas(org):
    return Skill.objects.create(organization=org, name="Gas")


@pytest.fixture
def electrical(org):
    return Skill.objects.create(organization=org, name="Electrical")


def test_it_needs_every_required_skill_covered_by_the_crew_as_a_whole(org, tara, sam, gas,
                                                                      electrical):
    tara.skills.add(gas)
    sam.skills.add(electrical)
    needed = [gas, electrical]
    assert check(org, at(*TUE, 9), at(*TUE, 10), [tara, sam], required_skills=needed) == []
    alone = check(org, at(*TUE, 9), at(*TUE, 10), [tara], required_skills=needed)
    assert kinds(alone) == [MISSING_SKILL]
    assert alone[0].member is None
    assert alone[0].message == "Tara Nguyen does not have the skills this job needs: Electrical."
    newcomer = MemberFactory(organization=org, role=Role.TECHNICIAN)
    pair = check(org, at(*TUE, 9), at(*TUE, 10), [tara, newcomer], required_skills=needed)
    assert pair[0].message == "Nobody in the crew has the skills this job needs: Electrical."
    # No crew yet: nothing to check.
    assert check(org, at(*TUE, 9), at(*TUE, 10), [], required_skills=needed) == []


def test_it_takes_the_required_skills_and_site_from_the_visits_work_order(org, tara, gas,
                                                                          make_visit):
    visit = make_visit(at(*TUE, 9), at(*TUE, 10))
    visit.work_order.required_skills.add(gas)
    assert kinds(check(org, at(*TUE, 9), at(*TUE, 10), [tara], visit=visit)) == [MISSING_SKILL]
    tara.skills.add(gas)
    assert check(org, at(*TUE, 9), at(*TUE, 10), [tara], visit=visit) == []


def test_it_checks_skills_alone_when_there_is_no_time(org, tara, gas):
    assert kinds(check(org, None, None, [tara], required_skills=[gas])) == [MISSING_SKILL]


# --- Travel -----------------------------------------------------------------------------------


def test_it_estimates_travel_from_coordinates():
    assert 18 < haversine_km(LOOP, EVANSTON) < 20
    minutes = travel_time(LOOP, EVANSTON).total_seconds() / 60
    assert 37 < minutes < 40  # ~19 km at 40 km/h, plus 10 minutes


def test_it_reports_too_little_time_to_travel_from_the_previous_visit(org, tara, make_visit,
                                                                      loop_site, evanston_site):
    previous = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara], site=loop_site, number=1042)
    conflicts = check(org, at(*TUE, 10, 20), at(*TUE, 11), [tara], site=evanston_site)
    assert kinds(conflicts) == [TRAVEL_TIME]
    assert conflicts[0].other_visit_id == previous.pk
    assert conflicts[0].message == ("Tara Nguyen needs about 39 min to get here from "
                                    "WO-1042, which ends at 10:00, but has only 20 min.")
    assert check(org, at(*TUE, 10, 45), at(*TUE, 11, 30), [tara], site=evanston_site) == []


def test_it_reports_too_little_time_to_reach_the_next_visit(org, tara, make_visit, loop_site,
                                                            evanston_site):
    following = make_visit(at(*TUE, 14), at(*TUE, 15), crew=[tara], site=evanston_site,
                           number=2001)
    conflicts = check(org, at(*TUE, 12), at(*TUE, 13, 45), [tara], site=loop_site)
    assert kinds(conflicts) == [TRAVEL_TIME]
    assert conflicts[0].other_visit_id == following.pk
    assert "to get from here to WO-2001, which starts at 14:00, but has only 15 min." in (
        conflicts[0].message)


def test_it_skips_travel_without_coordinates_or_at_the_same_site(org, tara, customer,
                                                                 make_visit, loop_site):
    nowhere = SiteFactory(customer=customer)
    make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara], site=loop_site)
    assert check(org, at(*TUE, 10), at(*TUE, 11), [tara], site=nowhere) == []
    assert check(org, at(*TUE, 10), at(*TUE, 11), [tara], site=loop_site) == []
    assert check(org, at(*TUE, 10), at(*TUE, 11), [tara]) == []


# --- Scope and bulk ---------------------------------------------------------------------------


def test_it_ignores_another_organizations_rows(org, tara, make_visit):
    other_org = OrganizationFactory()
    make_visit(at(*TUE, 9), at(*TUE, 11), crew=[tara])
    assert check(other_org, at(*TUE, 9), at(*TUE, 11), [tara]) == []


def _busy_day(org, make_visit, members, sites, count):
    visits = []
    for i in range(count):
        member = members[i % len(members)]
        hour = 7 + (i // len(members)) % 12  # some start before 08:00: outside hours
        visits.append(make_visit(at(*TUE, hour), at(*TUE, hour, 50),
                                 crew=[member, members[(i + 1) % len(members)]],
                                 site=sites[i % len(sites)]))
    return visits


def test_it_computes_the_same_conflicts_in_bulk_as_one_by_one(org, tara, sam, gas, make_visit,
                                                              loop_site, evanston_site):
    gas_job = make_visit(at(*TUE, 9), at(*TUE, 10), crew=[tara])
    gas_job.work_order.required_skills.add(gas)
    TimeOff.objects.create(organization=org, member=sam, start=at(*TUE, 15), end=at(*TUE, 16))
    visits = [gas_job,
              make_visit(at(*TUE, 9, 30), at(*TUE, 10, 30), crew=[tara], site=evanston_site),
              make_visit(at(*TUE, 15, 30), at(*TUE, 18), crew=[sam]),
              make_visit(at(*TUE, 11), at(*TUE, 12), crew=[sam, tara], site=evanston_site),
              make_visit(None, None, crew=[tara], work_order=gas_job.work_order),
              make_visit(at(*TUE, 7), at(*TUE, 8), crew=[sam], status="done")]
    bulk = check_conflicts_bulk(organization=org, visits=visits)
    assert set(bulk) == {v.pk for v in visits}
    for visit in visits:
        expected = (check(org, visit.start, visit.end, list(visit.crew.all()), visit=visit)
                    if visit.is_open else [])
        assert bulk[visit.pk] == expected, visit
    assert set(kinds(bulk[visits[0].pk])) == {MISSING_SKILL, DOUBLE_BOOKING}
    assert set(kinds(bulk[visits[2].pk])) == {TIME_OFF, OUTSIDE_HOURS}
    assert kinds(bulk[visits[4].pk]) == [MISSING_SKILL]
    assert bulk[visits[5].pk] == []


def test_it_checks_a_whole_day_in_bulk_with_a_constant_number_of_queries(org, make_visit,
                                                                         loop_site,
                                                                         evanston_site):
    members = [MemberFactory(organization=org, role=Role.TECHNICIAN) for _ in range(6)]
    few = _busy_day(org, make_visit, members[:2], [loop_site], 4)
    many = _busy_day(org, make_visit, members, [loop_site, evanston_site], 40)
    counts = []
    for visits in (few, many):
        with CaptureQueriesContext(connection) as ctx:
            result = check_conflicts_bulk(organization=org, visits=visits)
        counts.append(len(ctx.captured_queries))
        assert any(result.values())
    assert counts[0] == counts[1] == 8
