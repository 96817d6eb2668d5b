from __future__ import annotations

import base64
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from PIL import Image, ImageDraw

from crewline.billing import services
from crewline.billing.models import (
    Invoice,
    InvoiceStatus,
    LineSource,
    PriceBookItem,
    QuoteStatus,
)
from crewline.billing.tests.conftest import add_labor, add_part
from crewline.core.models import AuditLog
from crewline.workorders.models import Status, WorkOrderKind


def signature_png(blank: bool = False) -> bytes:
    image = Image.new("RGB", (300, 100), "white")
    if not blank:
        ImageDraw.Draw(image).line((10, 80, 120, 20, 290, 70), fill="black", width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# Price book ----------------------------------------------------------------------------------

def test_it_keeps_codes_unique_per_organization_ignoring_case(org, other_org, owner,
                                                              filter_item):
    with pytest.raises(ValidationError) as exc:
        services.price_item_create(organization=org, by=owner, code="flt-16", name="Again",
                                   unit_price=Decimal(1))
    assert "code" in exc.value.message_dict
    other = services.price_item_create(organization=other_org, by=None, code="FLT-16",
                                       name="Theirs", unit_price=Decimal(1))
    assert other.organization == other_org


def test_it_audits_price_changes_and_deactivation(owner, filter_item):
    services.price_item_update(item=filter_item, by=owner, unit_price=Decimal("13.00"))
    services.price_item_deactivate(item=filter_item, by=owner)
    filter_item.refresh_from_db()
    assert not filter_item.is_active
    entry = AuditLog.objects.filter(action="price_item.update").order_by("seq").first()
    assert entry.changes["unit_price"] == ["12.5000", "13.00"]


def test_it_refuses_a_negative_price_or_a_tax_rate_over_100(org, owner):
    with pytest.raises(ValidationError):
        services.price_item_create(organization=org, by=owner, code="X", name="X",
                                   unit_price=Decimal(-1))
    with pytest.raises(ValidationError):
        services.price_item_create(organization=org, by=owner, code="Y", name="Y",
                                   unit_price=Decimal(1), tax_rate=Decimal(101))


def test_it_makes_the_labor_item_once(org):
    first = services.labor_item_for(org)
    assert (first.code, first.unit, first.kind) == ("LABOR", "hour", "service")
    assert services.labor_item_for(org) == first
    assert PriceBookItem.objects.filter(organization=org, code="LABOR").count() == 1


# Invoices from work orders -------------------------------------------------------------------

def test_it_drafts_an_invoice_from_labor_and_parts_with_nothing_typed(
        org, owner, technician, office, completed_wo, filter_item):
    services.member_rate_set(member=technician, hourly_rate=Decimal("80.00"), by=owner)
    labor = services.labor_item_for(org)
    services.price_item_update(item=labor, by=owner, unit_price=Decimal("60"))
    add_labor(completed_wo, technician, 90, "Replaced pump")
    add_labor(completed_wo, office, 20)  # no rate of their own: the LABOR price
    add_part(completed_wo, technician, price_book_item_id=filter_item.pk, quantity="2",
             unit="each")
    add_part(completed_wo, technician, name="Service call", quantity=1)  # unknown by name
    add_part(completed_wo, technician, name="flt-16", quantity=1)  # known by code

    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)

    lines = list(invoice.lines.order_by("position"))
    assert [(line.source, line.quantity, line.unit_price) for line in lines] == [
        (LineSource.LABOR, Decimal("1.5000"), Decimal("80.0000")),
        (LineSource.LABOR, Decimal("0.3333"), Decimal("60.0000")),
        (LineSource.PART, Decimal("2.0000"), Decimal("12.5000")),
        (LineSource.PART, Decimal("1.0000"), Decimal("0.0000")),
        (LineSource.PART, Decimal("1.0000"), Decimal("12.5000")),
    ]
    assert "Tara Tech" in lines[0].description and "Replaced pump" in lines[0].description
    assert lines[2].net_amount == Decimal("25.00")
    assert lines[2].tax_amount == Decimal("2.06")  # 25 × 8.25% = 2.0625
    assert invoice.subtotal == Decimal("120.00") + Decimal("20.00") + Decimal("25.00") + \
        Decimal("0.00") + Decimal("12.50")
    assert invoice.tax_total == Decimal("2.06") + Decimal("1.03")
    assert invoice.status == InvoiceStatus.DRAFT and invoice.number is None
    assert invoice.currency == org.currency


