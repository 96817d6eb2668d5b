"""The customer's approval in a real browser: tick an optional line, draw a signature with the
pointer on the canvas, approve; the stored signature is a PNG with ink on it."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image

from crewline.billing import services
from crewline.billing.models import QuoteStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_approves_with_a_drawn_signature(browser_page, org, owner, site, call_item,
                                            filter_item):
    quote = services.quote_create(organization=org, by=owner, customer=site.customer,
                                  title="New boiler")
    services.quote_line_add(quote=quote, by=owner, item=call_item)
    optional = services.quote_line_add(quote=quote, by=owner, item=filter_item, quantity=2,
                                       is_optional=True)
    services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    quote.refresh_from_db()
    token = services.quote_link_token(quote=quote)

    page = browser_page
    page.goto(f"{page.base}/q/{token}/")
    page.check(f"#opt-{optional.pk}")
    page.fill("input[name=approve-name]", "Rosa Diaz")
    box = page.locator("#signature-pad").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 100)
    page.mouse.down()
    for x, y in ((80, 40), (140, 120), (220, 50), (300, 110)):
        page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
    page.mouse.up()
    page.click("button[value=approve]")
    page.wait_for_selector("#quote-state")
    assert "Approved by Rosa Diaz" in page.inner_text("#quote-state")

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    assert quote.lines.get(pk=optional.pk).is_selected
    assert quote.subtotal == Decimal("95.00") + Decimal("25.00")
    with quote.signature.open("rb") as fh, Image.open(io.BytesIO(fh.read())) as image:
        assert image.format == "PNG"
        low, high = image.convert("L").getextrema()
        assert low < 100 < high  # dark ink on a white ground


def test_it_asks_for_a_signature_when_none_was_drawn(browser_page, org, owner, site, call_item):
    quote = services.quote_create(organization=org, by=owner, customer=site.customer,
                                  title="New boiler")
    services.quote_line_add(quote=quote, by=owner, item=call_item)
    services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    token = services.quote_link_token(quote=quote)
    page = browser_page
    page.goto(f"{page.base}/q/{token}/")
    page.fill("input[name=approve-name]", "Rosa Diaz")
    page.click("button[value=approve]")
    assert "Sign in the box before approving." in page.content()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


def test_it_updates_the_total_as_optional_lines_are_ticked(browser_page, org, owner, site,
                                                          call_item, filter_item):
    quote = services.quote_create(organization=org, by=owner, customer=site.customer,
                                  title="New boiler")
    services.quote_line_add(quote=quote, by=owner, item=call_item)
    filters = services.quote_line_add(quote=quote, by=owner, item=filter_item, quantity=2,
                                      is_optional=True)
    spare = services.quote_line_add(quote=quote, by=owner, item=filter_item, quantity=1,
                                    is_optional=True)
    services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    token = services.quote_link_token(quote=quote)

    page = browser_page
    refused = []
    page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
    page.goto(f"{page.base}/q/{token}/")

    def shown():
        return tuple(page.inner_text(f"#quote-{name}") for name in ("subtotal", "tax", "total"))

    assert shown() == ("95.00", "0.00", "95.00")
    assert page.is_visible("#quote-without-optional")
    page.check(f"#opt-{filters.pk}")
    # 2 × 12.50 = 25.00, tax 8.25 % = 2.06 (each line rounded to the cent).
    assert shown() == ("120.00", "2.06", "122.06")
    assert not page.is_visible("#quote-without-optional")
    page.check(f"#opt-{spare.pk}")
    assert shown() == ("132.50", "3.09", "135.59")
    page.uncheck(f"#opt-{spare.pk}")
    assert shown() == ("120.00", "2.06", "122.06")
    if shots := _shots_dir():
        page.screenshot(path=str(shots / "public-quote-ticked-1366.png"), full_page=True)
        page.set_viewport_size({"width": 360, "height": 740})
        page.screenshot(path=str(shots / "public-quote-ticked-360.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})

    page.fill("input[name=approve-name]", "Rosa Diaz")
    box = page.locator("#signature-pad").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 90, steps=8)
    page.mouse.up()
    page.click("button[value=approve]")
    page.wait_for_selector("#quote-state")

    # The server stores what the page showed.
    quote.refresh_from_db()
    assert (f"{quote.subtotal}", f"{quote.tax_total}", f"{quote.total}") == (
        "120.00", "2.06", "122.06")
    assert shown() == ("120.00", "2.06", "122.06")
    assert refused == []


def test_the_ticked_total_is_written_as_the_customers_language_writes_it(
        chromium, live_server, org, owner, site, call_item, filter_item):
    from crewline.customers.services import customer_update

    # The page speaks the customer's language, whatever the browser's.
    customer_update(customer=site.customer, by=owner, language="es")
    quote = services.quote_create(organization=org, by=owner, customer=site.customer,
                                  title="Caldera nueva")
    services.quote_line_add(quote=quote, by=owner, item=call_item)
    filters = services.quote_line_add(quote=quote, by=owner, item=filter_item, quantity=2,
                                      is_optional=True)
    services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    token = services.quote_link_token(quote=quote)
    context = chromium.new_context(locale="en-US", viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{live_server.url}/q/{token}/")
    assert page.inner_text("#quote-total") == "95,00"
    page.check(f"#opt-{filters.pk}")
    assert page.inner_text("#quote-subtotal") == "120,00"
    assert page.inner_text("#quote-total") == "122,06"
    context.close()


def _shots_dir():
    import os
    from pathlib import Path

    if not os.environ.get("CREWLINE_SHOTS"):
        return None
    path = Path(__file__).resolve().parents[3] / "var" / "shots"
    path.mkdir(parents=True, exist_ok=True)
    return path
