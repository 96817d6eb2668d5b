"""Every main screen in Chromium at desktop (1366x900) and phone (360x740) size, on the demo
company: axe-core's WCAG 2.1 A and AA rules find no serious or critical violation, and no page
breaks its Content-Security-Policy (a blocked script, style or connection fails the test).

Each run writes what axe found per screen to var/a11y/<size>.json, the figures quoted when the
rules or the screens change; with CREWLINE_SHOTS=1 it also keeps a screenshot of each screen in
var/shots/."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from crewline.conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 360, "height": 740}}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# WCAG 2.5.3 (label in name, level A): axe checks it in a rule it still calls experimental,
# which runs only when asked for.
EXTRA_RULES = {"label-content-name-mismatch": {"enabled": True}}
BLOCKING = {"serious", "critical"}
OUT = Path(__file__).resolve().parents[3] / "var" / "a11y"
SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"

# Collects what the page's Content-Security-Policy refused, before any of the page's own code.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || location.pathname}:${e.lineNumber}`);
});
"""


@dataclass
class Scene:
    """The demo company with one of everything a screen shows."""

    org: object
    owner: object
    technician: object
    day: dt.date
    work_order: object
    visit: object
    customer: object
    site: object
    quote: object
    invoice: object
    quote_token: str
    week: str
    invite_token: str
    time_entry: object
    webhook: object
    route_plan: object
    portal_token: str
    tracking_token: str
    offer_work_order: object
    done: object
    feedback_token: str
    message: object


def _tracking_and_offers(org, owner, technician, site) -> tuple[str, object]:
    """A visit on the way with the van on the map, its tracking link; and a job waiting for
    the customer to pick one of the times offered in their portal."""
    from crewline.field.services.positions import travel_position_record
    from crewline.portal.services import window_offers_make
    from crewline.portal.tracking import tracking_link_issue
    from crewline.workorders.services import visit_add, visit_en_route, work_order_create

    if not site.has_coordinates:
        site.latitude, site.longitude = Decimal("41.878100"), Decimal("-87.629800")
        site.save(update_fields=["latitude", "longitude"])
    now = timezone.now().replace(microsecond=0)
    wo = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                           title="No heat upstairs")
    visit = visit_add(work_order=wo, by=owner, start=now + dt.timedelta(minutes=20),
                      end=now + dt.timedelta(hours=2), crew=[technician], override=True)
    visit_en_route(visit=visit, by=technician)
    lat, lng = float(site.latitude), float(site.longitude)
    travel_position_record(visit=visit, member=technician, latitude=lat + 0.06,
                           longitude=lng + 0.05)
    travel_position_record(visit=visit, member=technician, latitude=lat + 0.03,
                           longitude=lng + 0.02)
    _link, token = tracking_link_issue(visit)
    waiting = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                                title="Annual boiler check")
    tz = org.tzinfo
    day = timezone.localdate(timezone=tz) + dt.timedelta(days=3)
    window_offers_make(work_order=waiting, by=owner, crew=technician, windows=[
        (dt.datetime.combine(day, dt.time(h), tzinfo=tz),
         dt.datetime.combine(day, dt.time(h + 2), tzinfo=tz)) for h in (8, 11, 14)])
    return token, waiting