def test_it_refuses_to_draft_for_an_open_or_already_invoiced_work_order(owner, completed_wo):
    completed_wo.status = Status.IN_PROGRESS
    completed_wo.save()
    with pytest.raises(ValidationError, match="completed"):
        services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    completed_wo.status = Status.COMPLETED
    completed_wo.save()
    services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    with pytest.raises(ValidationError, match="already"):
        services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)


def test_it_issues_with_numbers_per_organization_and_moves_the_work_order(
        org, owner, completed_wo, filter_item):
    from crewline.factories import WorkOrderFactory

    add_part(completed_wo, owner, price_book_item_id=filter_item.pk, quantity=1)
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    issued = services.invoice_issue(invoice=invoice, by=owner, issue_date=dt.date(2026, 3, 1))
    assert issued.number == 1001 and issued.reference == "INV-1001"
    assert issued.due_date == dt.date(2026, 3, 31)
    completed_wo.refresh_from_db()
    assert completed_wo.status == Status.INVOICED

    second_wo = WorkOrderFactory(organization=org, customer=completed_wo.customer,
                                 site=completed_wo.site, status=Status.COMPLETED)
    add_part(second_wo, owner, price_book_item_id=filter_item.pk, quantity=1)
    second = services.invoice_issue(
        invoice=services.invoice_draft_from_work_order(work_order=second_wo, by=owner), by=owner)
    assert second.number == 1002
    with pytest.raises(ValidationError, match="locked"):
        services.invoice_line_add(invoice=issued, by=owner, description="More", unit_price=1)


def test_it_refuses_to_issue_an_empty_invoice(owner, completed_wo):
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    with pytest.raises(ValidationError, match="at least one line"):
        services.invoice_issue(invoice=invoice, by=owner)


def test_it_asks_before_issuing_with_a_line_at_zero_naming_it(owner, technician,
                                                               completed_wo, filter_item):
    add_part(completed_wo, technician, price_book_item_id=filter_item.pk, quantity=1)
    add_part(completed_wo, technician, name="Copper pipe 15mm", unit="m", quantity=2)
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    pipe = invoice.lines.get(description="Copper pipe 15mm")
    assert pipe.net_amount == Decimal("0.00")
    with pytest.raises(ValidationError, match="“Copper pipe 15mm” is at 0.00") as exc:
        services.invoice_issue(invoice=invoice, by=owner)
    assert exc.value.code == "zero_lines"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT and invoice.number is None

    # Confirmed for one line; a second line at 0.00 added since is asked about again.
    extra = services.invoice_line_add(invoice=invoice, by=owner, description="Goodwill check",
                                      unit_price=Decimal(0), quantity=1)
    with pytest.raises(ValidationError, match="“Goodwill check” is at 0.00"):
        services.invoice_issue(invoice=invoice, by=owner, zero_lines_confirmed=[pipe.pk])
    issued = services.invoice_issue(invoice=invoice, by=owner,
                                    zero_lines_confirmed=[pipe.pk, extra.pk])
    assert issued.status == InvoiceStatus.ISSUED
    entry = AuditLog.objects.filter(action="invoice.issue").latest("id")
    assert entry.changes["free_of_charge"] == [None, ["Copper pipe 15mm", "Goodwill check"]]


def test_it_prices_a_free_text_part_on_the_draft_and_issues_without_asking(
        owner, technician, completed_wo):
    add_part(completed_wo, technician, name="Copper pipe 15mm", unit="m", quantity=2)
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    pipe = invoice.lines.get()
    services.invoice_line_update(line=pipe, by=owner, unit_price=Decimal("7.25"),
                                 quantity=Decimal("2.5"), tax_rate=Decimal(10))
    invoice.refresh_from_db()
    assert (invoice.subtotal, invoice.tax_total) == (Decimal("18.13"), Decimal("1.81"))
    assert services.invoice_issue(invoice=invoice, by=owner).status == InvoiceStatus.ISSUED
    with pytest.raises(ValidationError, match="locked"):
        services.invoice_line_update(line=pipe, by=owner, unit_price=Decimal(1))


