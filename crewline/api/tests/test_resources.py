"""Every resource of /api/v1/ beyond the first ones: contacts, sites, equipment, visits and
their actions, work order transitions, the timeline (notes, files), job reports, time entries,
the price book, quotes and invoices. Each endpoint with its scope (and every write answering
as a read returns it), without it (403), a read key on a write (403), an outsider's key (404)
and bad input (422 with field errors)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crewline.billing import services as billing
from crewline.billing.models import Invoice, ItemKind, PriceBookItem, Quote
from crewline.billing.tests.conftest import add_labor, add_part
from crewline.customers.models import Contact, Equipment, Site
from crewline.documents.services import job_report_create
from crewline.factories import ContactFactory, EquipmentFactory, SiteFactory
from crewline.timesheets.services import clock_in, clock_out
from crewline.workorders import timeline
from crewline.workorders.models import Status, Visit, VisitStatus, WorkOrder
from crewline.workorders.services import visit_add, work_order_create

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def world(org, owner, technician):
    site = SiteFactory(customer__organization=org)
    customer = site.customer
    contact = ContactFactory(customer=customer)
    equipment = EquipmentFactory(site=site)
    wo = work_order_create(organization=org, by=owner, customer=customer, site=site,
                           title="Boiler service")
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    visit = visit_add(work_order=wo, by=owner, start=start, end=start + dt.timedelta(hours=1),
                      crew=[technician], override=True)
    note = timeline.note_add(work_order=wo, by=owner, body="Bring the long ladder")
    attachment = timeline.attachment_add(
        work_order=wo, by=owner, file=SimpleUploadedFile("plan.txt", b"the plan", "text/plain"))
    done = work_order_create(organization=org, by=owner, customer=customer, site=site,
                             title="Pump replaced")
    item = billing.price_item_create(organization=org, by=owner, code="FLT-16", name="Filter",
                                     kind=ItemKind.MATERIAL, unit_price=Decimal("12.50"),
                                     tax_rate=Decimal("8.25"))
    billing.member_rate_set(member=technician, hourly_rate=Decimal("80"), by=owner)
    add_labor(done, technician, 90, "Replaced pump")
    add_part(done, technician, price_book_item_id=item.pk, quantity=2)
    WorkOrder.objects.filter(pk=done.pk).update(status=Status.COMPLETED,
                                                completed_at=timezone.now())
    done.refresh_from_db()
    report = job_report_create(work_order=done, by=owner)
    invoice = billing.invoice_draft_from_work_order(work_order=done, by=owner)
    invoice = billing.invoice_issue(invoice=invoice, by=owner,
                                    issue_date=timezone.localdate())
    ready = work_order_create(organization=org, by=owner, customer=customer, site=site,
                              title="Ready to bill")
    WorkOrder.objects.filter(pk=ready.pk).update(status=Status.COMPLETED)
    quote = billing.quote_create(organization=org, by=owner, customer=customer,
                                 title="New boiler")
    billing.quote_line_add(quote=quote, by=owner, item=item, quantity=Decimal("3"))
    shift = clock_in(member=technician, by=owner, at=timezone.now() - dt.timedelta(hours=3))
    clock_out(member=technician, by=owner, at=timezone.now() - dt.timedelta(hours=1))
    return {"customer": customer, "site": site, "contact": contact, "equipment": equipment,
            "work_order": wo, "visit": visit, "note": note, "attachment": attachment,
            "done": done, "report": report, "invoice": invoice, "ready": ready,
            "item": item, "quote": quote, "member": technician, "shift": shift}


def reads(w):
    """(path, scope) of every read beyond the first slice's."""
    return [
        (f"/api/v1/customers/{w['customer'].pk}/contacts", "read:customers"),
        (f"/api/v1/contacts/{w['contact'].pk}", "read:customers"),
        ("/api/v1/sites", "read:customers"),
        ("/api/v1/equipment", "read:customers"),
        (f"/api/v1/equipment/{w['equipment'].pk}", "read:customers"),
        (f"/api/v1/work-orders/{w['work_order'].pk}/timeline", "read:work_orders"),
        (f"/api/v1/timeline/{w['attachment'].pk}/file", "read:work_orders"),
        (f"/api/v1/work-orders/{w['done'].pk}/reports", "read:work_orders"),
        (f"/api/v1/job-reports/{w['report'].pk}/pdf", "read:work_orders"),
        ("/api/v1/time-entries", "read:team"),
        ("/api/v1/price-book", "read:billing"),
        (f"/api/v1/price-book/{w['item'].pk}", "read:billing"),
        ("/api/v1/quotes", "read:billing"),
        (f"/api/v1/quotes/{w['quote'].pk}", "read:billing"),
        ("/api/v1/invoices", "read:billing"),
        (f"/api/v1/invoices/{w['invoice'].pk}", "read:billing"),
    ]


