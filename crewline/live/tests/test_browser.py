"""Live updates in a real browser: two people on the same work order; a note one adds appears
on the other's page within 2 seconds, without a reload and without touching what they type.

The stream needs an ASGI server (the test live server is WSGI), so the test starts uvicorn on a
SQLite file of its own."""

from __future__ import annotations

import time

import pytest

from crewline.live.tests.servers import (
    seed,
    server_env,
    sqlite_database,
    start_servers,
    stop_servers,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # One server for the module: migrating takes longer than the tests. Neither test depends
    # on what the other changes.
    tmp_path = tmp_path_factory.mktemp("live-browser")
    env = server_env(tmp_path, LIVE_BROKER="memory")
    sqlite_database(env, tmp_path)
    data = seed(env)
    [port], servers = start_servers(env, 1, "crewline.live.tests.asgi_static:application")
    try:
        yield f"http://127.0.0.1:{port}", data
    finally:
        stop_servers(servers)


def _page(chromium, base: str, session: str):
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_it_shows_a_note_added_on_one_page_on_the_other_without_reload(chromium, site):
    base, data = site
    url = f"{base}/work-orders/{data['number']}/"
    watcher = _page(chromium, base, data["session"])
    writer = _page(chromium, base, data["session"])
    try:
        watcher.goto(url)
        writer.goto(url)
        watcher.wait_for_function("() => document.documentElement.dataset.live === 'open'")
        # Marks that a reload would lose: a flag in the page, a half-typed note, the scroll.
        watcher.evaluate("window.notReloaded = true")
        watcher.fill("#note-form textarea", "Half a thought")
        watcher.focus("#note-form textarea")
        watcher.evaluate("window.scrollTo(0, 200)")
        scroll = watcher.evaluate("window.scrollY")

        # Marks on the parts a note does not touch: only the new entry is put in.
        watcher.evaluate("""() => { for (const id of ['timeline', 'work-done', 'visit-list',
            'wo-status', 'wo-actions']) { document.getElementById(id).dataset.mark = 'kept'; } }""")
        fetched = []
        watcher.on("request", lambda r: fetched.append(r.url) if "/work-orders/" in r.url
                   else None)

        writer.fill("#note-form textarea", "Gate code is 4412")
        writer.click("#note-form button[type=submit]")
        writer.wait_for_selector("#timeline :text('Gate code is 4412')")
        posted = time.monotonic()
        watcher.wait_for_selector("#timeline :text('Gate code is 4412')", timeout=2_000)
        assert time.monotonic() - posted < 2
        assert [u.split("?")[0].rstrip("/").rsplit("/", 1)[-1] for u in fetched] == ["live"]
        assert "what=timeline&entry=" in fetched[0]
        assert watcher.evaluate("""() => ['timeline', 'work-done', 'visit-list', 'wo-status',
            'wo-actions'].map((id) => document.getElementById(id).dataset.mark)""") == \
            ["kept"] * 5
        # Newest first: the note is the timeline's first entry.
        assert "Gate code is 4412" in watcher.inner_text("#timeline > li:first-child")

        assert watcher.evaluate("window.notReloaded") is True
        assert watcher.input_value("#note-form textarea") == "Half a thought"
        assert watcher.evaluate("document.activeElement.name") == "body"
        assert watcher.evaluate("window.scrollY") == scroll
    finally:
        watcher.context.close()
        writer.context.close()


def test_it_puts_a_new_visit_in_and_leaves_a_focused_part_until_the_focus_leaves(
        chromium, site):
    base, data = site
    url = f"{base}/work-orders/{data['number']}/"
    watcher = _page(chromium, base, data["session"])
    writer = _page(chromium, base, data["session"])
    try:
        watcher.goto(url)
        writer.goto(url)
        watcher.wait_for_function("() => document.documentElement.dataset.live === 'open'")
        assert watcher.locator("#visit-list .live-empty").count() == 1
        # The watcher is on one of the action buttons (about to press it).
        watcher.evaluate("document.getElementById('wo-actions').dataset.mark = 'old'")
        watcher.focus("#wo-actions button")

        writer.click("button[data-bs-target='#visit-form']")
        writer.fill("#visit-form input[name=start_time]", "09:00")
        with writer.expect_response(lambda r: r.request.method == "POST"
                                    and "/visits/" in r.url) as posted:
            writer.click("#visit-form button[type=submit]")
        # The visit is added and the page comes back with it; if not, the form says why.
        assert posted.value.status == 302, writer.inner_text("#visit-form")
        writer.wait_for_selector("#visit-list li[id^=visit-]")
        # The new visit's card is put into the list, the "no visits" line goes; the header,
        # which holds the focus, waits, marked stale.
        watcher.wait_for_selector("#visit-list li[id^=visit-]", timeout=2_000)
        assert watcher.locator("#visit-list .live-empty").count() == 0
        assert watcher.evaluate("document.getElementById('wo-actions').dataset.mark") == "old"
        assert watcher.locator("[data-live-stale]").count() == 1

        watcher.evaluate("document.activeElement.blur()")
        watcher.wait_for_function(
            "() => !document.getElementById('wo-actions').dataset.mark", timeout=2_000)
        assert watcher.locator("[data-live-stale]").count() == 0
        assert watcher.inner_text("#wo-status .status-badge") == \
            writer.inner_text("#wo-status .status-badge")
    finally:
        watcher.context.close()
        writer.context.close()


def test_it_updates_the_work_order_list_and_the_board_queue(chromium, site):
    base, data = site
    watcher = _page(chromium, base, data["session"])
    board = _page(chromium, base, data["session"])
    writer = _page(chromium, base, data["session"])
    try:
        watcher.goto(f"{base}/work-orders/?q=Two")
        board.goto(f"{base}/schedule/")
        for page in (watcher, board):
            page.wait_for_function("() => document.documentElement.dataset.live === 'open'")
        assert watcher.locator("#wo-rows :text('Two processes')").count() == 1
        assert board.locator("#board-queue :text('Two processes')").count() == 1
        # Cancelling the job takes it off the open list the watcher is looking at.
        writer.goto(f"{base}/work-orders/{data['number']}/")
        writer.click("button[data-bs-target='#reason-cancel']")
        writer.fill("#reason-cancel-text", "Customer sold the house")
        writer.click("#reason-cancel button[type=submit]")
        writer.wait_for_load_state("networkidle")
        watcher.wait_for_selector("#wo-rows :text('Two processes')", state="detached",
                                  timeout=2_000)
        assert watcher.input_value("input[name=q]") == "Two"
        board.wait_for_selector("#board-queue :text('Two processes')", state="detached",
                                timeout=2_000)
    finally:
        for page in (watcher, board, writer):
            page.context.close()
