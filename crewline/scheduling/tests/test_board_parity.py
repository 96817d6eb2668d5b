"""The board's markup is the same as before its rows, blocks, chips and queue items moved from
string formatting in the view to templates: a rich board (conflicts, overlapping visits in
lanes, a multi-day visit, work without a crew or a time, finished and cancelled visits, time
off, working hours, queue items of every kind) renders as the fixtures in ``fixtures/`` say.

The fixtures were written from the string-formatting renderer, with whitespace collapsed and
the database's ids replaced by names (``V1``, ``M2``): ids differ between SQLite and PostgreSQL.
``CREWLINE_WRITE_BOARD_FIXTURES=1`` writes them again (only on purpose: after a change of
markup that is meant)."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine

from crewline.core.models import Role
from crewline.factories import MemberFactory, SiteFactory
from crewline.scheduling.models import TimeOff, WorkingHours
from crewline.workorders.models import Priority, Visit, VisitStatus, WorkOrder
from crewline.workorders.services import visit_add, work_order_create

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
WRITE = os.environ.get("CREWLINE_WRITE_BOARD_FIXTURES") == "1"
DAY = dt.date(2026, 11, 23)  # a Monday
ALL_STATUSES = "".join(f"&status={s}" for s in VisitStatus.values)


@dataclass
class Scene:
    visits: list[Visit]
    members: list
    moved: Visit


def local(org, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=org.tzinfo)


@pytest.fixture
def scene(org, office) -> Scene:
    tara = MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Tara Tech",
                         colour="#1d4ed8")
    abe = MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Abe Able",
                        colour="#aa3300")
    cleo = MemberFactory(organization=org, role=Role.TECHNICIAN,
                         user__full_name="Cleo <Crew> O'Neil", colour="#f5d90a")
    idle = MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Ida Idle",
                         colour="#0e9f6e")
    # Cleo works 10:00–15:00 on Mondays and is at the dentist from 15:00.
    WorkingHours.objects.create(organization=org, member=cleo, weekday=0,
                                start=dt.time(10), end=dt.time(15))
    TimeOff.objects.create(organization=org, member=cleo, start=local(org, DAY, 15),
                           end=local(org, DAY, 17), reason="Dentist")
    bakery = SiteFactory(customer__organization=org, customer__name="Hollis Bakery",
                         address_line1="12 Mill Lane", city="Evanston")
    hospital = SiteFactory(customer__organization=org,
                           customer__name="Northwestern Memorial Hospital Facilities",
                           address_line1="251 East Huron Street", city="Chicago")
    sons = SiteFactory(customer__organization=org, customer__name="O'Brien & Sons <Ltd>",
                       address_line1="", city="Skokie")

    def job(site, title, **kwargs):
        return work_order_create(organization=org, by=office, customer=site.customer,
                                 site=site, title=title, **kwargs)

    def add(site, title, crew, start, minutes, **kwargs):
        return visit_add(work_order=job(site, title, **kwargs), by=office, start=start,
                         end=start + dt.timedelta(minutes=minutes), crew=crew, override=True)

    visits = [
        # Tara: a visit in the customer's window, and a second one overlapping it (a conflict).
        add(bakery, "Oven hood vent", [tara], local(org, DAY, 9), 60,
            requested_start=local(org, DAY, 8), requested_end=local(org, DAY, 12),
            priority=Priority.HIGH),
        add(hospital, "Chiller alarm", [tara], local(org, DAY, 9, 30), 90),
        # A crew of two.
        add(sons, "Roof unit", [tara, abe], local(org, DAY, 13), 60),
        # A one-hour visit with a long name.
        add(hospital, "Filter change", [abe], local(org, DAY, 15), 60),
        # Several days: from Sunday evening to Tuesday morning.
        add(bakery, "Boiler replacement", [cleo], local(org, DAY - dt.timedelta(days=1), 20),
            38 * 60),
    ]
    done = add(bakery, "Gas check", [abe], local(org, DAY, 7, 30), 60)
    cancelled = add(sons, "Leak", [cleo], local(org, DAY, 11), 60)
    Visit.objects.filter(pk=done.pk).update(status=VisitStatus.DONE)
    Visit.objects.filter(pk=cancelled.pk).update(status=VisitStatus.CANCELLED)
    visits += [done, cancelled]
    # The queue: new work (one overdue, one with a customer's window), a visit without a
    # crew, one without a time.
    job(bakery, "Descale the boiler", priority=Priority.URGENT, due_date=DAY - dt.timedelta(2))
    later = job(sons, "Quote follow-up", priority=Priority.LOW,
                due_date=DAY + dt.timedelta(days=3),
                requested_start=local(org, DAY + dt.timedelta(days=2), 9),
                requested_end=local(org, DAY + dt.timedelta(days=2), 11))
    WorkOrder.objects.filter(pk=later.pk).update(estimated_minutes=45)
    no_crew = add(hospital, "Ice machine", [], local(org, DAY, 10), 30)
    no_time = visit_add(work_order=job(bakery, "Tap washer"), by=office, start=None, end=None,
                        crew=[tara])
    visits += [no_crew, no_time]
    return Scene(visits=visits, members=[tara, abe, cleo, idle], moved=visits[1])


def normalised(html: str, scene: Scene) -> str:
    """``html`` with whitespace runs collapsed to one space and ids replaced by names."""
    visits = {str(v.pk): f"V{i}" for i, v in enumerate(scene.visits, 1)}
    members = {str(m.pk): f"M{i}" for i, m in enumerate(scene.members, 1)}
    for pattern, names in (
            (r'(data-visit="|visit=|q-visit-)(\d+)\b', visits),
            (r'(data-member="|row-|mc-)(\d+)\b', members)):
        html = re.sub(pattern, lambda m, names=names: m.group(1) + names.get(m.group(2),
                                                                             "?" + m.group(2)),
                      html)
    return re.sub(r"\s+", " ", html).strip()


def board_part(html: str) -> str:
    """The rows and the queue (what a change re-renders), not the page around them."""
    start = html.index('<section class="board-main"')
    return html[start:html.index('<dialog id="board-dialog"', start)]


def check(name: str, html: str, scene: Scene) -> None:
    path = FIXTURES / f"{name}.html"
    got = normalised(html, scene) + "\n"
    if WRITE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(got)
    assert got == path.read_text(), name


@pytest.fixture
def at_eleven(org):
    with time_machine.travel(local(org, DAY, 11, 7), tick=False):
        yield


def test_the_day_view_is_rendered_as_before(office_client, scene, at_eleven):
    html = office_client.get(f"/schedule/?date={DAY}{ALL_STATUSES}").content.decode()
    part = board_part(html)
    assert "has-conflict" in part and "lane-1" in part and "cut-start cut-end" in part
    assert "vs-done" in part and "vs-cancelled" in part and "Dentist" in part
    assert "req-window" in part and "now-line" in part and "overdue" in part
    check("board_day", part, scene)


def test_the_week_view_is_rendered_as_before(office_client, scene, at_eleven):
    html = office_client.get(f"/schedule/?date={DAY}&view=week").content.decode()
    part = board_part(html)
    assert "chip" in part and "is-today" in part and "is-off" in part
    check("board_week", part, scene)


def test_the_queue_sorted_by_due_date_is_rendered_as_before(office_client, scene, at_eleven):
    html = office_client.get(f"/schedule/?date={DAY}&sort=due").content.decode()
    check("board_due", board_part(html), scene)


def test_the_rows_a_change_re_renders_are_as_before(office_client, scene, at_eleven):
    state = f"date={DAY}"
    response = office_client.post(
        f"/schedule/visits/{scene.moved.pk}/move/",
        {"member": scene.members[1].pk, "from_member": scene.members[0].pk,
         "date": DAY.isoformat(), "time": "16:00", "minutes": 45, "override": "1",
         "state": state}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="row-' in html and 'id="board-queue"' in html
    check("board_update", html, scene)


def test_the_week_rows_a_change_re_renders_are_as_before(office_client, scene, at_eleven):
    response = office_client.post(
        f"/schedule/visits/{scene.moved.pk}/move/",
        {"member": scene.members[2].pk, "from_member": scene.members[0].pk,
         "date": (DAY + dt.timedelta(days=1)).isoformat(), "time": "10:00", "minutes": 60,
         "override": "1", "state": f"date={DAY}&view=week"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    check("board_week_update", response.content.decode(), scene)