def writes(w):
    """(method, path, scope, body, status) of every write, each made once on the world."""
    soon = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    later = soon + dt.timedelta(hours=2)
    return [
        ("patch", f"/api/v1/customers/{w['customer'].pk}", "write:customers",
         {"phone": "+1 312 555 0100"}, 200),
        ("post", f"/api/v1/customers/{w['customer'].pk}/contacts", "write:customers",
         {"name": "Dana Reyes", "email": "dana@example.com", "is_primary": True}, 201),
        ("patch", f"/api/v1/contacts/{w['contact'].pk}", "write:customers",
         {"role": "Facilities"}, 200),
        ("post", f"/api/v1/customers/{w['customer'].pk}/sites", "write:customers",
         {"address_line1": "1 Lake St", "city": "Chicago", "latitude": "41.878113",
          "longitude": "-87.629799"}, 201),
        ("patch", f"/api/v1/sites/{w['site'].pk}", "write:customers",
         {"access_notes": "Key at the front desk"}, 200),
        ("post", f"/api/v1/sites/{w['site'].pk}/equipment", "write:customers",
         {"name": "Rooftop unit 2", "installed_on": "2021-05-01"}, 201),
        ("patch", f"/api/v1/equipment/{w['equipment'].pk}", "write:customers",
         {"serial_number": "SN-42"}, 200),
        ("post", f"/api/v1/work-orders/{w['work_order'].pk}/visits", "write:work_orders",
         {"start": soon.isoformat(), "end": later.isoformat(), "crew": [w["member"].pk],
          "override": True}, 201),
        ("post", f"/api/v1/visits/{w['visit'].pk}/reschedule", "write:work_orders",
         {"start": (soon + dt.timedelta(days=1)).isoformat(),
          "end": (later + dt.timedelta(days=1)).isoformat(), "override": True}, 200),
        ("post", f"/api/v1/visits/{w['visit'].pk}/assign", "write:work_orders",
         {"crew": [], "override": True}, 200),
        ("post", f"/api/v1/visits/{w['visit'].pk}/cancel", "write:work_orders",
         {"reason": "Customer away"}, 200),
        ("post", f"/api/v1/work-orders/{w['work_order'].pk}/transitions", "write:work_orders",
         {"action": "hold", "reason": "Waiting for parts"}, 200),
        ("post", f"/api/v1/work-orders/{w['work_order'].pk}/notes", "write:work_orders",
         {"body": "Parts ordered", "visibility": "customer"}, 201),
        ("post", "/api/v1/price-book", "write:billing",
         {"code": "CALL", "name": "Service call", "unit_price": "95", "unit": "visit"}, 201),
        ("patch", f"/api/v1/price-book/{w['item'].pk}", "write:billing",
         {"unit_price": "13.75"}, 200),
        ("post", "/api/v1/quotes", "write:billing",
         {"customer_id": w["customer"].pk, "title": "Second boiler",
          "lines": [{"item_id": w["item"].pk, "quantity": "2"},
                    {"description": "Labour", "unit_price": "80.00", "quantity": "1.5"}]},
         201),
        ("post", f"/api/v1/work-orders/{w['ready'].pk}/invoice", "write:billing", None, 201),
        ("post", f"/api/v1/invoices/{w['invoice'].pk}/mark-paid", "write:billing",
         {"paid_on": timezone.localdate().isoformat(), "method": "card",
          "reference": "ch_123"}, 200),
    ]


