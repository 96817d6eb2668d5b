"""The board's text fits, in Chromium at 1366x900 and 360x740: a one-hour block shows its number
and customer (cut with an ellipsis, never clipped mid-character), its title and accessible name
have all of it; the schedule dialog's fields show their whole value; visits of every status
pass axe's colour contrast rule."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from crewline.conftest import PASSWORD
from crewline.workorders.models import Visit, VisitStatus
from crewline.workorders.services import visit_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = dt.date(2026, 11, 26)  # a Thursday; the grid runs 07:00–18:00
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 360, "height": 740}}


def local(org, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=org.tzinfo)


@pytest.fixture
def day(org, office, technician):
    from crewline.factories import SiteFactory
    from crewline.workorders.services import work_order_create

    site = SiteFactory(customer__organization=org,
                       customer__name="Northwestern Memorial Hospital Facilities",
                       address_line1="251 East Huron Street", city="Chicago")
    visits = {}
    for status, hour, minutes in ((VisitStatus.SCHEDULED, 8, 60), (VisitStatus.DONE, 10, 60),
                                  (VisitStatus.EN_ROUTE, 12, 60), (VisitStatus.ON_SITE, 14, 60),
                                  (VisitStatus.INCOMPLETE, 16, 60),
                                  (VisitStatus.CANCELLED, 9, 30)):
        wo = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                               title=f"Job at {hour}")
        visit = visit_add(work_order=wo, by=office, start=local(org, hour),
                          end=local(org, hour) + dt.timedelta(minutes=minutes),
                          crew=[technician], override=True)
        Visit.objects.filter(pk=visit.pk).update(status=status)
        visits[status] = visit
    return visits


def page_at(chromium, live_server, office, size: str):
    context = chromium.new_context(viewport=SIZES[size])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", office.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


@pytest.mark.parametrize("size", SIZES)
def test_a_one_hour_block_shows_its_number_and_customer(chromium, live_server, office, day,
                                                        size):
    page = page_at(chromium, live_server, office, size)
    page.goto(f"{live_server.url}/schedule/?date={DAY}")
    visit = day[VisitStatus.SCHEDULED]
    number = visit.work_order.number
    block = page.locator(f'a.vb[data-visit="{visit.pk}"]')
    shown = block.evaluate("""b => {
        const seen = el => el.getBoundingClientRect().width > 1;
        const ref = b.querySelector('.vb-ref'), cust = b.querySelector('.vb-cust');
        return {ref: Array.from(ref.childNodes).filter(n => n.nodeType === 3 || seen(n))
                            .map(n => n.textContent).join(''),
                refFits: ref.scrollWidth <= ref.clientWidth,
                custEllipsis: getComputedStyle(cust).textOverflow,
                custCut: cust.scrollWidth > cust.clientWidth,
                width: b.getBoundingClientRect().width}; }""")
    assert shown["width"] <= 80, shown  # an hour: 64 to 80 px
    assert shown["ref"] == str(number) and shown["refFits"], shown
    assert shown["custEllipsis"] == "ellipsis" and shown["custCut"], shown
    title = block.get_attribute("title")
    assert title == (f"WO-{number} · 08:00–09:00 · Northwestern Memorial Hospital Facilities · "
                     "251 East Huron Street, Chicago")
    # Its name is all of its text, what is cut or hidden from sight included.
    named = page.get_by_role("link", name=re.compile(
        rf"^WO-{number} 08:00–09:00 Northwestern Memorial Hospital Facilities "
        r"251 East Huron Street, Chicago , Scheduled"))
    assert named.count() == 1
    page.context.close()


@pytest.mark.parametrize("width", [360, 600, 800, 1366])
def test_the_schedule_dialog_shows_the_whole_start_time(chromium, live_server, office, day,
                                                        width):
    page = page_at(chromium, live_server, office, "desktop")
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_server.url}/schedule/?date={DAY}")
    page.focus(f'a.vb[data-visit="{day[VisitStatus.SCHEDULED].pk}"]')
    page.keyboard.press("Enter")
    form = page.locator("#board-dialog form[data-schedule-form]")
    form.wait_for()
    for name in ("date", "start", "minutes"):
        # An input's width as Chromium would give it for its value (width: auto), against
        # the width the form gives it.
        need, has = form.locator(f"input[name={name}]").evaluate("""i => {
            const probe = i.cloneNode();
            probe.style.width = 'auto';
            probe.style.position = 'absolute';
            i.parentNode.appendChild(probe);
            const need = probe.getBoundingClientRect().width;
            probe.remove();
            return [need, i.getBoundingClientRect().width]; }""")
        if name != "minutes":  # a number field's natural width is for 20 digits
            assert has >= need - 0.5, (width, name, need, has)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.context.close()


@pytest.mark.parametrize("size", SIZES)
def test_visits_of_every_status_pass_the_contrast_rule(chromium, live_server, office, day,
                                                       size):
    from axe_playwright_python.base import AXE_SCRIPT

    page = page_at(chromium, live_server, office, size)
    statuses = "".join(f"&status={s}" for s in VisitStatus.values)
    page.goto(f"{live_server.url}/schedule/?date={DAY}{statuses}")
    assert page.locator("a.vb").count() == len(day)
    page.evaluate(AXE_SCRIPT)
    found = page.evaluate("""() => axe.run(document, {runOnly: {type: 'rule',
        values: ['color-contrast']}, resultTypes: ['violations']})""")
    failing = [(n["target"], n.get("failureSummary", "")[:200])
               for v in found["violations"] for n in v["nodes"]]
    assert failing == []
    page.context.close()