def test_it_edits_draft_lines_and_keeps_totals_the_sum_of_lines(owner, completed_wo,
                                                                 filter_item):
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    line = services.invoice_line_add(invoice=invoice, by=owner, item=filter_item,
                                     quantity=Decimal(3), discount=Decimal("1.00"))
    assert (line.description, line.net_amount, line.tax_amount) == (
        "Filter", Decimal("36.50"), Decimal("3.01"))
    services.invoice_line_add(invoice=invoice, by=owner, description="Call-out",
                              unit_price=Decimal("40"), quantity=1)
    invoice.refresh_from_db()
    assert (invoice.subtotal, invoice.tax_total) == (Decimal("76.50"), Decimal("3.01"))
    with pytest.raises(ValidationError) as exc:
        services.invoice_line_add(invoice=invoice, by=owner, description="Too much",
                                  unit_price=Decimal(10), discount=Decimal(11))
    assert "discount" in exc.value.message_dict
    services.invoice_line_remove(line=line, by=owner)
    invoice.refresh_from_db()
    assert (invoice.subtotal, invoice.tax_total) == (Decimal("40.00"), Decimal("0.00"))


def test_it_marks_paid_and_voids_with_their_rules(owner, completed_wo, filter_item):
    add_part(completed_wo, owner, price_book_item_id=filter_item.pk, quantity=1)
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    with pytest.raises(ValidationError):
        services.invoice_mark_paid(invoice=invoice, by=owner, paid_on=dt.date.today(),
                                   method="card")
    invoice = services.invoice_issue(invoice=invoice, by=owner, issue_date=dt.date(2026, 3, 1))
    with pytest.raises(ValidationError, match="before the issue date"):
        services.invoice_mark_paid(invoice=invoice, by=owner, paid_on=dt.date(2026, 2, 1),
                                   method="card")
    paid = services.invoice_mark_paid(invoice=invoice, by=owner, paid_on=dt.date(2026, 3, 5),
                                      method="check", reference="#123")
    assert (paid.status, paid.paid_on, paid.payment_method) == ("paid", dt.date(2026, 3, 5),
                                                                "check")
    with pytest.raises(ValidationError):
        services.invoice_void(invoice=paid, by=owner, reason="Oops")


def test_it_voids_an_issued_invoice_and_allows_a_new_draft(owner, completed_wo, filter_item):
    add_part(completed_wo, owner, price_book_item_id=filter_item.pk, quantity=1)
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    with pytest.raises(ValidationError):
        services.invoice_void(invoice=invoice, by=owner, reason="  ")
    services.invoice_void(invoice=invoice, by=owner, reason="Wrong customer")
    again = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    assert again.pk != invoice.pk


# Quotes --------------------------------------------------------------------------------------

@pytest.fixture
def quote(org, owner, site, call_item, filter_item):
    quote = services.quote_create(organization=org, by=owner, customer=site.customer,
                                  site=site, title="New boiler")
    services.quote_line_add(quote=quote, by=owner, item=call_item, quantity=1)
    services.quote_line_add(quote=quote, by=owner, description="Boiler, installed",
                            unit_price=Decimal("2400"), tax_rate=Decimal("8.25"),
                            discount=Decimal("100"))
    services.quote_line_add(quote=quote, by=owner, item=filter_item, quantity=4,
                            is_optional=True)
    quote.refresh_from_db()
    return quote


def test_it_numbers_quotes_and_leaves_optional_lines_out_of_the_total(quote):
    assert quote.reference == "Q-1001"
    assert quote.subtotal == Decimal("95.00") + Decimal("2300.00")
    assert quote.tax_total == Decimal("189.75")
    assert quote.currency == quote.organization.currency


