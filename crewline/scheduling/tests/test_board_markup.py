"""The board's markup: places are classes that board-grid.css defines (no style attributes),
and a block's accessible name starts with what it shows."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from crewline.factories import SiteFactory
from crewline.scheduling import board as layout
from crewline.scheduling.tests.test_board_parity import scene  # noqa: F401
from crewline.workorders.services import visit_add, work_order_create

pytestmark = pytest.mark.django_db

GRID_CSS = (Path(layout.__file__).parent / "static" / "scheduling" / "board-grid.css").read_text()
DAY = dt.date(2026, 11, 23)


def defined(name: str) -> bool:
    return re.search(rf"\.{re.escape(name)} \{{", GRID_CSS) is not None


def test_every_place_and_length_the_view_can_write_has_its_class():
    for grid in range(60, 25 * 60 + 1, 60):  # a day shows whole hours: 1 to 25 (clock change)
        assert defined(f"g-{grid}") and defined(f"hours-{grid // 60}")
        for minute in range(0, grid + 1):
            left = minute * 100 / grid
            for name in layout.span_class(left, 100 - left, grid).split()[1:]:
                assert defined(name), (grid, minute, name)
    for lane in range(0, 40):
        assert defined(layout.lane_class(lane))
    assert defined(f"lanes-{layout.MAX_LANES}")


def test_it_places_a_visit_by_minutes_and_names_it_by_its_text(org, office, technician,
                                                               office_client):
    site = SiteFactory(customer__organization=org, customer__name="Hollis Bakery")
    wo = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                           title="Oven hood vent")
    start = dt.datetime.combine(DAY, dt.time(10, 35), tzinfo=org.tzinfo)
    visit = visit_add(work_order=wo, by=office, start=start,
                      end=start + dt.timedelta(minutes=100), crew=[technician])
    html = office_client.get(f"/schedule/?date={DAY}").content.decode()
    assert ' style="' not in html
    block = re.search(rf'<a class="vb [^"]*"[^>]*data-visit="{visit.pk}".*?</a>', html).group(0)
    # The grid runs from 07:00: 3 h 35 min in, 1 h 40 min long.
    assert "placed at-h3 at-m35 len-h1 len-m40" in block
    assert "aria-label" not in block
    text = re.sub(r"<[^>]+>", "", block)
    assert text.startswith(f"{wo.reference} 10:35–12:15 Hollis Bakery")
    assert "Scheduled" in text
    assert f'class="avatar mc-{technician.pk}"' in html
    assert re.search(rf"\.mc-{technician.pk}\{{--mc:#[0-9a-f]{{6}};--mc-text:#(0{{6}}|f{{6}})\}}",
                     html)
    week = office_client.get(f"/schedule/?date={DAY}&view=week").content.decode()
    assert ' style="' not in week
    assert re.search(r'<div class="week-cell[^"]*"[^>]*role="group" aria-label="', week)


def test_a_live_refresh_of_the_board_carries_no_style_and_no_nonce(office_client, scene):  # noqa: F811
    """live.js fetches the page again to swap its parts in: a style there, with that response's
    nonce, would be refused by the page's policy; the avatars carry their colours instead."""
    page = office_client.get(f"/schedule/?date={DAY}")
    assert "<style nonce=" in page.content.decode()
    again = office_client.get(f"/schedule/?date={DAY}", HTTP_X_REQUESTED_WITH="live")
    html = again.content.decode()
    assert "<style" not in html
    assert "nonce" not in again["Content-Security-Policy"]
    abe = scene.members[1]
    assert (f'class="avatar mc-{abe.pk}" data-mc="#aa3300" data-mc-text="#ffffff"') in html


def test_a_visit_kept_in_place_shows_a_padlock_on_the_day_and_the_week(org, office, technician,
                                                                       office_client):
    site = SiteFactory(customer__organization=org, customer__name="Hollis Bakery")
    wo = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                           title="Oven hood vent")
    start = dt.datetime.combine(DAY, dt.time(9), tzinfo=org.tzinfo)
    kept = visit_add(work_order=wo, by=office, start=start,
                     end=start + dt.timedelta(hours=1), crew=[technician])
    kept.locked = True
    kept.save(update_fields=["locked"])
    other = visit_add(work_order=wo, by=office, start=start + dt.timedelta(hours=2),
                      end=start + dt.timedelta(hours=3), crew=[technician])
    for view, tag in (("day", 'class="vb '), ("week", 'class="chip ')):
        html = office_client.get(f"/schedule/?date={DAY}&view={view}").content.decode()
        blocks = {pk: re.search(rf'<a {tag}[^"]*"[^>]*data-visit="{pk}".*?</a>', html,
                                re.S).group(0) for pk in (kept.pk, other.pk)}
        assert 'class="vb-lock"' in blocks[kept.pk] and "kept in place" in blocks[kept.pk]
        assert "vb-lock" not in blocks[other.pk] and "kept in place" not in blocks[other.pk]