@pytest.fixture
def scene(live_server) -> Scene:
    from crewline.billing import services as billing
    from crewline.billing.models import ItemKind
    from crewline.core.models import Member, Role
    from crewline.demo.seed import seed_demo
    from crewline.timesheets.services import time_entry_add
    from crewline.workorders.models import Status, Visit, WorkOrder

    org = seed_demo(size=0.1).organization
    owner = Member.objects.get(organization=org, user__email="owner@northwind.example")
    technician = Member.objects.get(organization=org, user__email="tech@northwind.example")
    now = timezone.now()
    visit = (Visit.objects.filter(organization=org, crew=technician, start__gte=now)
             .order_by("start").select_related("work_order").first())
    work_order = (WorkOrder.objects.filter(organization=org, visits__isnull=False)
                  .exclude(status=Status.CANCELLED).order_by("-number").first())
    site = work_order.site
    billing.price_item_create(organization=org, by=owner, code="CALL", name="Service call",
                              unit="visit", unit_price=Decimal("95"))
    item = billing.price_item_create(organization=org, by=owner, code="FLT-16",
                                     name="Pleated filter 16x25", kind=ItemKind.MATERIAL,
                                     unit="each", unit_price=Decimal("12.50"),
                                     tax_rate=Decimal("8.25"))
    quote = billing.quote_create(organization=org, by=owner, customer=site.customer,
                                 site=site, title="Replace the rooftop unit")
    billing.quote_line_add(quote=quote, by=owner, item=item, quantity=2)
    billing.quote_line_add(quote=quote, by=owner, item=item, is_optional=True)
    billing.quote_send(quote=quote, by=owner, to="customer@example.com")
    done = (WorkOrder.objects.filter(organization=org, status=Status.COMPLETED)
            .order_by("-number").first())
    invoice = billing.invoice_draft_from_work_order(work_order=done, by=owner)
    # A part typed on the phone, not yet priced: the draft warns and offers to edit it.
    billing.invoice_line_add(invoice=invoice, by=owner, description="Copper pipe 15mm",
                             unit_price=Decimal(0), quantity=2)
    # The owner's notifications, some read (their times are in a lighter colour).
    from crewline.notifications.models import NotificationKind
    from crewline.notifications.services import notification_mark_read, notify_office

    for n in range(3):
        told = notify_office(organization_id=org.pk, kind=NotificationKind.QUOTE_APPROVED,
                             title=f"Quote Q-{1001 + n} approved", body="By Rosa Diaz")
        if n:
            notification_mark_read(
                notification=next(t for t in told if t.recipient_id == owner.pk), by=owner)
    import re as _re

    from django.core import mail

    from crewline.core.services import invitation_create

    invitation_create(organization=org, email="new.tech@northwind.example",
                      role=Role.TECHNICIAN, by=owner)
    invite_token = _re.search(r"/invite/([^/\s]+)/", mail.outbox[-1].body).group(1)
    tz = org.tzinfo
    monday = timezone.localdate(timezone=tz) - dt.timedelta(
        days=timezone.localdate(timezone=tz).weekday())
    start = dt.datetime.combine(monday, dt.time(7, 30), tzinfo=tz)
    time_entry = time_entry_add(member=technician, by=owner, kind="shift", start=start,
                                end=start + dt.timedelta(hours=8))
    assert Member.objects.filter(organization=org, role=Role.TECHNICIAN).count() > 3
    from crewline.scheduling.routes import route_plan_propose

    route_plan = route_plan_propose(organization=org, by=owner, seconds=0.5,
                                    day=timezone.localtime(visit.start, tz).date())
    webhook = _webhook(org, owner)
    from crewline.portal.services import portal_link_issue

    _, portal_token = portal_link_issue(customer=site.customer, by=owner,
                                        sent_to="customer@example.com")
    tracking_token, offer_work_order = _tracking_and_offers(org, owner, technician, site)
    from crewline.messaging.models import Message

    _, feedback_token = portal_link_issue(customer=done.customer, by=owner,
                                          sent_to="customer@example.com")
    message = Message.objects.create(
        organization=org, kind="reminder", work_order=work_order, visit=visit,
        customer=work_order.customer, channel="sms", to="+13125550123", scheduled_for=now,
        status="delivered", sent_at=now, delivered_at=now, provider_id="SM" + "0" * 32,
        body="Northwind: a reminder of your visit tomorrow, 09:00–11:00.")
    return Scene(org=org, owner=owner, technician=technician,
                 day=timezone.localtime(visit.start, tz).date(), work_order=work_order,
                 visit=visit, customer=site.customer, site=site, quote=quote,
                 invoice=invoice, quote_token=billing.quote_link_token(quote=quote),
                 week=monday.isoformat(), invite_token=invite_token,
                 time_entry=time_entry, route_plan=route_plan, webhook=webhook,
                 portal_token=portal_token, tracking_token=tracking_token,
                 offer_work_order=offer_work_order, done=done, feedback_token=feedback_token,
                 message=message)


def _webhook(org, owner):
    """An endpoint with a delivery log: one attempt answered, one not."""
    from crewline.live.models import EVENTS
    from crewline.webhooks.models import WebhookAttempt, WebhookDelivery
    from crewline.webhooks.services import endpoint_create

    endpoint = endpoint_create(organization=org, by=owner, url="https://erp.example.com/hooks",
                               events=EVENTS, description="ERP")
    for status, error in ((200, ""), (None, "No answer within 15 s.")):
        delivery = WebhookDelivery.objects.create(
            organization=org, endpoint=endpoint, msg_id="42", event="work_order.completed",
            resource_key="work_order:1", payload={}, state="delivered" if status else "pending")
        WebhookAttempt.objects.create(organization=org, endpoint=endpoint, delivery=delivery,
                                      status_code=status, latency_ms=120, error=error,
                                      response_excerpt='{"ok": true}' if status else "")
    return endpoint


