"""The technician app in Spanish at phone size (360x740): a technician who chose Spanish signs
in on a phone whose browser asks for Spanish, does a whole visit offline and sends it once
back online. Every screen is photographed (``var/shots/field-es-*.png``) and checked for
words that overflow or are cut: no button, badge or label wider than its box, nothing wider
than the screen."""

from __future__ import annotations

import re

import pytest

from crewline.conftest import PASSWORD
from crewline.core.tests.test_focus_browser import small_targets
from crewline.field.tests.test_app_browser import CHECKLIST, PHONE, SHOTS, jpeg, pending
from crewline.workorders.models import EntryKind, TimelineEntry, VisitStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What is wider than its box: text in a button, badge or label that its box cuts or lets
# spill, and anything past the right edge of the screen.
OVERFLOWING = """() => {
  const cut = [];
  const width = document.documentElement.clientWidth;
  // Text that leaves its box: each text node's extent against the box it is written in
  // (badges placed outside on purpose, position: absolute, are their own boxes).
  const spills = (el, box) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      let placed = false;
      for (let p = node.parentElement; p && p !== el; p = p.parentElement)
        if (["absolute", "fixed"].includes(getComputedStyle(p).position)) placed = true;
      if (placed) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const r = range.getBoundingClientRect();
      if (r.width && (r.right > box.right + 1 || r.left < box.left - 1)) return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll(
      "button, .btn, .badge, .field-badge, label, .nav-link, h1, h2, " +
      "[data-testid=pending]")) {
    const box = el.getBoundingClientRect();
    if (!box.width || getComputedStyle(el).visibility === "hidden") continue;
    if (el.closest(".visually-hidden, .dropdown-menu:not(.show)")) continue;
    const style = getComputedStyle(el);
    const clips = style.overflowX !== "visible" || style.textOverflow === "ellipsis";
    if ((clips && el.scrollWidth > el.clientWidth + 1) || spills(el, box) ||
        box.right > width + 1 || box.left < -1)
      cut.push(`${el.tagName.toLowerCase()}: ${el.textContent.trim().slice(0, 60)}`);
  }
  // A placeholder wider than its empty field is cut too.
  const ctx = document.createElement("canvas").getContext("2d");
  for (const el of document.querySelectorAll("input[placeholder]")) {  // textareas wrap
    if (el.value || !el.getBoundingClientRect().width) continue;
    const style = getComputedStyle(el);
    ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (ctx.measureText(el.placeholder).width > room + 1)
      cut.push(`placeholder: ${el.placeholder}`);
  }
  // A button's words wider than the button, whether it clips them or lets them out.
  for (const el of document.querySelectorAll("button, .btn")) {
    if (!el.getBoundingClientRect().width || el.closest(".visually-hidden")) continue;
    if (el.scrollWidth > el.clientWidth + 1)
      cut.push(`button wider inside: ${el.textContent.trim().slice(0, 60)}`);
  }
  if (document.documentElement.scrollWidth > width + 1) cut.push("the page scrolls sideways");
  return cut;
}"""

# Words of the app's English that would show a screen was not translated: each is a button,
# badge or label of one of the screens below, written in Spanish there.
ENGLISH = ("My day", "Clock in", "Clock out", "On my way", "Arrived", "Add note", "Save signature",
           "not yet sent", "All sent", "Offline", "Online", "Scheduled", "On site", "Done",
           "Parts and materials", "Checklist", "Camera", "Gallery", "Sync", "Log out", "Labor",
           "Job complete", "What happened")
# Spanish words the screens show (one of them at least on each).
SPANISH = ("Mi día", "Marcar entrada", "Marcar salida", "Voy en camino", "Llegué", "Hecha",
           "Todo enviado", "sin enviar", "Iniciar sesión", "En el sitio")


def english_left(page) -> list[str]:
    """The English words of ``ENGLISH`` on the screen's visible text (whole words)."""
    text = page.inner_text("body")
    return [word for word in ENGLISH if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]


