"""Keyboard use in Chromium: every element the Tab key reaches shows a solid focus ring of at
least 3:1 against what is behind it, on office pages, the public quote page and the technician
app; in the technician app (360x740) the signature pad and the Camera and Gallery buttons are
reached, and every target is at least 44 x 44 px."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crewline.conftest import PASSWORD
from crewline.core import colours
from crewline.factories import SiteFactory
from crewline.workorders.services import visit_add, visit_arrive, work_order_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
MAX_TABS = 160

# What the focused element shows: its outline and the first opaque background behind it. A
# file input hidden inside its button shows the ring on the button (its label).
RING = """() => {
  let el = document.activeElement;
  if (!el || el === document.body) return null;
  const key = el.id || el.outerHTML.slice(0, 90);
  if (el.matches("input.visually-hidden") && el.closest("label")) el = el.closest("label");
  const cs = getComputedStyle(el);
  let behind = "rgb(255, 255, 255)";
  for (let n = el.parentElement; n; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    if (c && c !== "rgba(0, 0, 0, 0)" && c !== "transparent") { behind = c; break; }
  }
  const r = el.getBoundingClientRect();
  return { key, style: cs.outlineStyle,
           width: parseFloat(cs.outlineWidth), color: cs.outlineColor, behind,
           visible: r.width > 0 && r.height > 0 };
}"""


def _hex(rgb: str) -> str:
    parts = rgb[rgb.index("(") + 1:rgb.index(")")].split(",")
    return "#" + "".join(f"{round(float(p)):02x}" for p in parts[:3])


def tab_through(page) -> list[dict]:
    """Press Tab until the focus comes round again; what each stop showed."""
    page.locator("body").focus()
    seen, stops = set(), []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        ring = page.evaluate(RING)
        if ring is None or ring["key"] in seen:
            break
        seen.add(ring["key"])
        stops.append(ring)
    return stops


def bad_rings(stops: list[dict]) -> list[str]:
    problems = []
    for s in stops:
        ratio = colours.contrast(_hex(s["color"]), _hex(s["behind"]))
        if s["style"] != "solid" or s["width"] < 2 or ratio < 3 or not s["visible"]:
            problems.append(f"{s['key']}: {s['style']} {s['width']}px {s['color']} on "
                            f"{s['behind']} ({ratio:.1f}:1)")
    return problems


def log_in(page, base: str, member) -> None:
    page.goto(base + "/login/")
    page.fill("input[name=username]", member.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.fixture
def on_site_visit(org, office, technician):
    """A visit of the technician's, on site now, with a checklist of every kind."""
    site = SiteFactory(customer__organization=org, customer__name="Maple Street Dental",
                       customer__phone="312-555-0142", address_line1="1200 Maple St")
    wo = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                           title="No heat in surgery 2", instructions="Check the zone valves.")
    wo.checklist = [{"label": "Filter replaced", "kind": "yes_no", "required": True},
                    {"label": "Pressure (bar)", "kind": "number", "required": False},
                    {"label": "Photo of the boiler", "kind": "photo", "required": False}]
    wo.save(update_fields=["checklist"])
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=30)
    visit = visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(hours=2),
                      crew=[technician], override=True)
    return visit_arrive(visit=visit, by=technician)


def test_office_pages_show_a_solid_ring_on_every_stop(browser_page, owner, on_site_visit):
    from crewline.billing import services as billing

    page = browser_page
    page.goto(page.base + "/login/")
    assert not bad_rings(tab_through(page))
    log_in(page, page.base, owner)
    wo = on_site_visit.work_order
    for path in ("/dashboard/", "/work-orders/", f"/work-orders/{wo.number}/",
                 f"/schedule/?date={timezone.localdate(timezone=owner.organization.tzinfo)}",
                 "/settings/hours/"):
        page.goto(page.base + path)
        stops = tab_through(page)
        assert len(stops) > 5, path
        assert not bad_rings(stops), (path, bad_rings(stops))

    quote = billing.quote_create(organization=owner.organization, by=owner,
                                 customer=wo.customer, title="New boiler")
    billing.quote_line_add(quote=quote, by=owner, description="Boiler", quantity=1,
                           unit_price=Decimal("2400"))
    billing.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    page.goto(f"{page.base}/q/{billing.quote_link_token(quote=quote)}/")
    stops = tab_through(page)
    assert "signature-pad" in [s["key"] for s in stops]
    assert not bad_rings(stops), bad_rings(stops)
    # With the keyboard alone: a name, Enter in the pad, approve.
    page.fill("input[name=approve-name]", "Rosa Diaz")
    page.focus("#signature-pad")
    page.keyboard.press("Enter")
    page.click("button[value=approve]")
    page.wait_for_selector("#quote-state")
    assert "Approved by Rosa Diaz" in page.inner_text("#quote-state")


# Every interactive element of the technician app, and what it is a target for: a file input
# hidden in its button is measured as that button; the skip link only while it is shown (when
# focused).
TARGETS = """() => Array.from(document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, canvas, [tabindex]"))
  .map((el) => (el.matches("input.visually-hidden") && el.closest("label")) || el)
  .filter((el, i, all) => all.indexOf(el) === i && el.getClientRects().length
          && getComputedStyle(el).visibility !== "hidden" && el.tabIndex >= 0
          && !el.matches(".visually-hidden-focusable:not(:focus)"))
  .map((el) => { const r = el.getBoundingClientRect();
    return { what: el.outerHTML.slice(0, 100), width: r.width, height: r.height }; })"""


def small_targets(page) -> list[str]:
    return [f"{t['what']}: {t['width']:.0f}x{t['height']:.0f}" for t in page.evaluate(TARGETS)
            if t["width"] < 44 or t["height"] < 44]


def test_the_technician_app_is_usable_by_keyboard_with_44_px_targets(chromium, live_server,
                                                                      technician,
                                                                      on_site_visit):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, technician)
    page.goto(live_server.url + "/field/")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(f"[data-visit='{on_site_visit.pk}']")
    assert not small_targets(page), small_targets(page)
    page.click(".field-header .dropdown-toggle")
    page.wait_for_selector(".field-header .dropdown-menu.show")
    assert not small_targets(page), small_targets(page)
    page.keyboard.press("Escape")
    page.focus("a[href='#main']")
    assert not small_targets(page), small_targets(page)
    stops = tab_through(page)
    assert not bad_rings(stops), bad_rings(stops)

    page.click(f"[data-visit='{on_site_visit.pk}'] .field-visit-link")
    page.wait_for_selector("[data-testid=visit-status]:has-text('On site')")
    assert page.evaluate("document.activeElement.tagName") == "H1"  # the new view's heading
    page.click("details summary")  # "Could not complete" opens its form
    assert not small_targets(page), small_targets(page)
    stops = tab_through(page)
    reached = [s["key"] for s in stops]
    for wanted in ("field-sig-pad", "field-camera", "field-gallery"):
        assert wanted in reached, wanted
    assert not bad_rings(stops), bad_rings(stops)

    # Signed with the keyboard alone: the typed name goes into the pad, then is saved.
    page.fill("form[data-form=signature] input[name=signer_name]", "Rosa Diaz")
    page.focus("#field-sig-pad")
    page.keyboard.press("Enter")
    assert "Rosa Diaz" in page.inner_text("#field-sig-help")
    page.focus("form[data-form=signature] button:not([type=button])")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=signature] img.field-sig")
    # A redraw (the save) kept the focus on the button that was pressed.
    assert page.evaluate("document.activeElement.textContent") == "Save signature"
    context.close()