def office_screens(s: Scene) -> list[tuple[str, str]]:
    return [
        ("dashboard", "/dashboard/"),
        ("work order list", "/work-orders/"),
        ("work order detail", f"/work-orders/{s.work_order.number}/"),
        ("work order offering times", f"/work-orders/{s.offer_work_order.number}/"),
        ("new work order", "/work-orders/new/"),
        ("customers list", "/customers/"),
        ("customer detail", f"/customers/{s.customer.pk}/"),
        ("site edit", f"/customers/sites/{s.site.pk}/edit/"),
        ("site", f"/customers/sites/{s.site.pk}/"),
        ("board day", f"/schedule/?date={s.day}"),
        ("board week", f"/schedule/?date={s.day}&view=week"),
        ("schedule form", f"/schedule/plan/?visit={s.visit.pk}"),
        ("plan the day", f"/schedule/day-plans/{s.route_plan.pk}/"),
        ("availability", "/schedule/availability/"),
        ("member availability", f"/schedule/availability/{s.technician.pk}/"),
        ("plans", "/plans/"),
        ("price book", "/billing/price-book/"),
        ("quotes", "/billing/quotes/"),
        ("quote", f"/billing/quotes/{s.quote.pk}/"),
        ("invoices", "/billing/"),
        ("invoice", f"/billing/invoices/{s.invoice.pk}/"),
        ("billing settings", "/billing/settings/"),
        ("timesheets", "/timesheets/"),
        ("timesheet week", f"/timesheets/{s.technician.pk}/{s.week}/"),
        ("time entry edit", f"/timesheets/entries/{s.time_entry.pk}/edit/"),
        ("team", "/team/"),
        ("member", f"/team/{s.technician.pk}/"),
        ("getting started", "/getting-started/"),
        ("settings", "/settings/"),
        ("technician app settings", "/field/settings/"),
        ("settings hours", "/settings/hours/"),
        ("work order types", "/settings/work-order-types/"),
        ("api keys", "/settings/api-keys/"),
        ("webhooks", "/settings/webhooks/"),
        ("webhook endpoint", f"/settings/webhooks/{s.webhook.pk}/"),
        ("messages settings", "/settings/messages/"),
        ("customer message", f"/messages/{s.message.pk}/"),
        ("calendar feeds", "/calendar/"),
        ("notifications", "/notifications/"),
        ("profile", "/profile/"),
        ("audit log", "/audit/"),
    ]


def public_screens(s: Scene) -> list[tuple[str, str]]:
    return [("login", "/login/"), ("sign-up", "/signup/"), ("password reset", "/password-reset/"),
            ("public quote", f"/q/{s.quote_token}/"),
            ("portal", f"/p/{s.portal_token}/"),
            ("portal quote", f"/p/{s.portal_token}/quotes/{s.quote.pk}/"),
            ("portal new link", "/p/new-link/"),
            ("tracking", f"/p/track/{s.tracking_token}/"),
            ("feedback", f"/p/{s.feedback_token}/feedback/{s.done.number}/"),
            ("request form", f"/p/request/{s.org.slug}/"),
            ("invitation", f"/invite/{s.invite_token}/")]


# Screens reached by uploading a file: (name, upload page, preview page, the file).
def upload_screens() -> list[tuple[str, str, str, dict]]:
    return [("customer import preview", "/customers/import/", "/customers/import/preview/",
             _customer_csv()),
            ("price book import preview", "/billing/price-book/import/",
             "/billing/price-book/import/preview/", _price_book_csv())]


def _price_book_csv() -> dict:
    from crewline.billing.importing import COLUMNS

    rows = [",".join(COLUMNS),
            "TSTAT-7,Programmable thermostat,Seven-day schedule,material,each,89.00,41.50,"
            "8.25,yes",
            "BAD-1,,No name,material,each,12,,0,yes",
            "BAD-2,Strange price,,service,hour,twelve,,0,yes"]
    return {"name": "prices.csv", "mimeType": "text/csv",
            "buffer": ("\n".join(rows) + "\n").encode()}


def _customer_csv() -> dict:
    from crewline.customers.importing import COLUMNS

    rows = [",".join(COLUMNS),
            "Maple Dental,commercial,office@maple.test,555-0100,,ACC-1,Rosa Diaz,"
            "rosa@maple.test,555-0101,Main clinic,12 Maple Ave,,Springfield,IL,62701,US,"
            "39.781721,-89.650148,Gate 4412",
            "Bad Email,residential,nope,,,,,,,,1 B St,,Town,,,,,,",
            "Bad Lat,residential,,,,,,,,,1 C St,,Town,,,,north,10,"]
    return {"name": "customers.csv", "mimeType": "text/csv",
            "buffer": ("\n".join(rows) + "\n").encode()}



def technician_screens(s: Scene) -> list[tuple[str, str]]:
    return [("my visits", "/work-orders/my-visits/"), ("my timesheet", "/timesheets/me/")]


