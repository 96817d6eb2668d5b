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


# --- The keyboard and small screens ----------------------------------------------------------

@pytest.fixture
def day_of_visits(org, office, technician, scene):
    """Two technicians; three visits on the first row, one on the second."""
    from crewline.factories import MemberFactory

    site, _wo = scene
    other = MemberFactory(organization=org, role="technician", user__full_name="Uri Second")
    visits = []
    for hour, crew in ((9, technician), (13, technician), (15, technician), (14, other)):
        wo = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                               title=f"Job at {hour}")
        visits.append(visit_add(work_order=wo, by=office, start=_local(org, hour),
                                end=_local(org, hour + 1), crew=[crew], override=True))
    return visits, other


def focused_visit(page) -> int | None:
    value = page.evaluate("document.activeElement && document.activeElement.dataset.visit")
    return int(value) if value else None


def test_it_moves_between_visits_with_the_arrow_keys(login, office, day_of_visits):
    (nine, one, three, two_other), _other = day_of_visits
    page = login(office)
    page.goto(f"{page.base}/schedule/?date={DAY}")
    page.focus(f'a.vb[data-visit="{nine.pk}"]')
    page.keyboard.press("ArrowRight")
    assert focused_visit(page) == one.pk
    page.keyboard.press("End")
    assert focused_visit(page) == three.pk
    page.keyboard.press("ArrowLeft")
    assert focused_visit(page) == one.pk
    # Down: the other technician's row (sorted by name, after Tara), nearest in time (14:00).
    rows = page.eval_on_selector_all(".board-row", "rs => rs.map(r => r.id)")
    page.keyboard.press("ArrowDown" if rows.index(f"row-{_other.pk}") > 0 else "ArrowUp")
    assert focused_visit(page) == two_other.pk
    page.keyboard.press("Home")
    assert focused_visit(page) == two_other.pk

    page.goto(f"{page.base}/schedule/?date={DAY}&view=week")
    page.focus(f'a.chip[data-visit="{nine.pk}"]')
    page.keyboard.press("ArrowRight")
    assert focused_visit(page) == one.pk


def test_it_puts_the_focus_on_the_moved_visit_after_saving(login, office, technician,
                                                           day_of_visits):
    (nine, *_rest), _other = day_of_visits
    page = login(office)
    page.goto(f"{page.base}/schedule/?date={DAY}")
    page.focus(f'a.vb[data-visit="{nine.pk}"]')
    page.keyboard.press("Enter")
    form = page.locator("#board-dialog form[data-schedule-form]")
    form.wait_for()
    form.locator("input[name=start]").fill("11:00")
    with page.expect_response(lambda r: "/plan/" in r.url and r.request.method == "POST"):
        form.locator("button[type=submit]").click()
    page.wait_for_function("() => !document.getElementById('board-dialog').open")
    block = page.locator(f'a.vb[data-visit="{nine.pk}"]')
    assert "11:00" in block.inner_text()
    assert focused_visit(page) == nine.pk
    assert page.inner_text("#board-status") == "Saved."

    # Dragged with the mouse: the focus follows the visit to where it was dropped.
    track = page.locator(f'.track[data-member="{technician.pk}"]')
    with page.expect_response(lambda r: "/move/" in r.url) as answer:
        _drag_to(page, block, track, 10)
    assert answer.value.status == 200
    page.wait_for_function(
        f"() => document.activeElement && document.activeElement.dataset.visit === '{nine.pk}'"
        " && document.activeElement.dataset.time === '10:00'")


def test_it_fits_a_phone_without_scrolling_sideways(chromium, live_server, office,
                                                    day_of_visits):
    from crewline.conftest import PASSWORD

    context = chromium.new_context(viewport={"width": 360, "height": 740}, has_touch=True)
    page = context.new_page()
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", office.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    for view in ("", "&view=week"):
        page.goto(f"{live_server.url}/schedule/?date={DAY}{view}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, view
        for name in ("Previous", "Next", "Today"):
            box = page.locator(".board-nav a", has_text=name).or_(
                page.locator(f".board-nav a[aria-label^='{name}']")).first.bounding_box()
            assert box["width"] >= 44 and box["height"] >= 44, (view, name, box)
        # The time grid scrolls inside its own frame, the names stay put.
        grid = page.locator(".day-grid, .week-grid")
        assert grid.evaluate("g => g.scrollWidth > g.clientWidth")
    context.close()
