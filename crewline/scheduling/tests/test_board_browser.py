"""The dispatch board in Chromium: drag work from the queue onto a technician with the mouse,
and the conflict dialog's "Schedule anyway"."""

from __future__ import annotations

import datetime as dt

import pytest

from crewline.factories import SiteFactory
from crewline.workorders.models import Visit
from crewline.workorders.services import visit_add, work_order_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = dt.date(2026, 11, 23)  # a Monday; the grid runs 07:00–18:00 (business hours 08–17)
FIRST_HOUR, GRID_MINUTES = 7, 11 * 60


def _local(org, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=org.tzinfo)


def _drag_to(page, source, track, hour: int, minute: int = 0) -> None:
    """Drag ``source`` with the mouse so that its block starts at ``hour:minute``."""
    src = source.bounding_box()
    box = track.bounding_box()
    offset = (hour - FIRST_HOUR) * 60 + minute
    # A queue item is held 12 px from its left edge (see board.js); aim a few minutes in.
    x = box["x"] + 12 + (offset + 3) * box["width"] / GRID_MINUTES
    y = box["y"] + box["height"] / 2
    page.mouse.move(src["x"] + 12, src["y"] + src["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, y, steps=20)
    page.mouse.up()


@pytest.fixture
def scene(org, office, technician):
    site = SiteFactory(customer__organization=org, customer__name="Hollis Bakery")
    wo = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                           title="Oven hood vent")
    return site, wo


def test_it_drags_a_work_order_from_the_queue_onto_a_technician(login, office, technician,
                                                               org, scene):
    _site, wo = scene
    page = login(office)
    page.goto(f"{page.base}/schedule/?date={DAY}")
    item = page.locator(f"#q-wo-{wo.number}")
    track = page.locator(f'.track[data-member="{technician.pk}"]')
    with page.expect_response(lambda r: "/place/" in r.url) as answer:
        _drag_to(page, item, track, 10, 30)
    assert answer.value.status == 200
    block = page.locator(f'.track[data-member="{technician.pk}"] a.vb')
    assert "10:30" in block.inner_text()

    page.reload()
    block = page.locator(f'.track[data-member="{technician.pk}"] a.vb')
    assert block.count() == 1
    assert wo.reference in block.inner_text() and "10:30–11:30" in block.inner_text()
    assert page.locator(f"#q-wo-{wo.number}").count() == 0
    visit = Visit.objects.get(work_order=wo)
    assert visit.start == _local(org, 10, 30) and visit.end == _local(org, 11, 30)
    assert list(visit.crew.all()) == [technician]


def test_it_asks_before_a_conflicting_drop_and_schedules_anyway(login, office, technician,
                                                               org, scene):
    site, wo = scene
    busy = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                             title="Boiler service")
    visit_add(work_order=busy, by=office, start=_local(org, 9), end=_local(org, 12),
              crew=[technician])
    page = login(office)
    page.goto(f"{page.base}/schedule/?date={DAY}")
    track = page.locator(f'.track[data-member="{technician.pk}"]')

    # Cancel: nothing is saved and the job stays in the queue.
    _drag_to(page, page.locator(f"#q-wo-{wo.number}"), track, 10)
    dialog = page.locator("#board-dialog")
    dialog.get_by_text("already on").wait_for()
    dialog.get_by_role("button", name="Cancel").click()
    assert not dialog.is_visible()
    assert not Visit.objects.filter(work_order=wo).exists()

    _drag_to(page, page.locator(f"#q-wo-{wo.number}"), track, 10)
    dialog.get_by_text("already on").wait_for()
    with page.expect_response(lambda r: "/place/" in r.url) as answer:
        dialog.get_by_role("button", name="Schedule anyway").click()
    assert answer.value.status == 200
    page.reload()
    assert page.locator(f'.track[data-member="{technician.pk}"] a.vb.has-conflict').count() == 2
    visit = Visit.objects.get(work_order=wo)
    assert visit.start == _local(org, 10)