def _send(client, method, path, body):
    return getattr(client, method)(path, body if body is not None else {})


def _is_problem(response, status):
    assert response.status_code == status, (response.status_code, response.content[:400])
    assert response["Content-Type"] == PROBLEM
    return response.json()


def test_every_read_answers_its_scope_and_refuses_others(world, api):
    for path, scope in reads(world):
        response = api(scope).get(path)
        assert response.status_code == 200, (path, response.content[:300])
        assert response["Cache-Control"] == "private, no-store"
        others = [s for s in ("read:customers", "read:work_orders", "read:team",
                              "read:billing") if s != scope]
        assert _is_problem(api(*others).get(path), 403)["type"].endswith("missing-scope")


def test_an_outsider_finds_none_of_it(world, api, other_org):
    outsider = api(organization=other_org)
    for path, _scope in reads(world):
        response = outsider.get(path)
        if path.split("?")[0].rstrip("/").split("/")[-1].isdigit() or path.endswith(
                ("/file", "/pdf", "/contacts", "/timeline", "/reports")):
            _is_problem(response, 404)
        else:
            assert response.status_code == 200 and response.json()["data"] == [], path
    for method, path, _scope, body, _status in writes(world):
        if path in ("/api/v1/price-book", "/api/v1/quotes"):
            continue  # a create in the outsider's own organization; see below
        _is_problem(_send(outsider, method, path, body), 404)
    # The outsider's quote may not name this organization's customer or item.
    response = outsider.post("/api/v1/quotes", {"customer_id": world["customer"].pk,
                                                "title": "X"})
    assert _is_problem(response, 404)["errors"][0]["field"] == "customer_id"
    assert Quote.objects.count() == 1
    assert Visit.objects.filter(status=VisitStatus.CANCELLED).count() == 0


def test_a_read_key_may_not_write(world, api):
    reader = api("read:customers", "read:work_orders", "read:billing", "read:team")
    items = PriceBookItem.objects.count()
    for method, path, _scope, body, _status in writes(world):
        body = _is_problem(_send(reader, method, path, body), 403)
        assert body["type"].endswith("missing-scope"), path
    assert PriceBookItem.objects.count() == items
    assert Invoice.objects.count() == 1


def test_every_write_answers_as_a_read_returns_it(world, api):
    for method, path, scope, body, status in writes(world):
        client = api(scope)
        response = _send(client, method, path, body)
        assert response.status_code == status, (path, response.content[:400])
        data = response.json()
        read_url = data.get("url")
        if read_url:
            again = client.get(read_url)
            assert again.json() == data, path
            assert response["ETag"] == again["ETag"], path


