"""A draft invoice in a real browser: a part typed on the phone comes in at 0.00; the office
sets its price on the draft, and issuing with a line still at 0.00 asks first, naming it."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from crewline.billing import services
from crewline.billing.models import InvoiceStatus
from crewline.billing.tests.conftest import add_part

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"


def shot(page, name: str) -> None:
    if os.environ.get("CREWLINE_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-1366.png"), full_page=True)
        size = page.viewport_size
        page.set_viewport_size({"width": 360, "height": 740})
        page.screenshot(path=str(SHOTS / f"{name}-360.png"), full_page=True)
        page.set_viewport_size(size)


@pytest.fixture
def draft(owner, technician, completed_wo, filter_item):
    add_part(completed_wo, technician, price_book_item_id=filter_item.pk, quantity=1)
    add_part(completed_wo, technician, name="Copper pipe 15mm", unit="m", quantity=2)
    add_part(completed_wo, technician, name="Pipe clips", unit="each", quantity=4)
    return services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)


def test_the_office_prices_a_zero_line_and_is_asked_about_the_other(login, office, draft):
    pipe = draft.lines.get(description="Copper pipe 15mm")
    clips = draft.lines.get(description="Pipe clips")
    page = login(office)
    page.goto(f"{page.base}/billing/invoices/{draft.pk}/")
    warning = page.locator("[data-testid=zero-lines]")
    assert "“Copper pipe 15mm”, “Pipe clips” are at 0.00" in warning.inner_text()
    shot(page, "invoice-draft-zero-lines")

    page.click(f"#line-{pipe.pk} summary")
    form = page.locator(f"[data-testid=line-edit-{pipe.pk}]")
    form.get_by_label("Unit price").fill("6.40")
    shot(page, "invoice-draft-line-edit")
    form.get_by_role("button", name="Save line").click()
    page.wait_for_function(
        "() => document.getElementById('doc-total').textContent.trim() !== '13.53'")
    # 12.50 + 1.03 tax for the filter, 2 × 6.40 for the pipe.
    assert page.inner_text("#doc-total").strip() == "26.33"
    assert "“Pipe clips” is at 0.00" in page.inner_text("[data-testid=zero-lines]")

    asked: list[str] = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss() if len(asked) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.click("#invoice-issue button[type=submit]")
    page.wait_for_timeout(300)
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.DRAFT  # dismissed: nothing was sent
    page.click("#invoice-issue button[type=submit]")
    page.wait_for_selector("text=issued")
    assert asked == ["“Pipe clips” is at 0.00. Issue the invoice with it free of charge?"] * 2
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.ISSUED
    assert draft.lines.get(pk=clips.pk).net_amount == Decimal("0.00")
    assert draft.lines.get(pk=pipe.pk).net_amount == Decimal("12.80")
    assert page.locator(f"[data-testid=line-edit-{pipe.pk}]").count() == 0
