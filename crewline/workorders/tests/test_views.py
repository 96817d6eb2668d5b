from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crewline.core.models import AuditLog
from crewline.customers.models import Customer, Site
from crewline.factories import CustomerFactory, SiteFactory
from crewline.workorders.models import EntryKind, Status, Tag, TimelineEntry, Visit, WorkOrder
from crewline.workorders.services import attachment_add, note_add, visit_add


@pytest.fixture
def wo(make_wo):
    return make_wo(instructions="Check the pilot light first.")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# The list ----------------------------------------------------------------------------------

def test_it_lists_open_work_orders(office_client, make_wo):
    open_wo = make_wo(title="Furnace short-cycling")
    done = make_wo(title="Old job")
    WorkOrder.objects.filter(pk=done.pk).update(status=Status.COMPLETED)
    response = office_client.get(reverse("workorders:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Furnace short-cycling" in html
    assert "Old job" not in html
    assert '<span class="badge status-badge status-new">' in html
    assert open_wo.reference in html


def test_it_filters_with_htmx_and_returns_only_the_rows(office_client, make_wo):
    make_wo(title="Furnace short-cycling")
    make_wo(title="Leaking tap")
    response = office_client.get(reverse("workorders:list"), {"q": "tap"},
                                 headers={"HX-Request": "true", "HX-Target": "wo-rows"})
    html = response.content.decode()
    assert "<html" not in html
    assert "Leaking tap" in html and "Furnace" not in html


def test_it_marks_overdue_work_orders(office_client, make_wo):
    make_wo(due_date=timezone.localdate() - dt.timedelta(days=2))
    response = office_client.get(reverse("workorders:list"))
    assert "text-danger" in response.content.decode()


def test_it_shows_the_next_visit_and_crew(office_client, make_wo, office, technician, soon):
    wo = make_wo()
    visit_add(work_order=wo, by=office, start=soon[0], end=soon[1], crew=[technician])
    html = office_client.get(reverse("workorders:list")).content.decode()
    assert "Tara Tech" in html
    assert "Scheduled" in html


def test_it_pages_the_list_by_50(office_client, org, customer, site):
    WorkOrder.objects.bulk_create(
        WorkOrder(organization=org, customer=customer, site=site, number=n, title=f"Job {n}")
        for n in range(1, 56))
    first = office_client.get(reverse("workorders:list")).content.decode()
    assert "WO-55" in first and "WO-6<" in first and "WO-5<" not in first
    second = office_client.get(reverse("workorders:list"), {"page": 2}).content.decode()
    assert "WO-5<" in second and "WO-6<" not in second


@pytest.mark.parametrize("n", [5, 60])
def test_it_lists_in_a_constant_number_of_queries(office_client, org, customer, site, office,
                                                  technician, django_assert_max_num_queries, n):
    tag = Tag.objects.create(organization=org, name="warranty")
    orders = WorkOrder.objects.bulk_create(
        WorkOrder(organization=org, customer=customer, site=site, number=i, title=f"Job {i}")
        for i in range(1, n + 1))
    start = timezone.now() + dt.timedelta(days=1)
    for wo in orders:
        wo.tags.add(tag)
        visit = Visit.objects.create(organization=org, work_order=wo, start=start,
                                     end=start + dt.timedelta(hours=1))
        visit.crew.add(technician, office)
    with django_assert_max_num_queries(11):
        response = office_client.get(reverse("workorders:list"))
    assert response.status_code == 200
    assert response.content.decode().count("status-badge") == min(n, 50)


def test_it_shows_a_customers_work_orders(office_client, make_wo, org):
    other = CustomerFactory(organization=org, name="Harbor Bakery")
    make_wo(customer=other, site=None, title="Oven hood")
    make_wo(title="Not theirs")
    html = office_client.get(reverse("workorders:list"),
                             {"customer": other.pk}).content.decode()
    assert "Oven hood" in html and "Not theirs" not in html and "Harbor Bakery" in html


def test_it_404s_for_another_organizations_customer_filter(outsider_client, customer):
    response = outsider_client.get(reverse("workorders:list"), {"customer": customer.pk})
    assert response.status_code == 404


# Create and edit ---------------------------------------------------------------------------

def _form(customer, site, **extra):
    data = {"customer": customer.pk, "site": site.pk, "title": "No hot water",
            "kind": "reactive", "priority": "3", "instructions": "Tank in the basement",
            "requested_start": "2030-05-04T09:00", "requested_end": "2030-05-04T12:00",
            "due_date": "2030-05-06", "tags": "warranty, VIP, warranty"}
    data.update(extra)
    return data


def test_it_creates_a_work_order_for_an_existing_customer(office_client, org, customer, site,
                                                          job_type):
    response = office_client.post(reverse("workorders:create"),
                                  _form(customer, site, job_type=job_type.pk))
    wo = WorkOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("workorders:detail", args=[wo.number])
    assert (wo.customer, wo.site, wo.priority, wo.job_type) == (customer, site, 3, job_type)
    # Local times in the organization's zone (America/Chicago, UTC-5 in May).
    assert wo.requested_start == dt.datetime(2030, 5, 4, 14, 0, tzinfo=dt.UTC)
    assert sorted(t.name for t in wo.tags.all()) == ["VIP", "warranty"]
    assert wo.created_by.user.email == "office@example.com"


def test_it_creates_a_customer_and_site_inline(office_client, org):
    response = office_client.post(reverse("workorders:create"), {
        "new_customer": "on", "new_name": "Rosa Diaz", "new_phone": "312-555-0199",
        "new_email": "rosa@example.com", "new_kind": "residential",
        "new_address_line1": "5 Elm Court", "new_city": "Evanston", "title": "Dripping tap",
        "kind": "reactive", "priority": "2"})
    assert response.status_code == 302
    wo = WorkOrder.objects.get()
    assert wo.customer.name == "Rosa Diaz" and wo.customer.organization == org
    assert wo.site.address_line1 == "5 Elm Court" and wo.site.customer == wo.customer


def test_it_keeps_the_input_and_shows_errors_next_to_fields(office_client, customer, site):
    response = office_client.post(reverse("workorders:create"), _form(
        customer, site, title="", requested_end="2030-05-04T08:00"))
    assert response.status_code == 400
    form = response.context["form"]
    assert "title" in form.errors and "requested_end" in form.errors
    html = response.content.decode()
    assert "Tank in the basement" in html
    assert "The end must be after the start." in html
    assert 'class="form-control is-invalid"' in html or "is-invalid" in html
    assert not WorkOrder.objects.exists()


def test_it_requires_a_customer_or_a_new_one(office_client):
    response = office_client.post(reverse("workorders:create"),
                                  {"title": "x", "kind": "reactive", "priority": "2"})
    assert "customer" in response.context["form"].errors
    response = office_client.post(reverse("workorders:create"), {
        "new_customer": "on", "title": "x", "kind": "reactive", "priority": "2"})
    errors = response.context["form"].errors
    assert {"new_name", "new_address_line1", "new_city"} <= set(errors)
    assert not Customer.objects.exists()


def test_it_rolls_back_the_new_customer_when_the_work_order_fails(office_client, org):
    office_client.post(reverse("workorders:create"), {
        "new_customer": "on", "new_name": "Rosa Diaz", "new_address_line1": "5 Elm Court",
        "new_city": "Evanston", "title": "  ", "kind": "reactive", "priority": "2"})
    assert not Customer.objects.exists() and not Site.objects.exists()


def test_it_refuses_a_site_of_another_customer(office_client, org, customer):
    other_site = SiteFactory(customer=CustomerFactory(organization=org))
    response = office_client.post(reverse("workorders:create"), _form(customer, other_site))
    assert response.status_code == 400
    assert "site" in response.context["form"].errors


def test_it_preselects_customer_and_site(office_client, customer, site):
    response = office_client.get(reverse("workorders:create"),
                                 {"customer": customer.pk, "site": site.pk})
    html = response.content.decode()
    assert f'<option value="{customer.pk}" selected>' in html
    assert f'<option value="{site.pk}" selected>' in html


def test_it_loads_a_customers_sites_for_the_form(office_client, customer, site):
    response = office_client.get(reverse("workorders:site_options"), {"customer": customer.pk})
    assert f'value="{site.pk}"' in response.content.decode()


def test_it_searches_customers_for_the_form(office_client, customer, org):
    CustomerFactory(organization=org, name="Zebra Zoo")
    html = office_client.get(reverse("workorders:customer_options"),
                             {"q": "maple"}).content.decode()
    assert "Maple Street Dental" in html and "Zebra Zoo" not in html


def test_it_edits_a_work_order(office_client, wo):
    response = office_client.post(reverse("workorders:edit", args=[wo.number]), {
        "customer": wo.customer_id, "site": wo.site_id, "title": "No heat upstairs",
        "kind": "contract", "priority": "4", "tags": "boiler"})
    assert response.status_code == 302
    wo.refresh_from_db()
    assert (wo.title, wo.kind, wo.priority) == ("No heat upstairs", "contract", 4)
    assert [t.name for t in wo.tags.all()] == ["boiler"]
    assert AuditLog.objects.filter(action="work_order.update", object_id=str(wo.pk)).exists()


def test_it_shows_edit_errors_and_keeps_input(office_client, wo):
    response = office_client.post(reverse("workorders:edit", args=[wo.number]), {
        "customer": wo.customer_id, "site": wo.site_id, "title": "Still typed",
        "kind": "contract", "priority": "4", "requested_start": "2030-01-01T10:00",
        "requested_end": "2030-01-01T09:00"})
    assert response.status_code == 400
    assert "requested_end" in response.context["form"].errors
    assert "Still typed" in response.content.decode()


# Detail ------------------------------------------------------------------------------------

def test_it_shows_the_detail_page(office_client, wo, office, technician, soon, media):
    visit_add(work_order=wo, by=office, start=soon[0], end=soon[1], crew=[technician])
    note_add(work_order=wo, by=office, body="Customer says it rattles", visibility="customer")
    attachment_add(work_order=wo, by=office, caption="Nameplate",
                   file=SimpleUploadedFile("plate.jpg", b"jpeg", content_type="image/jpeg"))
    response = office_client.get(reverse("workorders:detail", args=[wo.number]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Maple Street Dental", "Key safe by the back door", "312-555-0142",
                 "Customer says it rattles", "Customer can see", "plate.jpg",
                 "Tara Tech", "moved it from <strong>New</strong> to <strong>Scheduled</strong>",
                 "Check the pilot light first.", "work_order.create", "visit.add"):
        assert text in html, text
    entry = TimelineEntry.objects.get(kind=EntryKind.PHOTO)
    assert reverse("workorders:attachment", args=[entry.pk]) in html
    assert "/media/" not in html
    # The allowed transitions as buttons.
    for action in ("start", "hold", "complete", "cancel"):
        assert reverse("workorders:transition", args=[wo.number, action]) in html
    assert reverse("workorders:transition", args=[wo.number, "reopen"]) not in html


@pytest.mark.parametrize("n", [3, 30])
def test_it_shows_detail_in_a_constant_number_of_queries(office_client, wo, office, technician,
                                                         soon, django_assert_max_num_queries,
                                                         n):
    for i in range(n):
        note_add(work_order=wo, by=office if i % 2 else technician, body=f"Note {i}")
    for _ in range(2):
        visit_add(work_order=wo, by=office, start=soon[0], end=soon[1], crew=[technician],
                  override=True)
    # 16: the page's own (one of them for the work done: labor, parts, signatures; two for the
    # forms that record a part or labor: the price book and the members; one for the messages
    # sent to the customer), plus the navbar bell's unread count.
    with django_assert_max_num_queries(16):
        response = office_client.get(reverse("workorders:detail", args=[wo.number]))
    assert response.content.decode().count('class="kind-note') == n


# Transitions -------------------------------------------------------------------------------

def test_it_applies_a_transition(office_client, wo):
    response = office_client.post(reverse("workorders:transition", args=[wo.number, "start"]),
                                  follow=True)
    wo.refresh_from_db()
    assert wo.status == Status.IN_PROGRESS
    assert any("in progress" in m for m in _messages(response))


def test_it_explains_a_refused_transition_and_changes_nothing(office_client, wo):
    response = office_client.post(reverse("workorders:transition", args=[wo.number, "invoice"]),
                                  follow=True)
    wo.refresh_from_db()
    assert wo.status == Status.NEW
    assert "A work order that is new cannot be invoiced." in _messages(response)
    assert not TimelineEntry.objects.filter(kind=EntryKind.STATUS).exists()


def test_it_requires_a_reason_to_put_on_hold(office_client, wo):
    response = office_client.post(reverse("workorders:transition", args=[wo.number, "hold"]),
                                  {"reason": ""}, follow=True)
    wo.refresh_from_db()
    assert wo.status == Status.NEW
    assert any("reason" in m for m in _messages(response))
    office_client.post(reverse("workorders:transition", args=[wo.number, "hold"]),
                       {"reason": "Waiting for a part"})
    wo.refresh_from_db()
    assert (wo.status, wo.status_reason) == (Status.ON_HOLD, "Waiting for a part")


def test_it_404s_an_unknown_action(office_client, wo):
    response = office_client.post(reverse("workorders:transition", args=[wo.number, "explode"]))
    assert response.status_code == 404


def test_it_refuses_get_on_a_transition(office_client, wo):
    response = office_client.get(reverse("workorders:transition", args=[wo.number, "start"]))
    assert response.status_code == 405


# Visits, notes, files ----------------------------------------------------------------------

def test_it_adds_a_visit_with_a_duration(office_client, wo, technician):
    response = office_client.post(reverse("workorders:visit_add", args=[wo.number]), {
        "date": "2030-06-03", "start_time": "09:30", "duration": "90",
        "crew": [technician.pk]})
    assert response.status_code == 302
    visit = Visit.objects.get()
    local = timezone.localtime(visit.start, wo.organization.tzinfo)
    assert (local.hour, local.minute) == (9, 30)
    assert visit.end - visit.start == dt.timedelta(minutes=90)
    assert list(visit.crew.all()) == [technician]
    wo.refresh_from_db()
    assert wo.status == Status.SCHEDULED


def test_it_shows_visit_errors_and_keeps_input(office_client, wo):
    response = office_client.post(reverse("workorders:visit_add", args=[wo.number]), {
        "date": "2030-06-03", "start_time": "11:00", "end_time": "10:00",
        "notes": "Bring the ladder"})
    assert response.status_code == 400
    assert "end_time" in response.context["visit_form"].errors
    assert "Bring the ladder" in response.content.decode()
    assert not Visit.objects.exists()


def test_it_adds_a_note_with_htmx(office_client, wo):
    response = office_client.post(reverse("workorders:note_add", args=[wo.number]),
                                  {"body": "Called the customer", "visibility": "internal"},
                                  headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'hx-swap-oob="afterbegin:#timeline"' in html
    assert "Called the customer" in html
    assert "<html" not in html
    assert TimelineEntry.objects.filter(kind=EntryKind.NOTE, body="Called the customer").exists()


def test_it_shows_an_empty_note_error_in_place(office_client, wo):
    response = office_client.post(reverse("workorders:note_add", args=[wo.number]),
                                  {"body": "  ", "visibility": "internal"},
                                  headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "is-invalid" in html and "hx-swap-oob" not in html
    assert not TimelineEntry.objects.filter(kind=EntryKind.NOTE).exists()


def test_it_adds_a_note_without_javascript(office_client, wo):
    response = office_client.post(reverse("workorders:note_add", args=[wo.number]),
                                  {"body": "Plain post", "visibility": "customer"})
    assert response.status_code == 302
    assert TimelineEntry.objects.get(kind=EntryKind.NOTE).visibility == "customer"


def test_it_uploads_and_serves_a_file_through_a_checked_view(office_client, wo, media):
    response = office_client.post(reverse("workorders:attachment_add", args=[wo.number]), {
        "file": SimpleUploadedFile("quote.pdf", b"%PDF-1.4 quote", "application/pdf"),
        "caption": "Quote", "visibility": "internal"})
    assert response.status_code == 302
    entry = TimelineEntry.objects.get(kind=EntryKind.FILE)
    download = office_client.get(reverse("workorders:attachment", args=[entry.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 quote"
    assert "attachment" in download["Content-Disposition"]


def test_it_refuses_a_too_big_file_with_a_message(office_client, wo, media, settings):
    settings.MAX_ATTACHMENT_BYTES = 10
    response = office_client.post(reverse("workorders:attachment_add", args=[wo.number]), {
        "file": SimpleUploadedFile("big.pdf", b"x" * 11, "application/pdf"),
        "visibility": "internal"})
    assert response.status_code == 400
    assert "file" in response.context["attachment_form"].errors


# My visits ---------------------------------------------------------------------------------

def test_it_shows_a_technician_their_visits(tech_client, make_wo, office, technician, soon):
    wo = make_wo(title="Boiler service at the dentist")
    visit_add(work_order=wo, by=office, start=soon[0], end=soon[1], crew=[technician])
    other = make_wo(title="Someone else's job")
    visit_add(work_order=other, by=office, start=soon[0], end=soon[1], crew=[office])
    response = tech_client.get(reverse("workorders:my_visits"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Boiler service at the dentist" in html and "1200 Maple St" in html
    assert "Someone else" not in html


# Access ------------------------------------------------------------------------------------

def _object_urls(wo, entry) -> list[tuple[str, str]]:
    n = wo.number
    return [
        ("get", reverse("workorders:detail", args=[n])),
        ("get", reverse("workorders:edit", args=[n])),
        ("post", reverse("workorders:edit", args=[n])),
        ("post", reverse("workorders:transition", args=[n, "start"])),
        ("post", reverse("workorders:visit_add", args=[n])),
        ("post", reverse("workorders:note_add", args=[n])),
        ("post", reverse("workorders:attachment_add", args=[n])),
        ("get", reverse("workorders:attachment", args=[entry.pk])),
        ("get", reverse("workorders:site_options") + f"?customer={wo.customer_id}"),
    ]


@pytest.fixture
def wo_with_file(wo, office, media):
    entry = attachment_add(work_order=wo, by=office,
                           file=SimpleUploadedFile("a.txt", b"secret", "text/plain"))
    return wo, entry


def test_it_404s_every_object_url_for_an_outsider(outsider_client, wo_with_file):
    wo, entry = wo_with_file
    for method, url in _object_urls(wo, entry):
        response = (outsider_client.post(url, {"body": "x", "reason": "x"}) if method == "post"
                    else outsider_client.get(url))
        assert response.status_code == 404, url
    wo.refresh_from_db()
    assert wo.status == Status.NEW
    assert TimelineEntry.objects.filter(kind=EntryKind.NOTE).count() == 0


def test_it_403s_office_pages_for_a_technician(tech_client, wo_with_file):
    wo, entry = wo_with_file
    urls = [*_object_urls(wo, entry), ("get", reverse("workorders:list")),
            ("get", reverse("workorders:create")), ("post", reverse("workorders:create")),
            ("get", reverse("workorders:customer_options"))]
    for method, url in urls:
        response = (tech_client.post(url, {"body": "x", "reason": "x"}) if method == "post"
                    else tech_client.get(url))
        assert response.status_code == 403, url
    wo.refresh_from_db()
    assert wo.status == Status.NEW


def test_it_sends_anonymous_visitors_to_log_in(client, wo):
    for url in (reverse("workorders:list"), reverse("workorders:my_visits"),
                reverse("workorders:detail", args=[wo.number])):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_shows_the_latest_timeline_entries_and_loads_older_ones(office_client, wo, office):
    for i in range(55):
        note_add(work_order=wo, by=office, body=f"Entry number {i:02d}")
    page = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    html = page.split('id="history-pane"')[0]  # the timeline tab, not the audit history
    assert "Entry number 54" in html and "Entry number 05" in html
    assert "Entry number 04" not in html
    older_url = reverse("workorders:timeline_older", args=[wo.number])
    fifth = TimelineEntry.objects.get(work_order=wo, body="Entry number 05")
    assert f"{older_url}?before={fifth.pk}" in html
    # A note arriving meanwhile (shown live at the top) does not shift the older page.
    note_add(work_order=wo, by=office, body="Arrived later")
    older = office_client.get(older_url, {"before": fifth.pk}).content.decode()
    assert "Entry number 04" in older and "Entry number 00" in older
    assert "Entry number 05" not in older and "Arrived later" not in older
    assert "Show older entries" not in older
    assert office_client.get(older_url, {"before": "x"}).status_code == 404


def test_it_offers_a_draft_invoice_for_a_completed_job(office_client, wo):
    WorkOrder.objects.filter(pk=wo.pk).update(status=Status.COMPLETED)
    html = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    assert reverse("billing:invoice_from_work_order", args=[wo.pk]) in html
    assert "Draft invoice" in html
    WorkOrder.objects.filter(pk=wo.pk).update(status=Status.IN_PROGRESS)
    html = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    assert "Draft invoice" not in html