def test_it_sends_approves_with_optional_lines_and_converts(
        org, owner, quote, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    token = body.split("/q/")[1].split("/")[0]
    found = services.quote_for_token(token)
    assert found == quote and found.status == QuoteStatus.SENT
    optional = quote.lines.get(is_optional=True)

    approved = services.quote_approve(quote=found, name="Rosa Diaz",
                                      signature_png=signature_png(),
                                      selected_optional_ids=[optional.pk])
    assert approved.status == QuoteStatus.APPROVED
    assert approved.subtotal == Decimal("2395.00") + Decimal("50.00")
    assert approved.signature.name.endswith(".png")

    work_order = services.quote_convert(quote=approved, by=owner)
    assert work_order.kind == WorkOrderKind.QUOTED
    approved.refresh_from_db()
    assert approved.status == QuoteStatus.CONVERTED and approved.work_order == work_order

    work_order.status = Status.COMPLETED
    work_order.save()
    invoice = services.invoice_draft_from_work_order(work_order=work_order, by=owner)
    assert [(line.source, line.description) for line in invoice.lines.order_by("position")] == [
        ("quote", "Service call"), ("quote", "Boiler, installed"), ("quote", "Filter")]
    assert invoice.total == approved.total


def test_it_refuses_blank_or_non_png_signatures_and_empty_names(owner, quote,
                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    quote.refresh_from_db()
    with pytest.raises(ValidationError):
        services.quote_approve(quote=quote, name="Rosa", signature_png=signature_png(True))
    jpeg = io.BytesIO()
    Image.new("RGB", (300, 100), "white").save(jpeg, "JPEG")
    with pytest.raises(ValidationError, match="PNG"):
        services.quote_approve(quote=quote, name="Rosa", signature_png=jpeg.getvalue())
    with pytest.raises(ValidationError):
        services.quote_approve(quote=quote, name="Rosa", signature_png=b"not an image")
    with pytest.raises(ValidationError):
        services.quote_approve(quote=quote, name=" ", signature_png=signature_png())
    assert base64  # used by the view tests' data URLs


def test_it_declines_with_a_reason_and_then_refuses_answers(owner, quote,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    quote.refresh_from_db()
    with pytest.raises(ValidationError):
        services.quote_decline(quote=quote, reason="")
    declined = services.quote_decline(quote=quote, reason="Too expensive")
    assert declined.status == QuoteStatus.DECLINED
    with pytest.raises(ValidationError, match="no longer"):
        services.quote_approve(quote=declined, name="Rosa", signature_png=signature_png())
    with pytest.raises(ValidationError, match="approved"):
        services.quote_convert(quote=declined, by=owner)


def test_it_expires_quotes_past_their_date(owner, quote, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    quote.refresh_from_db()
    today = timezone.localdate(timezone=quote.organization.tzinfo)
    quote.valid_until = today - dt.timedelta(days=1)
    quote.save()
    assert services.quote_expire(quote=quote).status == QuoteStatus.EXPIRED
    with pytest.raises(ValidationError):
        services.quote_approve(quote=quote, name="Rosa", signature_png=signature_png())


def test_it_locks_quote_lines_once_answered(owner, quote, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    quote.refresh_from_db()
    services.quote_decline(quote=quote, reason="No")
    with pytest.raises(ValidationError):
        services.quote_line_add(quote=quote, by=owner, description="x", unit_price=1)


def test_it_replaces_the_link_when_sent_again(owner, quote, django_capture_on_commit_callbacks,
                                              mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    first, second = (m.body.split("/q/")[1].split("/")[0] for m in mailoutbox)
    assert services.quote_for_token(first) is None
    assert services.quote_for_token(second) == quote
    assert mailoutbox[1].attachments[0][0] == "Q-1001.pdf"


def test_it_refuses_to_price_labor_at_nothing_when_no_rate_is_set(
        org, owner, technician, completed_wo):
    add_labor(completed_wo, technician, 90, "Replaced pump")
    assert not services.labor_rate_is_set(org)
    with pytest.raises(ValidationError) as refused:
        services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    assert refused.value.code == "labor_rate_missing"
    assert "Tara Tech" in refused.value.messages[0]
    assert not Invoice.objects.filter(work_order=completed_wo).exists()

    services.default_labor_rate_set(organization=org, hourly_rate=Decimal("95"), by=owner)
    assert services.labor_rate_is_set(org)
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    [line] = invoice.lines.all()
    assert (line.quantity, line.unit_price, line.net_amount) == (
        Decimal("1.5"), Decimal("95"), Decimal("142.50"))


def test_each_members_own_rate_wins_over_the_default(org, owner, technician, office,
                                                     completed_wo):
    services.default_labor_rate_set(organization=org, hourly_rate=Decimal("90"), by=owner)
    services.member_rate_set(member=technician, hourly_rate=Decimal("70"), by=owner)
    add_labor(completed_wo, technician, 60)
    add_labor(completed_wo, office, 60)
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    assert [line.unit_price for line in invoice.lines.order_by("position")] == [
        Decimal("70"), Decimal("90")]


def test_a_members_own_rate_is_enough_without_a_default(org, owner, technician, office,
                                                        completed_wo):
    services.member_rate_set(member=technician, hourly_rate=Decimal("70"), by=owner)
    add_labor(completed_wo, technician, 60)
    invoice = services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
    assert invoice.total == Decimal("70.00")
    # Someone else on the job without a rate of their own is not billed at nothing.
    add_labor(completed_wo, office, 30)
    services.invoice_void(invoice=invoice, by=owner, reason="again")
    with pytest.raises(ValidationError, match="Oscar Office"):
        services.invoice_draft_from_work_order(work_order=completed_wo, by=owner)