class Audit:
    """Runs axe on each page it is shown and keeps the findings and CSP reports per screen."""

    def __init__(self, size: str) -> None:
        from axe_playwright_python.base import AXE_SCRIPT

        self.script = AXE_SCRIPT
        self.size = size
        self.results: dict[str, dict] = {}

    def check(self, page, name: str) -> None:
        page.wait_for_load_state("load")
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        if os.environ.get("CREWLINE_SHOTS"):
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"a11y-{self.size}-{name.replace(' ', '-')}.png"),
                            full_page=True)
        page.evaluate(self.script)
        found = page.evaluate(
            "([tags, rules]) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " rules, resultTypes: ['violations']})", [WCAG_TAGS, EXTRA_RULES])
        violations = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]),
                       "targets": [", ".join(map(str, n["target"])) for n in v["nodes"]],
                       "why": [n.get("failureSummary", "")[:240] for n in v["nodes"]]}
                      for v in found["violations"]]
        csp = page.evaluate("window.__cspViolations || []") + page.console_csp
        page.console_csp = []
        self.results[name] = {"url": page.url, "violations": violations, "csp": csp}

    def blocking(self) -> list[str]:
        return [f"{name}: {v['id']} ({v['impact']}, {v['nodes']} nodes) {v['targets'][:5]}"
                for name, r in self.results.items() for v in r["violations"]
                if v["impact"] in BLOCKING]

    def csp(self) -> list[str]:
        return [f"{name}: {c}" for name, r in self.results.items() for c in r["csp"]]

    def save(self) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"{self.size}.json").write_text(json.dumps(self.results, indent=2))


def visit(page, audit: Audit, name: str, path: str) -> None:
    response = page.goto(page.base + path)
    assert response.status == 200, f"{name}: {path} answered {response.status}"
    audit.check(page, name)


def new_page(chromium, base: str, viewport: dict):
    context = chromium.new_context(viewport=viewport, device_scale_factor=1,
                                   has_touch=viewport["width"] < 600)
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.console_csp = []

    def on_console(msg) -> None:
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            page.console_csp.append(msg.text[:300])

    page.on("console", on_console)
    page.base = base
    return context, page


def log_in(page, email: str) -> None:
    from crewline.demo.seed import DEMO_PASSWORD

    page.goto(page.base + "/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_it_has_no_serious_accessibility_violation_on_any_screen(chromium, live_server, scene,
                                                                 size):
    assert Path(CHROMIUM).exists()
    audit = Audit(size)
    viewport = VIEWPORTS[size]

    context, page = new_page(chromium, live_server.url, viewport)
    for name, path in public_screens(scene):
        visit(page, audit, name, path)
    log_in(page, scene.owner.user.email)
    for name, path in office_screens(scene):
        visit(page, audit, name, path)
    for name, upload, preview, file in upload_screens():
        page.goto(page.base + upload)
        page.set_input_files("input[type=file]", files=[file])
        page.click("form[enctype] button[type=submit]")
        page.wait_for_url(f"**{preview}")
        audit.check(page, name)
    context.close()

    context, page = new_page(chromium, live_server.url, viewport)
    log_in(page, scene.technician.user.email)
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("[data-visit] .field-visit-link")
    audit.check(page, "field my day")
    page.click(f"[data-visit='{scene.visit.pk}'] .field-visit-link")
    page.wait_for_selector("[data-testid=visit-status]")
    audit.check(page, "field visit")
    page.evaluate("() => { location.hash = '#notices'; }")
    page.wait_for_selector("[data-testid=notices], #field-app h1")
    audit.check(page, "field notices")
    for name, path in technician_screens(scene):
        visit(page, audit, name, path)
    context.close()

    audit.save()
    assert not audit.blocking(), "\n".join(audit.blocking())
    assert not audit.csp(), "\n".join(audit.csp())


def test_it_notices_what_the_policy_blocks(chromium, live_server):
    """The check above can fail: a style attribute and an inline script are refused and
    reported on a real page."""
    context, page = new_page(chromium, live_server.url, VIEWPORTS["desktop"])
    page.goto(page.base + "/login/")
    page.evaluate("""() => {
      document.querySelector("h1").setAttribute("style", "color: red");
      const s = document.createElement("script");
      s.textContent = "window.__ran = true";
      document.body.appendChild(s);
    }""")
    page.wait_for_function("() => window.__cspViolations.length >= 2")
    reported = " ".join(page.evaluate("window.__cspViolations"))
    assert "style-src-attr" in reported and "script-src-elem" in reported
    assert page.evaluate("window.__ran") is None
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") != \
        "rgb(255, 0, 0)"
    context.close()
