"""The dispatch board: what it shows for a day and a week, the queue, its query count, and the
endpoints that move, place and schedule visits (conflicts, override, permissions)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from crewline.core.models import AuditLog, Role, Skill
from crewline.factories import MemberFactory, SiteFactory
from crewline.scheduling import selectors
from crewline.scheduling.models import TimeOff
from crewline.workorders.models import JobType, Priority, Visit, VisitStatus
from crewline.workorders.services import visit_add, work_order_create

DAY = dt.date(2026, 11, 23)  # a Monday


@pytest.fixture
def site(org):
    return SiteFactory(customer__organization=org, customer__name="Hollis Bakery",
                       address_line1="12 Mill Lane", city="Evanston")


@pytest.fixture
def tech2(org):
    return MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Abe Able",
                         user__email="abe@example.com", colour="#aa3300")


def local(org, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=org.tzinfo)


def job(org, office, site, title="Boiler service", **kwargs):
    return work_order_create(organization=org, by=office, customer=site.customer, site=site,
                             title=title, **kwargs)


def visit(org, office, site, crew, start, minutes=60, **kwargs):
    wo = job(org, office, site, **kwargs)
    return visit_add(work_order=wo, by=office, start=start,
                     end=start + dt.timedelta(minutes=minutes), crew=crew, override=True)


def blocks_of(board, member):
    row = next(r for r in board.rows if r.member_id == member.pk)
    return row.blocks


# --- The selector --------------------------------------------------------------------------

@pytest.mark.django_db
def test_it_shows_technicians_by_name_with_their_visits_placed_on_the_day(
        org, office, technician, tech2, site):
    v = visit(org, office, site, [technician], local(org, DAY, 10), minutes=90)
    MemberFactory(organization=org, role=Role.TECHNICIAN, is_active=False)
    board = selectors.board(organization=org, day=DAY)
    assert [r.name for r in board.rows] == ["Abe Able", "Tara Tech"]
    assert board.first_hour == 7 and board.grid_minutes == 11 * 60  # 08–17, an hour each side
    [block] = blocks_of(board, technician)
    assert block.visit_id == v.pk
    assert (block.time, block.minutes, block.label) == ("10:00", 90, "10:00–11:30")
    assert block.left == pytest.approx(180 * 100 / 660, abs=0.01)
    assert block.width == pytest.approx(90 * 100 / 660, abs=0.01)
    assert (block.customer, block.address) == ("Hollis Bakery", "12 Mill Lane, Evanston")
    assert blocks_of(board, tech2) == []


@pytest.mark.django_db
def test_it_puts_a_crew_visit_on_each_members_row_and_shows_the_customers_window(
        org, office, technician, tech2, site):
    start = local(org, DAY, 9)
    visit(org, office, site, [technician, tech2], start, requested_start=local(org, DAY, 8),
          requested_end=local(org, DAY, 12))
    board = selectors.board(organization=org, day=DAY)
    for member in (technician, tech2):
        [block] = blocks_of(board, member)
        assert block.crew_size == 2
        assert block.window_left == pytest.approx(60 * 100 / 660, abs=0.01)
        assert block.window_width == pytest.approx(240 * 100 / 660, abs=0.01)


@pytest.mark.django_db
def test_it_clips_a_visit_across_midnight_to_each_day(org, office, technician, site):
    visit(org, office, site, [technician], local(org, DAY, 22), minutes=240)  # 22:00–02:00
    evening = selectors.board(organization=org, day=DAY)
    [late] = blocks_of(evening, technician)
    assert late.ends_after and not late.starts_before
    assert evening.hours[-1][0] == "23:00"  # the grid widens to midnight
    assert late.left + late.width == pytest.approx(100, abs=0.01)
    morning = selectors.board(organization=org, day=DAY + dt.timedelta(days=1))
    [early] = blocks_of(morning, technician)
    assert early.starts_before and not early.ends_after
    assert morning.first_hour == 0 and early.left == 0
    assert early.width == pytest.approx(120 * 100 / morning.grid_minutes, abs=0.01)


@pytest.mark.django_db
def test_it_bounds_a_daylight_saving_day_by_local_midnights(org, office, technician, site):
    # Chicago springs forward on 8 March 2026: that day is 23 hours long.
    spring = dt.date(2026, 3, 8)
    inside = visit(org, office, site, [technician], local(org, spring, 23, 15), minutes=30)
    after = visit(org, office, site, [technician], local(org, spring + dt.timedelta(days=1),
                                                         0, 15), minutes=30)
    # 00:30 to 03:30 on the clock is two hours: the clock skips from 02:00 to 03:00.
    night = visit(org, office, site, [technician], local(org, spring, 0, 30), minutes=180)
    night.refresh_from_db()  # UTC: a difference of wall clocks would say three hours
    assert night.end - night.start == dt.timedelta(hours=2)
    board = selectors.board(organization=org, day=spring)
    blocks = {b.visit_id: b for b in blocks_of(board, technician)}
    # 00:15 the next day is 23.25 real hours after midnight: not on this day.
    assert set(blocks) == {inside.pk, night.pk}
    assert board.first_hour == 0 and board.grid_minutes == 23 * 60
    assert (blocks[night.pk].label, blocks[night.pk].minutes) == ("00:30–03:30", 120)
    assert blocks[night.pk].width == pytest.approx(120 * 100 / (23 * 60), abs=0.01)
    assert blocks[inside.pk].time == "23:15"
    assert blocks[inside.pk].left == pytest.approx(100 * (22.25 / 23), abs=0.01)
    assert after.pk in [b.visit_id for b in blocks_of(
        selectors.board(organization=org, day=spring + dt.timedelta(days=1)), technician)]


@pytest.mark.django_db
def test_it_shows_conflicts_on_blocks_and_stacks_double_bookings(org, office, technician,
                                                                  site):
    a = visit(org, office, site, [technician], local(org, DAY, 9), minutes=120)
    b = visit(org, office, site, [technician], local(org, DAY, 10), minutes=60)
    board = selectors.board(organization=org, day=DAY)
    blocks = {blk.visit_id: blk for blk in blocks_of(board, technician)}
    assert any("already on" in m for m in blocks[a.pk].conflicts)
    assert any("already on" in m for m in blocks[b.pk].conflicts)
    assert {blocks[a.pk].lane, blocks[b.pk].lane} == {0, 1}
    assert board.rows[0].lanes == 2


@pytest.mark.django_db
def test_it_filters_technicians_by_skill_and_visits_by_status(org, office, technician, tech2,
                                                               site):
    boilers = Skill.objects.create(organization=org, name="Boilers")
    tech2.skills.add(boilers)
    done = visit(org, office, site, [tech2], local(org, DAY, 9))
    Visit.objects.filter(pk=done.pk).update(status=VisitStatus.DONE)
    board = selectors.board(organization=org, day=DAY, skill=boilers)
    assert [r.member_id for r in board.rows] == [tech2.pk]
    assert [b.status for b in board.rows[0].blocks] == [VisitStatus.DONE]
    only_open = selectors.board(organization=org, day=DAY, statuses=[VisitStatus.SCHEDULED])
    assert all(not r.blocks for r in only_open.rows)


@pytest.mark.django_db
def test_it_shades_time_off_on_the_row(org, office, technician, site):
    TimeOff.objects.create(organization=org, member=technician, start=local(org, DAY, 12),
                           end=local(org, DAY, 14), reason="Dentist")
    board = selectors.board(organization=org, day=DAY)
    row = next(r for r in board.rows if r.member_id == technician.pk)
    [(left, width, reason)] = row.away
    assert reason == "Dentist"
    assert width == pytest.approx(120 * 100 / 660, abs=0.01)


@pytest.mark.django_db
def test_it_lays_out_a_week_with_visits_per_day(org, office, technician, site):
    wednesday = DAY + dt.timedelta(days=2)
    v = visit(org, office, site, [technician], local(org, wednesday, 22), minutes=240)
    board = selectors.board(organization=org, day=wednesday, view=selectors.WEEK)
    assert board.days[0] == DAY and len(board.days) == 7
    row = next(r for r in board.rows if r.member_id == technician.pk)
    per_day = [[b.visit_id for b in c.blocks] for c in row.cells]
    assert per_day == [[], [], [v.pk], [v.pk], [], [], []]
    assert row.cells[3].blocks[0].starts_before
    assert [c.off for c in row.cells] == [False] * 5 + [True, True]


@pytest.mark.django_db
def test_it_queues_unscheduled_work_by_priority_or_due_date(org, office, technician, site):
    long_job = JobType.objects.create(organization=org, name="Install",
                                      default_duration_minutes=180)
    urgent = job(org, office, site, "Urgent", priority=Priority.URGENT,
                 due_date=DAY + dt.timedelta(days=5))
    soon = job(org, office, site, "Soon", priority=Priority.LOW, due_date=DAY, job_type=long_job)
    planned = job(org, office, site, "Planned")
    visit_add(work_order=planned, by=office, start=local(org, DAY, 9),
              end=local(org, DAY, 10), crew=[technician], override=True)
    crewless = job(org, office, site, "Crewless")
    no_crew = visit_add(work_order=crewless, by=office, start=local(org, DAY, 9),
                        end=local(org, DAY, 9, 45))
    items, more = selectors.queue(organization=org, today=DAY)
    assert not more
    assert [i.number for i in items] == [urgent.number, crewless.number, soon.number]
    by_number = {i.number: i for i in items}
    assert by_number[soon.number].minutes == 180
    assert by_number[urgent.number].minutes == 60
    assert by_number[crewless.number].visit_id == no_crew.pk
    assert by_number[crewless.number].minutes == 45
    by_due, _ = selectors.queue(organization=org, sort="due", today=DAY)
    assert [i.number for i in by_due] == [soon.number, urgent.number, crewless.number]


# --- The page and its query count ----------------------------------------------------------

def _many_visits(org, office, techs, site, count):
    for i in range(count):
        tech = techs[i % len(techs)]
        start = local(org, DAY, 7 + (i // len(techs)) % 11, 15 * (i % 4))
        visit(org, office, site, [tech], start, minutes=30, title=f"Job {i}")


@pytest.mark.django_db
def test_it_renders_the_day_and_week_pages(office_client, org, office, technician, site):
    v = visit(org, office, site, [technician], local(org, DAY, 10))
    for query in (f"date={DAY}", f"date={DAY}&view=week"):
        response = office_client.get(reverse("scheduling:board") + "?" + query)
        assert response.status_code == 200
        html = response.content.decode()
        assert f'data-visit="{v.pk}"' in html and "Hollis Bakery" in html
        assert "Tara Tech" in html
    response = office_client.get(reverse("scheduling:board") + "?date=not-a-date&skill=999")
    assert response.status_code == 200  # bad filters fall back to the defaults


@pytest.mark.django_db
def test_it_keeps_the_query_count_when_visits_grow(office_client, org, office, technician,
                                                   tech2, site, django_assert_max_num_queries):
    url = reverse("scheduling:board") + f"?date={DAY}"
    _many_visits(org, office, [technician, tech2], site, 5)
    office_client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        office_client.get(url)
    _many_visits(org, office, [technician, tech2], site, 95)
    for _ in range(10):
        job(org, office, site, "Waiting")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = office_client.get(url)
    assert response.content.decode().count('class="vb ') == 100
    with django_assert_max_num_queries(len(small.captured_queries)):
        office_client.get(url + "&view=week")


# --- Moving and placing --------------------------------------------------------------------

def _drop(client, url, **data):
    data.setdefault("state", f"date={DAY}")
    return client.post(url, data)


@pytest.mark.django_db
def test_it_places_a_queued_work_order_on_a_technician(office_client, org, office, technician,
                                                       site):
    wo = job(org, office, site)
    response = _drop(office_client, reverse("scheduling:visit_place", args=[wo.number]),
                     member=technician.pk, date=DAY, time="13:15", minutes=90)
    assert response.status_code == 200
    v = Visit.objects.get(work_order=wo)
    assert v.start == local(org, DAY, 13, 15) and v.end == local(org, DAY, 14, 45)
    assert list(v.crew.all()) == [technician]
    html = response.content.decode()
    assert f'id="row-{technician.pk}"' in html and f'data-visit="{v.pk}"' in html
    assert 'id="board-queue"' in html and f"q-wo-{wo.number}" not in html


@pytest.mark.django_db
def test_it_moves_a_visit_to_another_technician_keeping_the_rest_of_the_crew(
        office_client, org, office, technician, tech2, site):
    third = MemberFactory(organization=org, role=Role.TECHNICIAN)
    v = visit(org, office, site, [technician, third], local(org, DAY, 9))
    response = _drop(office_client, reverse("scheduling:visit_move", args=[v.pk]),
                     member=tech2.pk, from_member=technician.pk, date=DAY, time="11:00",
                     minutes=60)
    assert response.status_code == 200
    v.refresh_from_db()
    assert v.start == local(org, DAY, 11)
    assert set(v.crew.all()) == {tech2, third}
    html = response.content.decode()
    assert f'id="row-{technician.pk}"' in html and f'id="row-{tech2.pk}"' in html


@pytest.mark.django_db
def test_it_resizes_a_visit_without_touching_the_crew(office_client, org, office, technician,
                                                      site):
    v = visit(org, office, site, [technician], local(org, DAY, 9))
    response = _drop(office_client, reverse("scheduling:visit_move", args=[v.pk]),
                     date=DAY, time="09:00", minutes=150)
    assert response.status_code == 200
    v.refresh_from_db()
    assert v.end == local(org, DAY, 11, 30) and list(v.crew.all()) == [technician]


@pytest.mark.django_db
def test_it_answers_a_conflict_with_409_and_schedules_anyway_on_override(
        office_client, org, office, technician, site):
    visit(org, office, site, [technician], local(org, DAY, 9), minutes=120)
    wo = job(org, office, site, "Second job")
    url = reverse("scheduling:visit_place", args=[wo.number])
    response = _drop(office_client, url, member=technician.pk, date=DAY, time="10:00",
                     minutes=60)
    assert response.status_code == 409
    conflicts = json.loads(response.content)["conflicts"]
    assert conflicts[0]["kind"] == "double_booking"
    assert conflicts[0]["member"] == technician.pk
    assert "already on" in conflicts[0]["message"]
    assert not Visit.objects.filter(work_order=wo).exists()
    response = _drop(office_client, url, member=technician.pk, date=DAY, time="10:00",
                     minutes=60, override="1")
    assert response.status_code == 200
    v = Visit.objects.get(work_order=wo)
    entry = AuditLog.objects.get(action="visit.add", object_id=str(v.pk))
    assert entry.changes["override"] == [None, True]


@pytest.mark.django_db
def test_it_refuses_bad_drops_with_400(office_client, org, office, technician, site):
    wo = job(org, office, site)
    url = reverse("scheduling:visit_place", args=[wo.number])
    response = _drop(office_client, url, date=DAY, time="10:00", minutes=60)
    assert response.status_code == 400
    assert "technician" in json.loads(response.content)["errors"][0]
    response = _drop(office_client, url, member=technician.pk, date="soon", time="25:00",
                     minutes=0)
    assert response.status_code == 400
    assert len(json.loads(response.content)["errors"]) == 3
    assert not Visit.objects.exists()


# --- The keyboard form ---------------------------------------------------------------------

@pytest.mark.django_db
def test_it_schedules_a_work_order_through_the_form(office_client, org, office, technician,
                                                    tech2, site):
    wo = job(org, office, site)
    url = reverse("scheduling:schedule")
    response = office_client.get(url, {"work_order": wo.number, "state": f"date={DAY}"},
                                 HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'name="crew"' in response.content.decode()
    data = {"work_order": wo.number, "crew": [technician.pk, tech2.pk], "date": DAY,
            "start": "08:30", "minutes": 120, "state": f"date={DAY}"}
    response = office_client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["X-Board-Done"] == "1"
    v = Visit.objects.get(work_order=wo)
    assert v.start == local(org, DAY, 8, 30) and set(v.crew.all()) == {technician, tech2}


@pytest.mark.django_db
def test_it_shows_conflicts_in_the_form_and_offers_to_schedule_anyway(
        office_client, org, office, technician, site):
    v = visit(org, office, site, [technician], local(org, DAY, 9))
    TimeOff.objects.create(organization=org, member=technician, start=local(org, DAY, 13),
                           end=local(org, DAY, 17), reason="Training")
    url = reverse("scheduling:schedule")
    data = {"visit": v.pk, "crew": [technician.pk], "date": DAY, "start": "14:00",
            "minutes": 60}
    response = office_client.post(url, data)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Training" in html and "Schedule anyway" in html
    assert 'name="override" value="1"' in html
    v.refresh_from_db()
    assert v.start == local(org, DAY, 9)
    response = office_client.post(url, {**data, "override": "1"})
    assert response.status_code == 302
    v.refresh_from_db()
    assert v.start == local(org, DAY, 14)


@pytest.mark.django_db
def test_it_shows_form_errors_next_to_fields(office_client, org, office, site):
    wo = job(org, office, site)
    response = office_client.post(reverse("scheduling:schedule"),
                                  {"work_order": wo.number, "date": "", "start": "9",
                                   "minutes": 1})
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count("invalid-feedback") >= 3


# --- Permissions ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_it_refuses_the_board_and_its_endpoints_to_technicians(tech_client, org, office,
                                                               technician, site):
    v = visit(org, office, site, [technician], local(org, DAY, 9))
    wo = job(org, office, site)
    assert tech_client.get(reverse("scheduling:board")).status_code == 403
    drop = {"member": technician.pk, "date": DAY, "time": "15:00", "minutes": 60}
    assert tech_client.post(reverse("scheduling:visit_move", args=[v.pk]),
                            drop).status_code == 403
    assert tech_client.post(reverse("scheduling:visit_place", args=[wo.number]),
                            drop).status_code == 403
    assert tech_client.post(reverse("scheduling:schedule"),
                            {"visit": v.pk, "crew": [technician.pk], "date": DAY,
                             "start": "15:00", "minutes": 60}).status_code == 403
    v.refresh_from_db()
    assert v.start == local(org, DAY, 9)
    assert not Visit.objects.filter(work_order=wo).exists()


@pytest.mark.django_db
def test_it_hides_another_organizations_visits_and_work_orders(outsider_client, outsider,
                                                               org, office, technician, site):
    v = visit(org, office, site, [technician], local(org, DAY, 9))
    wo = job(org, office, site)
    drop = {"member": technician.pk, "date": DAY, "time": "15:00", "minutes": 60}
    assert outsider_client.post(reverse("scheduling:visit_move", args=[v.pk]),
                                drop).status_code == 404
    assert outsider_client.post(reverse("scheduling:visit_place", args=[wo.number]),
                                drop).status_code == 404
    assert outsider_client.get(reverse("scheduling:schedule"),
                               {"visit": v.pk}).status_code == 404
    assert outsider_client.get(reverse("scheduling:schedule"),
                               {"work_order": wo.number}).status_code == 404
    # Their own board does not show this organization's technicians or visits.
    html = outsider_client.get(reverse("scheduling:board") + f"?date={DAY}").content.decode()
    assert "Tara Tech" not in html and f'data-visit="{v.pk}"' not in html
    v.refresh_from_db()
    assert v.start == local(org, DAY, 9)
