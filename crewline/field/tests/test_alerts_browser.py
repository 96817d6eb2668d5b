"""Alerts on the technician's phone (Web Push) in Chromium: the app subscribes and keeps the
subscription on the server; the office moves a visit; the push service (a local one, which
decrypts what it gets as a browser would) receives the alert; delivered to the app's service
worker, it shows a notification that opens the visit, and the phone fetches the change.

Headless Chromium cannot register with a real push service (it has none here), so the browser's
own ``PushManager.subscribe`` is replaced by one that returns the local service's subscription:
that is the only part not real. The message itself goes in through DevTools'
``ServiceWorker.deliverPushMessage``, as a push service would deliver it.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.test import Client

from crewline.notifications.models import Notification, PushSubscription
from crewline.notifications.tests.push_service import PushService, b64url_decode, vapid_keys
from crewline.workorders.services import visit_schedule

from .test_app_browser import PHONE, open_app, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAKE_SUBSCRIBE = """
(() => {
  // Like the browser's: the subscription outlives the page (kept in localStorage here).
  const json = %s;
  const STORE = "test-push-subscription";
  const made = (key) => ({ endpoint: json.endpoint,
    options: { applicationServerKey: new Uint8Array(key).buffer }, toJSON: () => json,
    unsubscribe: async () => { localStorage.removeItem(STORE); return true; } });
  PushManager.prototype.subscribe = async function (options) {
    const key = Array.from(new Uint8Array(options.applicationServerKey));
    window.__subscribeOptions = { userVisibleOnly: options.userVisibleOnly, key };
    localStorage.setItem(STORE, JSON.stringify(key));
    return made(key);
  };
  PushManager.prototype.getSubscription = async function () {
    const key = localStorage.getItem(STORE);
    return key ? made(JSON.parse(key)) : null;
  };
})();
"""


@pytest.fixture
def vapid(settings, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    keys = vapid_keys()
    settings.VAPID_PRIVATE_KEY = keys["VAPID_PRIVATE_KEY"]
    settings.VAPID_PUBLIC_KEY = keys["VAPID_PUBLIC_KEY"]
    return keys


def phone_of(chromium, live_server, member, *, init_script: str = ""):
    """A phone-sized browser, logged in as ``member``, allowed to show notifications."""
    context = chromium.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True)
    context.grant_permissions(["notifications"], origin=live_server.url)
    if init_script:
        context.add_init_script(init_script)
    client = Client()
    client.force_login(member.user)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    context.base = live_server.url
    return context


def registration_id(cdp) -> str:
    found: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: found.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _ in range(50):
        live = [r for r in found if not r["isDeleted"] and r["scopeURL"].endswith("/field/")]
        if live:
            return live[-1]["registrationId"]
        cdp.send("Runtime.evaluate", {"expression": "1"})  # let the events arrive
    raise AssertionError(f"no service worker registration for /field/: {found}")


def test_it_turns_alerts_on_and_shows_the_office_change_on_the_phone(
        chromium, live_server, vapid, technician, office, make_visit, settings):
    settings.SITE_URL = live_server.url
    visit = make_visit(crew=[technician], days=1, title="Annual boiler service")
    with PushService() as service:
        context = phone_of(chromium, live_server, technician,
                           init_script=FAKE_SUBSCRIBE % json.dumps(service.subscription()))
        try:
            page = open_app(context)
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            page.wait_for_selector("[data-testid=push]")
            shot(page, "alerts-offer")
            page.click("[data-do=push_on]")
            page.wait_for_selector("[data-testid=push]", state="detached")
            options = page.evaluate("window.__subscribeOptions")
            assert options["userVisibleOnly"] is True
            assert bytes(options["key"]) == b64url_decode(vapid["VAPID_PUBLIC_KEY"])
            stored = PushSubscription.objects.get()
            assert (stored.member, stored.endpoint) == (technician, service.subscription()
                                                        ["endpoint"])

            # The office moves the visit an hour later: the push service gets the alert.
            start = visit.start + dt.timedelta(hours=1)
            visit_schedule(visit=visit, start=start, end=start + dt.timedelta(hours=1),
                           by=office, override=True)
            note = Notification.objects.get(recipient=technician)
            for _ in range(100):
                if service.received:
                    break
                page.wait_for_timeout(50)
            assert len(service.received) == 1
            payload = service.received[0]["payload"]
            assert payload["title"] == note.title
            assert payload["url"] == f"{live_server.url}/field/?visit={visit.pk}"

            # The push service hands it to the phone's service worker.
            cdp = context.new_cdp_session(page)
            cdp.send("ServiceWorker.deliverPushMessage", {
                "origin": live_server.url, "registrationId": registration_id(cdp),
                "data": json.dumps(payload)})
            # Read as soon as it shows: headless Chromium closes notifications after a while.
            shown = []
            for _ in range(200):
                shown = page.evaluate("""navigator.serviceWorker.ready
                    .then((r) => r.getNotifications())
                    .then((ns) => ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag,
                                                   path: n.data.path })))""")
                if shown:
                    break
                page.wait_for_timeout(25)
            assert shown == [{"title": note.title, "body": note.body,
                              "tag": f"notification-{note.pk}",
                              "path": f"/field/?visit={visit.pk}"}]
            # ... and fetches the change at once: the phone's copy of the visit has moved.
            page.wait_for_function(
                """([id, start]) => {
                     const v = window.CrewlineField.state().visits.find((x) => x.id === id);
                     return v && Date.parse(v.start) === start;
                   }""", arg=[visit.pk, int(start.timestamp() * 1000)], timeout=10_000)
            # On my day, the notice opens in full, with a way to the visit.
            page.click(f"[data-testid=notifications] a[href='#notice/{note.pk}']")
            page.wait_for_selector(f"[data-testid=notice] a[href='#visit/{visit.pk}']")
            shot(page, "alerts-on")

            # Opened again, the app sends the subscription once more (the server may have lost
            # it, or another member logged in on this phone) and offers nothing.
            PushSubscription.objects.all().delete()
            page.reload()
            page.wait_for_selector("body[data-ready='1']")
            for _ in range(100):
                if PushSubscription.objects.filter(member=technician).exists():
                    break
                page.wait_for_timeout(50)
            assert PushSubscription.objects.filter(member=technician).count() == 1
            assert page.locator("[data-testid=push]").count() == 0

            # Logging out ends this member's alerts on the phone.
            page.click(".field-menu")
            page.click("form[data-logout] button")
            page.wait_for_url("**/login/**")
            assert not PushSubscription.objects.filter(member=technician).exists()
        finally:
            context.close()


def test_it_offers_alerts_again_after_a_failure_and_not_after_not_now(
        chromium, live_server, vapid, technician):
    """Without a push service (headless Chromium has none), turning alerts on fails: the app
    says so and offers again; "Not now" hides the offer for good on this phone."""
    context = phone_of(chromium, live_server, technician)
    try:
        page = open_app(context)
        page.wait_for_selector("[data-testid=push]")
        page.click("[data-do=push_on]")
        page.wait_for_selector("[data-testid=push]:has-text('could not be turned on')")
        assert PushSubscription.objects.count() == 0
        page.click("[data-do=push_dismiss]")
        page.wait_for_selector("[data-testid=push]", state="detached")
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_timeout(300)
        assert page.locator("[data-testid=push]").count() == 0
    finally:
        context.close()


def test_it_offers_no_alerts_when_web_push_is_not_configured(chromium, live_server, technician,
                                                            settings):
    settings.VAPID_PRIVATE_KEY = settings.VAPID_PUBLIC_KEY = ""
    context = phone_of(chromium, live_server, technician)
    try:
        page = open_app(context)
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.wait_for_timeout(300)
        assert page.locator("[data-testid=push]").count() == 0
    finally:
        context.close()