def check(page, name: str) -> None:
    """The screen photographed, in Spanish, nothing cut, every target 44 x 44 px at least."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"field-es-{name}.png"), full_page=True)
    assert page.evaluate(OVERFLOWING) == [], name
    assert english_left(page) == [], name
    text = page.inner_text("body")
    assert any(word in text for word in SPANISH), name
    if name != "login":
        assert small_targets(page) == [], name


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True,
                                   locale="es-ES",
                                   geolocation={"latitude": 40.42, "longitude": -3.70})
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.base = live_server.url
    yield context
    context.close()


def test_a_spanish_crew_does_a_whole_visit_offline(phone, technician, make_visit):
    technician.language = "es"
    technician.save(update_fields=["language"])
    visit = make_visit(crew=[technician], checklist=CHECKLIST, title="Sin calefacción")
    make_visit(crew=[technician], days=1, title="Revisión anual de caldera")

    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(phone.base + "/login/")
    assert page.get_attribute("html", "lang") == "es"  # the phone's browser asks for Spanish
    check(page, "login")
    page.fill("input[name=username]", technician.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Iniciar sesión')")
    page.wait_for_url(re.compile(r".*/field/$"))
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(f"[data-visit='{visit.pk}']")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    assert pending(page) == "Todo enviado"
    assert "Mi día" in page.inner_text("header")
    check(page, "my-day")

    phone.set_offline(True)
    page.click("[data-do=clock_in]:has-text('Marcar entrada')")
    page.wait_for_selector("[data-do=clock_out]:has-text('Marcar salida')")
    check(page, "clocked-in")
    page.click(f"[data-visit='{visit.pk}'] .field-visit-link")
    page.wait_for_selector("[data-testid=visit-status]")
    check(page, "visit")
    page.click("[data-do=visit_en_route]:has-text('Voy en camino')")
    page.wait_for_selector("[data-testid=visit-status]:has-text('En camino')")
    page.click("[data-do=visit_arrive]:has-text('Llegué')")
    page.wait_for_selector("[data-testid=visit-status]:has-text('En el sitio')")
    check(page, "on-site")
    page.fill("form[data-form=note] textarea", "Cambiada la válvula de zona")
    page.click("form[data-form=note] button:has-text('Añadir nota')")
    page.wait_for_selector("[data-testid=timeline] [data-kind=note]")
    page.set_input_files("[data-testid=gallery]", [
        {"name": "antes.jpg", "mimeType": "image/jpeg", "buffer": jpeg("red")},
        {"name": "despues.jpg", "mimeType": "image/jpeg", "buffer": jpeg("blue")},
    ])
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=photos] .field-thumb').length === 2")
    page.click("[data-item='0'] [data-do=answer][data-value=true]:has-text('Sí')")
    page.wait_for_selector("[data-item='0'] [data-testid=answered]")
    page.fill("[data-item='1'] input[name=answer]", "1.5")
    page.click("[data-item='1'] button")
    page.wait_for_selector("[data-item='1'] [data-testid=answered]")
    assert page.inner_text("[data-item='1'] [data-testid=answered]") == "1,5"  # a Spanish comma
    page.fill("form[data-form=part] input[name=name]", "Válvula de zona 3/4")
    page.fill("form[data-form=part] input[name=quantity]", "2")
    page.click("form[data-form=part] button")
    page.wait_for_selector("[data-testid=parts] li")
    page.fill("form[data-form=labor] input[name=minutes]", "45")
    page.click("form[data-form=labor] button")
    page.wait_for_selector("[data-testid=timeline] [data-kind=labor]")
    pad = page.locator("#field-sig-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 80)
    page.mouse.down()
    for x, y in ((80, 30), (140, 110), (220, 40), (300, 100)):
        page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
    page.mouse.up()
    page.fill("form[data-form=signature] input[name=signer_name]", "Rosa Díaz")
    page.click("form[data-form=signature] button:not([type=button]):has-text('Guardar firma')")
    page.wait_for_selector("[data-testid=signature] img.field-sig")
    check(page, "work-recorded")
    page.click("[data-do=visit_complete]")
    page.wait_for_selector("[data-testid=visit-status]:has-text('Hecha')")
    check(page, "done")
    page.click("a[href='#']:has-text('Mi día')")
    page.click("[data-do=clock_out]")
    page.wait_for_selector("[data-do=clock_in]")
    assert pending(page) == "13 sin enviar"

    # Reloaded with no network: the service worker's shell keeps the Spanish words.
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert pending(page) == "13 sin enviar"
    assert "Sin conexión" in page.inner_text("[data-testid=net]")
    assert page.inner_text(f"[data-visit='{visit.pk}'] .field-badge") == "Hecha"
    check(page, "offline-pending")
    page.click(f"[data-visit='{visit.pk}'] .field-visit-link")
    page.wait_for_selector("[data-testid=visit-status]:has-text('Hecha')")
    timeline = page.inner_text("[data-testid=timeline]")
    for text in ("Cambiada la válvula de zona", "45 min", "Rosa Díaz", "Voy en camino",
                 "Llegué", "Terminada", "no está en la lista de precios"):
        assert text in timeline, text
    check(page, "offline-timeline")
    page.wait_for_load_state("networkidle")
    page.close()

    phone.set_offline(False)
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(phone.base + "/field/")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=pending]').textContent === 'Todo enviado'")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE
    entries = TimelineEntry.objects.filter(visit=visit)
    assert entries.filter(kind=EntryKind.NOTE).get().body == "Cambiada la válvula de zona"
    assert entries.filter(kind=EntryKind.PHOTO).count() == 2
    assert entries.filter(kind=EntryKind.SIGNATURE).get().data["signer_name"] == "Rosa Díaz"
    check(page, "synced")
    page.wait_for_load_state("networkidle")
    page.close()
