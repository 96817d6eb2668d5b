"""The board in Chromium when someone else changes a visit: live.js fetches the page again and
swaps the rows and the queue in. The focus stays on the same visit (or control), the grid keeps
its scroll, and the swap breaks no rule of the Content-Security-Policy (the refreshed page has
no style of members' colours, whose nonce the page would refuse; a member new since the page
was loaded is coloured from the avatar's data attributes).

A refresh is asked for as the stream would ask (a "change" event on live.js's EventSource):
the test server is WSGI, which does not stream; crewline/live/tests cover the stream itself."""

from __future__ import annotations

import datetime as dt

import pytest

from crewline.core.models import Role
from crewline.factories import MemberFactory
from crewline.scheduling.tests.test_board_parity import DAY, local, scene  # noqa: F401
from crewline.workorders.services import visit_schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || location.pathname}:${e.lineNumber}`);
});
"""


def refresh(page) -> None:
    """What live.js does on a change to the board's day: fetch the page, swap the parts."""
    before = page.evaluate("() => window.crewlineLive.refreshed")
    page.evaluate("""() => window.crewlineLive.source.dispatchEvent(new MessageEvent("change",
        {data: JSON.stringify({topic: "list", topics: ["list"]})}))""")
    page.wait_for_function(f"() => window.crewlineLive.refreshed > {before}")


@pytest.fixture
def board_page(login, office, org, scene):  # noqa: F811
    page = login(office)
    page.context.add_init_script(CSP_LISTENER)
    page.goto(f"{page.base}/schedule/?date={DAY}")
    page.wait_for_function("() => window.crewlineLive")
    return page


def mark_old(page) -> None:
    page.evaluate("() => document.querySelectorAll('#board-main *, #board-queue *')"
                  ".forEach(el => { el.dataset.old = '1'; })")


def focused(page) -> dict:
    return page.evaluate("""() => { const el = document.activeElement;
        return {visit: el.dataset.visit || null, member: el.dataset.member || null,
                id: el.id, text: el.textContent.trim(), old: el.dataset.old === '1',
                tag: el.tagName}; }""")


def test_it_keeps_the_focus_on_the_same_visit_after_a_live_refresh(board_page, office,
                                                                   scene):  # noqa: F811
    page = board_page
    tara, abe = scene.members[0], scene.members[1]
    first, moved = scene.visits[0], scene.visits[3]
    page.focus(f'a.vb[data-visit="{first.pk}"][data-member="{tara.pk}"]')
    mark_old(page)
    # Someone else moves Abe's 15:00 visit an hour on.
    visit_schedule(visit=moved, start=local(moved.organization, DAY, 16),
                   end=local(moved.organization, DAY, 17), by=office, override=True)
    refresh(page)
    block = page.locator(f'a.vb[data-visit="{moved.pk}"]')
    assert "16:00–17:00" in block.inner_text()
    now = focused(page)
    assert (now["visit"], now["member"], now["old"]) == (str(first.pk), str(tara.pk), False)

    # A crew's visit: the focus stays on the same technician's row.
    crew = scene.visits[2]
    page.focus(f'a.vb[data-visit="{crew.pk}"][data-member="{abe.pk}"]')
    mark_old(page)
    refresh(page)
    now = focused(page)
    assert (now["visit"], now["member"], now["old"]) == (str(crew.pk), str(abe.pk), False)
    # And the arrow keys go on from there.
    page.keyboard.press("ArrowRight")
    assert focused(page)["visit"] == str(scene.visits[3].pk)


def test_it_keeps_the_focus_on_the_same_control_and_queue_item(board_page, scene):  # noqa: F811
    page = board_page
    page.focus("#board-queue .btn-group a:has-text('Due')")
    mark_old(page)
    refresh(page)
    now = focused(page)
    assert (now["text"], now["old"]) == ("Due", False)

    no_crew = scene.visits[7]
    page.focus(f"#q-visit-{no_crew.pk}")
    mark_old(page)
    refresh(page)
    now = focused(page)
    assert (now["id"], now["old"]) == (f"q-visit-{no_crew.pk}", False)


def test_it_keeps_the_grid_scrolled_on_a_phone(chromium, live_server, office, scene):  # noqa: F811
    from crewline.conftest import PASSWORD

    context = chromium.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", office.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}/schedule/?date={DAY}")
    page.wait_for_function("() => window.crewlineLive")
    page.evaluate("() => { document.querySelector('.day-grid').scrollLeft = 500; }")
    page.wait_for_function("() => document.querySelector('.day-grid').scrollLeft === 500")
    refresh(page)
    assert page.evaluate("() => document.querySelector('.day-grid').scrollLeft") == 500
    context.close()


def test_a_live_refresh_breaks_no_policy_and_colours_a_new_member(board_page, org,
                                                                  scene):  # noqa: F811
    page = board_page
    assert page.locator("head style").count() == 1
    nina = MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Nina New",
                         colour="#123456")
    with page.expect_response(lambda r: r.request.headers.get("x-requested-with") == "live"
                              ) as answer:
        refresh(page)
    assert "<style" not in answer.value.text()
    assert page.evaluate("() => window.__cspViolations") == []
    avatar = page.locator(f"#row-{nina.pk} .avatar")
    assert avatar.evaluate("a => getComputedStyle(a).backgroundColor") == "rgb(18, 52, 86)"
    assert avatar.evaluate("a => getComputedStyle(a).color") == "rgb(255, 255, 255)"
    # The members the page was loaded with keep their colours from its style.
    abe = scene.members[1]
    assert page.locator(f"#row-{abe.pk} .avatar").evaluate(
        "a => getComputedStyle(a).backgroundColor") == "rgb(170, 51, 0)"
    assert page.locator("head style").count() == 1
    assert page.evaluate("() => window.__cspViolations") == []



def test_it_keeps_the_focus_on_the_same_days_chip_in_the_week(board_page, scene):  # noqa: F811
    page = board_page
    page.goto(f"{page.base}/schedule/?date={DAY}&view=week")
    page.wait_for_function("() => window.crewlineLive")
    cleo, several_days = scene.members[2], scene.visits[4]
    tuesday = (DAY + dt.timedelta(days=1)).isoformat()
    cell = f'.week-cell[data-member="{cleo.pk}"][data-date="{tuesday}"]'
    page.focus(f'{cell} a.chip[data-visit="{several_days.pk}"]')
    mark_old(page)
    refresh(page)
    assert page.evaluate("""() => { const el = document.activeElement;
        return [el.dataset.visit, el.closest('.week-cell').dataset.date, el.dataset.old || ''];
        }""") == [str(several_days.pk), tuesday, ""]
