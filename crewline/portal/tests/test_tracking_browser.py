"""The tracking page and the offered times in Chromium at phone (360x740) and desktop size:
the van moves on the map while the visit is on the way and the page says the technician
arrived after, with no map; the customer picks an offered time. axe-core's WCAG 2.1 A/AA rules
find nothing serious, the Content-Security-Policy blocks nothing, targets are 44 x 44 px on
the phone. Screenshots go to var/shots/portal/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crewline.core.tests.test_accessibility_browser import VIEWPORTS, Audit, new_page
from crewline.factories import SiteFactory
from crewline.field.services.positions import travel_position_record
from crewline.portal.services import portal_link_issue, window_offers_make
from crewline.portal.tests.test_portal_browser import no_overflow, shoot, small_targets
from crewline.portal.tracking import tracking_link_issue
from crewline.workorders.models import Visit
from crewline.workorders.services import (
    visit_add,
    visit_arrive,
    visit_en_route,
    work_order_create,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SITE = (41.8781, -87.6298)


@pytest.fixture
def site(org):
    return SiteFactory(customer__organization=org, customer__name="Maple Dental",
                       customer__email="billing@maple.example", address_line1="12 Maple Ave",
                       latitude=Decimal(str(SITE[0])), longitude=Decimal(str(SITE[1])))


@pytest.fixture
def visit(org, owner, technician, site):
    wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                           title="Boiler service")
    start = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=20)
    return visit_add(work_order=wo, by=owner, start=start, end=start + dt.timedelta(hours=2),
                     crew=[technician], override=True)


def van(page) -> tuple[str, str]:
    return (page.get_attribute("#track-van", "cx"), page.get_attribute("#track-van", "cy"))


def test_the_van_moves_while_on_the_way_and_is_gone_after_arrival(
        chromium, live_server, visit, technician):
    visit_en_route(visit=visit, by=technician)
    travel_position_record(visit=visit, member=technician, latitude=SITE[0] + 0.09,
                           longitude=SITE[1] - 0.04)
    travel_position_record(visit=visit, member=technician, latitude=SITE[0] + 0.05,
                           longitude=SITE[1] - 0.02)
    _link, token = tracking_link_issue(visit)
    context, page = new_page(chromium, live_server.url, VIEWPORTS["phone"])
    page.goto(page.base + reverse("portal_public:track", args=[token]))
    assert page.inner_text("#track-title") == "Tara is on the way."
    assert "Arriving at about" in page.inner_text("#track-eta")
    assert page.is_visible("#track-map")
    first = van(page)
    assert first != ("0", "0")
    shoot(page, "tracking-en-route-phone")

    # The van comes closer: the page asks again within 15 s and moves it.
    travel_position_record(visit=visit, member=technician, latitude=SITE[0] + 0.01,
                           longitude=SITE[1] - 0.005)
    page.wait_for_function(
        "([x, y]) => { const v = document.getElementById('track-van');"
        " return v.getAttribute('cx') !== x || v.getAttribute('cy') !== y; }",
        arg=list(first), timeout=20_000)
    # 1.19 km of straight line, rounded to 100 m.
    assert "1.2 km away" in page.inner_text("#track-distance")

    visit_arrive(visit=Visit.objects.get(pk=visit.pk), by=technician)
    page.wait_for_function(
        "() => document.getElementById('track-title').textContent === 'Tara has arrived.'",
        timeout=20_000)
    assert not page.is_visible("#track-map")
    assert page.inner_text("#track-distance") == ""
    shoot(page, "tracking-arrived-phone")
    context.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_tracking_page_and_the_offered_times_are_accessible(
        chromium, live_server, org, owner, office, technician, site, visit, size):
    visit_en_route(visit=visit, by=technician)
    travel_position_record(visit=visit, member=technician, latitude=SITE[0] + 0.09,
                           longitude=SITE[1] + 0.06)
    travel_position_record(visit=visit, member=technician, latitude=SITE[0] + 0.04,
                           longitude=SITE[1] + 0.03)
    _link, track_token = tracking_link_issue(visit)
    waiting = work_order_create(organization=org, by=None, customer=site.customer, site=site,
                                title="No hot water")
    day = timezone.localdate(timezone=org.tzinfo) + dt.timedelta(days=3)
    offers = window_offers_make(work_order=waiting, by=office, crew=technician, windows=[
        (dt.datetime.combine(day, dt.time(h), tzinfo=org.tzinfo),
         dt.datetime.combine(day, dt.time(h + 2), tzinfo=org.tzinfo)) for h in (8, 11, 14)])
    _link, token = portal_link_issue(customer=site.customer, by=owner, sent_to="a@b.example")

    audit = Audit(size)
    context, page = new_page(chromium, live_server.url, VIEWPORTS[size])
    small: list[str] = []
    for name, path in (("tracking", reverse("portal_public:track", args=[track_token])),
                       ("portal offered times", reverse("portal_public:home", args=[token]))):
        response = page.goto(page.base + path)
        assert response.status == 200, name
        audit.check(page, name)
        shoot(page, f"{name.replace(' ', '-')}-{size}")
        if size == "phone":
            small += [f"{name}: {t}" for t in small_targets(page)]
            assert no_overflow(page), f"{name} scrolls sideways at 360 px"
    assert page.locator("#times button").count() == 3
    page.click(f"button[data-offer='{offers[1].pk}']")
    page.wait_for_selector("#picked")
    audit.check(page, "portal time picked")
    shoot(page, f"portal-time-picked-{size}")
    booked = Visit.objects.get(work_order=waiting)
    assert booked.start == offers[1].start and booked.end == offers[1].end
    context.close()
    assert not audit.blocking(), "\n".join(audit.blocking())
    assert not audit.csp(), "\n".join(audit.csp())
    assert not small, "\n".join(small)