def test_a_write_with_an_outsiders_ids_in_its_body_is_not_found_naming_the_field(
        world, api, other_org, owner):
    other_site = SiteFactory(customer__organization=other_org)
    client = api("write:work_orders", "write:billing")
    visits = f"/api/v1/work-orders/{world['work_order'].pk}/visits"
    body = _is_problem(client.post(visits, {"crew": [999_999]}), 404)
    assert body["errors"][0]["field"] == "crew"
    notes = f"/api/v1/work-orders/{world['work_order'].pk}/notes"
    other_visit = world["done"].visits.first()
    body = _is_problem(client.post(notes, {"body": "x", "visit_id": other_visit.pk}), 404)
    assert body["errors"][0]["field"] == "visit_id"
    body = _is_problem(client.post("/api/v1/quotes", {
        "customer_id": world["customer"].pk, "site_id": other_site.pk, "title": "X"}), 404)
    assert body["errors"][0]["field"] == "site_id"


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/customers/{customer}/contacts", {"name": ""}, "name"),
    ("/api/v1/customers/{customer}/contacts", {"name": "A", "email": "nope"}, "email"),
    ("/api/v1/customers/{customer}/sites", {"city": "Chicago"}, "address_line1"),
    ("/api/v1/customers/{customer}/sites", {"address_line1": "1 Lake St", "city": "Chicago",
                                            "latitude": "91"}, "latitude"),
    ("/api/v1/customers/{customer}/sites", {"address_line1": "1 Lake St", "city": "Chicago",
                                            "latitude": "41.1"}, "longitude"),
    ("/api/v1/customers/{customer}/sites", {"address_line1": "1 Lake St", "city": "Chicago",
                                            "time_zone": "Mars/Olympus"}, "time_zone"),
    ("/api/v1/sites/{site}/equipment", {"name": "A", "installed_on": "9999-01-01"},
     "installed_on"),
    ("/api/v1/work-orders/{wo}/visits", {"start": "2026-12-10T08:00:00+00:00"}, "end"),
    ("/api/v1/work-orders/{wo}/visits", {"start": "2026-12-10T08:00:00",
                                         "end": "2026-12-10T09:00:00"}, "start"),
    ("/api/v1/visits/{visit}/reschedule", {"start": "2026-12-10T10:00:00Z",
                                           "end": "2026-12-10T09:00:00Z"}, "end"),
    ("/api/v1/visits/{visit}/cancel", {"reason": ""}, "reason"),
    ("/api/v1/work-orders/{wo}/transitions", {"action": "fly"}, "action"),
    ("/api/v1/work-orders/{wo}/notes", {"body": ""}, "body"),
    ("/api/v1/work-orders/{wo}/notes", {"body": "x", "visibility": "everyone"}, "visibility"),
    ("/api/v1/price-book", {"code": "A", "name": "A", "unit_price": "abc"}, "unit_price"),
    ("/api/v1/price-book", {"code": "A", "name": "A", "unit_price": "1.23456"}, "unit_price"),
    ("/api/v1/price-book", {"code": "A", "name": "A", "unit_price": "-1"}, "unit_price"),
    ("/api/v1/price-book", {"code": "A", "name": "A", "unit_price": "1",
                            "tax_rate": "101"}, "tax_rate"),
    ("/api/v1/quotes", {"customer_id": "x", "title": "A"}, "customer_id"),
    ("/api/v1/quotes", {"customer_id": "{customer}", "title": "A",
                        "lines": [{"quantity": "0"}]}, "lines.0.quantity"),
    ("/api/v1/quotes", {"customer_id": "{customer}", "title": "A",
                        "lines": [{"quantity": "1"}]}, "description"),
    ("/api/v1/invoices/{invoice}/mark-paid", {"paid_on": "2026-01-01", "method": "gold"},
     "method"),
    ("/api/v1/invoices/{invoice}/mark-paid", {"paid_on": "1990-01-01", "method": "card"},
     "paid_on"),
])
def test_bad_input_is_a_field_error(world, api, path, body, field):
    names = {"customer": world["customer"].pk, "site": world["site"].pk,
             "wo": world["work_order"].pk, "visit": world["visit"].pk,
             "invoice": world["invoice"].pk}
    path = path.format(**names)
    body = {k: (names[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v)
            for k, v in body.items()}
    response = api().post(path, body)
    problem = _is_problem(response, 422)
    assert problem["errors"], problem
    assert problem["errors"][0]["field"] == field, problem


def test_visits_are_scheduled_moved_crewed_and_cancelled_through_the_services(world, api,
                                                                              technician):
    client = api("write:work_orders")
    visit = world["visit"]
    start = visit.start + dt.timedelta(days=2)
    moved = client.post(f"/api/v1/visits/{visit.pk}/reschedule", {
        "start": start.isoformat(), "end": (start + dt.timedelta(hours=2)).isoformat(),
        "override": True})
    assert moved.status_code == 200, moved.content
    assert moved.json()["crew"] == [technician.pk]
    assert dt.datetime.fromisoformat(moved.json()["start"]) == start
    visit.refresh_from_db()
    assert visit.start == start and visit.sequence >= 1
    assert world["work_order"].timeline.filter(kind="schedule").exists()
    cancelled = client.post(f"/api/v1/visits/{visit.pk}/cancel", {"reason": "Away"})
    assert cancelled.json()["status"] == "cancelled"
    # A cancelled visit cannot be moved again: the service's refusal, as a problem.
    again = client.post(f"/api/v1/visits/{visit.pk}/reschedule", {
        "start": start.isoformat(), "end": (start + dt.timedelta(hours=1)).isoformat()})
    assert again.status_code in (409, 422) and again["Content-Type"] == PROBLEM


def test_a_double_booking_is_a_409_naming_the_conflict_until_overridden(world, api,
                                                                        technician):
    client = api("write:work_orders")
    visit = world["visit"]
    path = f"/api/v1/work-orders/{world['work_order'].pk}/visits"
    body = {"start": visit.start.isoformat(), "end": visit.end.isoformat(),
            "crew": [technician.pk]}
    conflict = client.post(path, body)
    problem = _is_problem(conflict, 409)
    assert problem["errors"] and problem["detail"]
    assert world["work_order"].visits.count() == 1
    assert client.post(path, {**body, "override": True}).status_code == 201
    assert world["work_order"].visits.count() == 2


def test_a_transition_the_status_does_not_allow_is_a_409(world, api):
    client = api("write:work_orders")
    response = client.post(f"/api/v1/work-orders/{world['work_order'].pk}/transitions",
                           {"action": "invoice"})
    _is_problem(response, 409)


def test_notes_and_files_go_on_the_timeline(world, api):
    client = api("write:work_orders")
    wo = world["work_order"]
    note = client.post(f"/api/v1/work-orders/{wo.pk}/notes",
                       {"body": "Gate code 4411", "visit_id": world["visit"].pk})
    assert note.status_code == 201
    assert note.json()["kind"] == "note" and note.json()["visit_id"] == world["visit"].pk
    upload = client.upload(f"/api/v1/work-orders/{wo.pk}/files", {
        "file": SimpleUploadedFile("meter.png", _png(), "image/png"), "visibility": "customer",
        "caption": "Meter"})
    assert upload.status_code == 201, upload.content
    entry = upload.json()
    assert entry["kind"] == "photo" and entry["file"]["name"] == "meter.png"
    assert entry["visibility"] == "customer"
    download = client.get(entry["file"]["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == _png()
    assert download["Content-Type"] == "image/png"
    listed = client.get(f"/api/v1/work-orders/{wo.pk}/timeline?kind=note").json()["data"]
    assert [e["body"] for e in listed] == ["Bring the long ladder", "Gate code 4411"]
    assert client.upload(f"/api/v1/work-orders/{wo.pk}/files", {}).status_code == 422


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def test_a_job_report_downloads_as_pdf(world, api):
    client = api("read:work_orders")
    [report] = client.get(f"/api/v1/work-orders/{world['done'].pk}/reports").json()["data"]
    assert report["version"] == 1
    pdf = client.get(report["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert "attachment" in pdf["Content-Disposition"]


def test_money_is_a_decimal_string_with_its_currency(world, api, org):
    client = api("read:billing")
    invoice = client.get(f"/api/v1/invoices/{world['invoice'].pk}").json()
    assert invoice["currency"] == org.currency
    assert invoice["total"] == {"amount": str(world["invoice"].total.quantize(Decimal("0.01"))),
                                "currency": org.currency}
    [labor, part] = invoice["lines"]
    assert labor["quantity"] == "1.5" and labor["unit_price"]["amount"] == "80.00"
    assert part["unit_price"] == {"amount": "12.50", "currency": org.currency}
    assert part["tax_rate"] == "8.250"
    item = client.get(f"/api/v1/price-book/{world['item'].pk}").json()
    assert item["unit_price"] == {"amount": "12.50", "currency": org.currency}


def test_an_invoice_is_drafted_from_a_work_order_and_marked_paid(world, api):
    client = api("write:billing")
    draft = client.post(f"/api/v1/work-orders/{world['ready'].pk}/invoice")
    assert draft.status_code == 201, draft.content
    assert draft.json()["status"] == "draft" and draft.json()["work_order_id"] == world[
        "ready"].pk
    # Refusals for the objects' state are conflicts.
    twice = client.post(f"/api/v1/work-orders/{world['ready'].pk}/invoice")
    assert twice.status_code == 409
    not_issued = client.post(f"/api/v1/invoices/{draft.json()['id']}/mark-paid",
                             {"paid_on": timezone.localdate().isoformat(), "method": "cash"})
    assert not_issued.status_code == 409
    open_job = client.post(f"/api/v1/work-orders/{world['work_order'].pk}/invoice")
    assert open_job.status_code == 409
    assert open_job.json()["type"].endswith("conflict")
    paid = client.post(f"/api/v1/invoices/{world['invoice'].pk}/mark-paid",
                       {"paid_on": timezone.localdate().isoformat(), "method": "check"})
    assert paid.json()["status"] == "paid" and paid.json()["payment_method"] == "check"


def test_lists_filter(world, api, technician, owner):
    client = api("read:work_orders", "read:customers", "read:team", "read:billing")
    tomorrow = world["visit"].start.astimezone(world["work_order"].organization.tzinfo).date()
    wos = client.get("/api/v1/work-orders", {"technician": technician.pk,
                                             "date_from": tomorrow.isoformat(),
                                             "date_to": tomorrow.isoformat()}).json()["data"]
    assert [w["id"] for w in wos] == [world["work_order"].pk]
    assert client.get("/api/v1/work-orders", {"technician": owner.pk}).json()["data"] == []
    visits = client.get("/api/v1/visits", {"work_order": world["done"].pk}).json()["data"]
    assert {v["work_order_id"] for v in visits} == {world["done"].pk}
    sites = client.get("/api/v1/sites", {"customer": world["customer"].pk}).json()["data"]
    assert [s["id"] for s in sites] == [world["site"].pk]
    equipment = client.get("/api/v1/equipment", {"site": world["site"].pk}).json()["data"]
    assert [e["id"] for e in equipment] == [world["equipment"].pk]
    entries = client.get("/api/v1/time-entries", {"technician": technician.pk}).json()["data"]
    assert [e["id"] for e in entries] == [world["shift"].pk]
    assert entries[0]["minutes"] == 120
    assert client.get("/api/v1/time-entries", {"technician": owner.pk}).json()["data"] == []
    issued = client.get("/api/v1/invoices", {"status": "issued"}).json()["data"]
    assert [i["id"] for i in issued] == [world["invoice"].pk]
    assert client.get("/api/v1/quotes", {"status": "approved"}).json()["data"] == []


def test_a_contact_made_primary_takes_over(world, api):
    client = api("write:customers")
    made = client.post(f"/api/v1/customers/{world['customer'].pk}/contacts",
                       {"name": "New lead", "is_primary": True}).json()
    assert made["is_primary"]
    others = Contact.objects.filter(customer=world["customer"]).exclude(pk=made["id"])
    assert not others.filter(is_primary=True).exists()
    site = client.patch(f"/api/v1/sites/{world['site'].pk}",
                        {"latitude": None, "longitude": None})
    assert site.status_code == 200 and site.json()["latitude"] is None
    assert Site.objects.get(pk=world["site"].pk).latitude is None
    # A site in another zone than the organization's says so; empty goes back to it.
    zoned = client.patch(f"/api/v1/sites/{world['site'].pk}", {"time_zone": "America/Denver"})
    assert zoned.status_code == 200 and zoned.json()["time_zone"] == "America/Denver"
    assert Site.objects.get(pk=world["site"].pk).time_zone == "America/Denver"
    assert client.patch(f"/api/v1/sites/{world['site'].pk}",
                        {"time_zone": ""}).json()["time_zone"] == ""
    assert client.patch(f"/api/v1/equipment/{world['equipment'].pk}",
                        {"name": None}).status_code == 422
    assert Equipment.objects.get(pk=world["equipment"].pk).name


def test_text_with_a_nul_character_is_a_field_error(world, api):
    client = api()
    for path, body, field in [
        ("/api/v1/price-book", {"code": "A\x00", "name": "A", "unit_price": "1"}, "code"),
        (f"/api/v1/work-orders/{world['work_order'].pk}/notes", {"body": "a\x00b"}, "body"),
        (f"/api/v1/customers/{world['customer'].pk}/contacts", {"name": "\x00"}, "name"),
    ]:
        problem = _is_problem(client.post(path, body), 422)
        assert problem["errors"][0]["field"] == field


def test_a_quote_is_sent_and_invoices_are_issued_and_voided(
        world, api, mailoutbox, django_capture_on_commit_callbacks):
    client = api("write:billing")
    quote = world["quote"]
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/api/v1/quotes/{quote.pk}/send", {"to": "rosa@example.com"})
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == "sent"
    assert [m.to for m in mailoutbox] == [["rosa@example.com"]]
    bad = _is_problem(client.post(f"/api/v1/quotes/{quote.pk}/send", {"to": "rosa"}), 422)
    assert bad["errors"][0]["field"] == "to"
    # A draft without lines cannot be issued (a conflict); voided, it is void.
    draft = client.post(f"/api/v1/work-orders/{world['ready'].pk}/invoice").json()
    empty = _is_problem(client.post(f"/api/v1/invoices/{draft['id']}/issue", {}), 409)
    assert empty["type"].endswith("conflict")
    voided = client.post(f"/api/v1/invoices/{draft['id']}/void", {"reason": "Billed twice"})
    assert voided.status_code == 200 and voided.json()["status"] == "void"
    # The issued one: issuing again is a conflict, voiding needs a reason, then it is void.
    issued = world["invoice"]
    _is_problem(client.post(f"/api/v1/invoices/{issued.pk}/issue", {}), 409)
    assert _is_problem(client.post(f"/api/v1/invoices/{issued.pk}/void", {"reason": " "}),
                       422)["errors"][0]["field"] == "reason"
    done = client.post(f"/api/v1/invoices/{issued.pk}/void", {"reason": "Wrong customer"})
    assert done.status_code == 200 and done.json()["status"] == "void"
    _is_problem(client.post(f"/api/v1/invoices/{issued.pk}/void", {"reason": "Again"}), 409)


def test_sending_issuing_and_voiding_need_the_write_scope_and_the_organization(world, api,
                                                                               other_org):
    calls = [(f"/api/v1/quotes/{world['quote'].pk}/send", {"to": "rosa@example.com"}),
             (f"/api/v1/invoices/{world['invoice'].pk}/issue", {}),
             (f"/api/v1/invoices/{world['invoice'].pk}/void", {"reason": "Wrong"})]
    reader, outsider = api("read:billing"), api("write:billing", organization=other_org)
    for path, body in calls:
        _is_problem(reader.post(path, body), 403)
        _is_problem(outsider.post(path, body), 404)
    world["quote"].refresh_from_db()
    world["invoice"].refresh_from_db()
    assert world["quote"].status == "draft" and world["invoice"].status == "issued"
