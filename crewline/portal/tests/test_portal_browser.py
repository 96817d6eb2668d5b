"""The customer's portal in Chromium at phone (360x740) and desktop size: axe-core's WCAG 2.1
A/AA rules find no serious or critical violation, the Content-Security-Policy blocks nothing,
every target is at least 44 x 44 px on the phone, and a quote is approved from the portal
with the keyboard alone. Screenshots go to var/shots/portal/ (PORTAL_SHOTS to change)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse

from crewline.core.tests.test_accessibility_browser import VIEWPORTS, Audit, new_page
from crewline.portal.tests.conftest import make_records

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("PORTAL_SHOTS")
             or Path(__file__).resolve().parents[3] / "var" / "shots" / "portal")

# Every target a finger may hit; a check box counts with its label (the .form-check around
# both); the skip link only while it is shown; nothing hidden from people (the request form's
# honeypot).
TARGETS = """() => Array.from(document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, canvas, [tabindex]"))
  .map((el) => (el.matches(".form-check-input") && el.closest(".form-check")) || el)
  .filter((el, i, all) => all.indexOf(el) === i && el.getClientRects().length
          && getComputedStyle(el).visibility !== "hidden"
          && !el.matches(".visually-hidden-focusable:not(:focus)")
          && !el.closest("[aria-hidden=true]"))
  .map((el) => { const r = el.getBoundingClientRect();
    return { what: el.outerHTML.slice(0, 100), width: r.width, height: r.height }; })"""


def small_targets(page) -> list[str]:
    return [f"{t['what']}: {t['width']:.0f}x{t['height']:.0f}" for t in page.evaluate(TARGETS)
            if t["width"] < 44 or t["height"] < 44]


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def no_overflow(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def records(org, owner, technician, live_server):
    from decimal import Decimal

    from crewline.billing import services as billing

    org.phone = "(312) 555-0100"
    org.save(update_fields=["phone"])
    records = make_records(org, owner, technician, name="Maple Dental",
                           email="billing@maple.example")
    # A second quote with an optional line, still to answer.
    quote = billing.quote_create(organization=org, by=owner, customer=records.customer,
                                 site=records.site, title="Service plan, two years")
    billing.quote_line_add(quote=quote, by=owner, description="Two visits a year",
                           unit_price=Decimal("380"), quantity=2)
    billing.quote_line_add(quote=quote, by=owner, description="Filters included",
                           unit_price=Decimal("45"), quantity=1, is_optional=True)
    billing.quote_send(quote=quote, by=owner, to="billing@maple.example")
    records.open_quote = quote
    return records


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_portal_is_accessible_with_44_px_targets(chromium, live_server, records, size):
    audit = Audit(size)
    context, page = new_page(chromium, live_server.url, VIEWPORTS[size])
    token = records.token
    screens = [
        ("portal", reverse("portal_public:home", args=[token]), 200),
        ("portal quote", reverse("portal_public:quote", args=[token, records.open_quote.pk]),
         200),
        ("portal request", reverse("portal_public:portal_request", args=[token]), 200),
        ("portal dead link", reverse("portal_public:home", args=["expired-or-wrong"]), 404),
        ("portal new link", reverse("portal_public:request_link"), 200),
    ]
    small: list[str] = []
    for name, path, status in screens:
        response = page.goto(page.base + path)
        assert response.status == status, (name, response.status)
        audit.check(page, name)
        shoot(page, f"{name.replace(' ', '-')}-{size}")
        if size == "phone":
            small += [f"{name}: {t}" for t in small_targets(page)]
            assert no_overflow(page), f"{name} scrolls sideways at 360 px"
    context.close()
    assert not audit.blocking(), "\n".join(audit.blocking())
    assert not audit.csp(), "\n".join(audit.csp())
    assert not small, "\n".join(small)


def test_the_customer_approves_a_quote_from_the_portal(chromium, live_server, records):
    context, page = new_page(chromium, live_server.url, VIEWPORTS["phone"])
    page.goto(page.base + reverse("portal_public:home", args=[records.token]))
    assert "Your technician: Tara" in page.inner_text("#visits")
    page.click(f"#quotes a[href$='/quotes/{records.open_quote.pk}/']")
    page.check("input[name=optional]")
    page.wait_for_function("() => document.querySelector('#quote-without-optional').hidden")
    page.fill("input[name=approve-name]", "Rosa Diaz")
    page.focus("#signature-pad")
    page.keyboard.press("Enter")
    page.click("button[value=approve]")
    page.wait_for_selector("#quote-state")
    assert "Approved by Rosa Diaz" in page.inner_text("#quote-state")
    shoot(page, "portal-quote-approved-phone")
    page.click("text=Back to your page")
    page.wait_for_selector("#quotes")
    row = page.locator("#quotes li", has_text=records.open_quote.reference)
    assert "Approved" in row.inner_text()
    records.open_quote.refresh_from_db()
    assert records.open_quote.status == "approved"
    assert records.open_quote.lines.filter(is_optional=True, is_selected=True).count() == 1
    context.close()


def test_the_portal_in_spanish_on_a_phone(chromium, live_server, records):
    records.customer.language = "es"
    records.customer.save(update_fields=["language"])
    context, page = new_page(chromium, live_server.url, VIEWPORTS["phone"])
    page.goto(page.base + reverse("portal_public:home", args=[records.token]))
    assert page.get_attribute("html", "lang") == "es"
    assert "Próximas visitas" in page.inner_text("main")
    assert "Su técnico: Tara" in page.inner_text("#visits")
    shoot(page, "portal-es-phone")
    context.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_request_form_is_accessible_and_sends(chromium, live_server, org, owner, size):
    from crewline.workorders.models import WorkOrder

    audit = Audit(size)
    context, page = new_page(chromium, live_server.url, VIEWPORTS[size])
    path = reverse("portal_public:request_form", args=[org.slug])
    page.goto(page.base + path)
    audit.check(page, "request form")
    small = small_targets(page) if size == "phone" else []
    if size == "phone":
        assert no_overflow(page)
    # Sent empty: the errors are shown and checked too.
    page.click("#request-form button[type=submit]")
    page.wait_for_selector(".invalid-feedback")
    audit.check(page, "request form errors")
    shoot(page, f"request-form-errors-{size}")
    page.fill("input[name=name]", "Rosa Diaz")
    page.fill("input[name=email]", "rosa@example.com")
    page.fill("input[name=address_line1]", "4 Elm St")
    page.fill("input[name=city]", "Springfield")
    page.fill("textarea[name=description]", "The boiler bangs")
    page.click("#request-form button[type=submit]")
    page.wait_for_selector("#request-sent")
    audit.check(page, "request sent")
    shoot(page, f"request-form-sent-{size}")
    context.close()
    assert WorkOrder.objects.filter(organization=org, title="The boiler bangs").count() == 1
    assert not audit.blocking(), "\n".join(audit.blocking())
    assert not audit.csp(), "\n".join(audit.csp())
    assert not small, "\n".join(small)


def test_only_the_embeddable_form_shows_in_another_sites_frame(chromium, live_server, org):
    """A contractor's website (another origin) frames the form; the plain page refuses."""
    embed = live_server.url + reverse("portal_public:request_embed", args=[org.slug])
    plain = live_server.url + reverse("portal_public:request_form", args=[org.slug])
    context = chromium.new_context(viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    # The contractor's website: another origin, a server of its own on this machine.
    body = (f'<h1>Contractor</h1><iframe id="embed" src="{embed}" width="600" height="900">'
            f'</iframe><iframe id="plain" src="{plain}" width="600" height="300"></iframe>')
    server = _serve(body.encode())
    try:
        page.goto(f"http://127.0.0.1:{server.server_port}/")
        frame = page.frame_locator("#embed")
        frame.locator("#request-form").wait_for()
        assert "Request a visit from" in frame.locator("h1").inner_text()
        page.wait_for_timeout(500)
        # The plain page refuses to be framed: Chromium shows its error page instead.
        urls = [f.url for f in page.frames]
        assert sum(u.startswith("chrome-error:") for u in urls) == 1, urls
        assert any(u.startswith(embed) for u in urls), urls
        shoot(page, "request-form-embedded-desktop")
    finally:
        server.shutdown()
    context.close()


def _serve(body: bytes):
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_office_sends_and_revokes_links_and_confirms_a_request(
        chromium, live_server, records, office, org):
    from django.core import mail

    from crewline.conftest import PASSWORD
    from crewline.factories import SiteFactory
    from crewline.portal.services import work_request_submit

    audit = Audit("desktop")
    context, page = new_page(chromium, live_server.url, VIEWPORTS["desktop"])
    page.goto(page.base + "/login/")
    page.fill("input[name=username]", office.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    mail.outbox.clear()
    page.goto(page.base + reverse("customers:detail", args=[records.customer.pk]))
    page.click("#portal button:has-text('Email a link')")
    page.wait_for_selector(".alert-success")
    assert "on its way to billing@maple.example" in page.inner_text(".alert-success")
    assert "2 links work." in page.inner_text("#portal")
    audit.check(page, "customer with portal card")
    shoot(page, "office-customer-portal-card-desktop")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#portal button:has-text('Revoke links')")
    page.wait_for_selector("#portal:has-text('No link works.')")
    # A request matched to this customer by email: the office confirms it is them.
    SiteFactory(customer=records.customer, address_line1="9 Oak Rd", city="Springfield")
    request = work_request_submit(
        organization=org, name="Rosa", email="billing@maple.example", phone="",
        address_line1="9 Oak Rd", city="Springfield", description="Radiator cold")
    page.goto(page.base + reverse("workorders:detail", args=[request.work_order.number]))
    audit.check(page, "work order from a request")
    shoot(page, "office-work-request-desktop")
    page.click("#work-request button:has-text('It is them')")
    page.wait_for_selector("#work-request:has-text('Customer confirmed')")
    context.close()
    assert not audit.blocking(), "\n".join(audit.blocking())
    assert not audit.csp(), "\n".join(audit.csp())
