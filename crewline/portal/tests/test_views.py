"""The customer's page, its quote page (the billing approval), and the office's buttons."""

from __future__ import annotations

import re
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crewline.core.models import AuditLog
from crewline.portal.models import PortalLink

pytestmark = pytest.mark.django_db


def home(client, records):
    return client.get(reverse("portal_public:home", args=[records.token]))


def test_it_shows_the_visit_window_in_the_organizations_time_zone(client, mine, org):
    org.time_zone = "America/Denver"
    org.save(update_fields=["time_zone"])
    page = home(client, mine).content.decode()
    start = timezone.localtime(mine.visit.start, zoneinfo.ZoneInfo("America/Denver"))
    end = timezone.localtime(mine.visit.end, zoneinfo.ZoneInfo("America/Denver"))
    assert f"{start:%H:%M}–{end:%H:%M}" in page
    # The crew by first name only.
    assert "Your technician: Tara" in page and "Tara Tech" not in page


def test_it_lists_the_customers_records_with_their_pdfs(client, mine):
    page = home(client, mine).content.decode()
    assert mine.quote.reference in page and mine.invoice.reference in page
    assert mine.job.reference in page and "12 Maple Ave" in page
    assert reverse("portal_public:report_pdf", args=[mine.token, mine.report.pk]) in page
    assert reverse("portal_public:invoice_pdf", args=[mine.token, mine.invoice.pk]) in page
    report = client.get(reverse("portal_public:report_pdf", args=[mine.token, mine.report.pk]))
    assert report["Content-Type"] == "application/pdf"
    assert b"".join(report.streaming_content).startswith(b"%PDF")
    invoice = client.get(reverse("portal_public:invoice_pdf",
                                 args=[mine.token, mine.invoice.pk]))
    assert invoice["Content-Type"] == "application/pdf" and invoice.content.startswith(b"%PDF")
    # Money as the language writes it.
    assert "1,234.50" in page


def test_it_speaks_the_customers_language(client, mine):
    mine.customer.language = "es"
    mine.customer.save(update_fields=["language"])
    response = client.get(reverse("portal_public:home", args=[mine.token]),
                          HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response["Content-Language"] == "es"
    assert "Próximas visitas" in page and "Upcoming visits" not in page
    assert "1\u00a0234,50" in page
    month = mine.visit.start.astimezone(mine.customer.organization.tzinfo)
    assert f"{month.day} " in page


def test_a_get_changes_nothing_but_when_the_link_was_last_opened(client, mine):
    before = AuditLog.objects.count()
    home(client, mine)
    client.get(reverse("portal_public:quote", args=[mine.token, mine.quote.pk]))
    mine.quote.refresh_from_db()
    assert mine.quote.status == "sent" and AuditLog.objects.count() == before
    assert PortalLink.objects.get(pk=mine.link.pk).last_used_at is not None


def test_it_approves_a_quote_through_the_billing_approval(client, mine, signature_png):
    url = reverse("portal_public:quote", args=[mine.token, mine.quote.pk])
    response = client.post(url, {"action": "approve", "approve-name": "Rosa Diaz",
                                 "approve-signature": signature_png})
    assert response.status_code == 302 and response["Location"] == url
    mine.quote.refresh_from_db()
    assert mine.quote.status == "approved" and mine.quote.approved_by_name == "Rosa Diaz"
    log = AuditLog.objects.filter(action="quote.approve", object_id=str(mine.quote.pk))
    assert log.count() == 1
    page = client.get(url).content.decode()
    assert "Approved by Rosa Diaz" in page
    assert reverse("portal_public:home", args=[mine.token]) in page
    # The quote's own emailed link still opens the same page.
    assert reverse("portal_public:quote_pdf", args=[mine.token, mine.quote.pk]) in page


def test_it_declines_a_quote_with_a_reason(client, mine):
    url = reverse("portal_public:quote", args=[mine.token, mine.quote.pk])
    assert client.post(url, {"action": "decline", "decline-reason": ""}).status_code == 400
    client.post(url, {"action": "decline", "decline-reason": "Too dear"})
    mine.quote.refresh_from_db()
    assert mine.quote.status == "declined" and mine.quote.declined_reason == "Too dear"


@pytest.fixture
def signature_png() -> str:
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 100), "white")
    ImageDraw.Draw(image).line((10, 80, 290, 20), fill="black", width=4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# The office's buttons --------------------------------------------------------------------

def _link_in(message) -> str:
    return re.search(r"/p/([^/\s]+)/", message.body).group(1)


def test_the_office_emails_a_link_in_the_customers_language(
        office_client, mine, office, django_capture_on_commit_callbacks):
    mine.customer.language = "es"
    mine.customer.save(update_fields=["language"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = office_client.post(reverse("portal:link_send", args=[mine.customer.pk]))
    assert response.status_code == 302
    assert response["Location"].endswith(f"/customers/{mine.customer.pk}/#portal")
    (message,) = mail.outbox
    assert message.to == ["billing@maple.example"]
    assert "Aquí tiene el enlace" in message.body
    token = _link_in(message)
    link = PortalLink.objects.get(token_hash=PortalLink.hash_token(token))
    assert link.created_by == office and link.sent_to == "billing@maple.example"
    assert AuditLog.objects.filter(action="portal_link.send", actor=office).exists()
    assert AuditLog.objects.filter(action="portal_link.issue", object_id=str(link.pk)).exists()
    assert office_client.get(reverse("portal_public:home", args=[token])).status_code == 200


def test_the_office_needs_an_address_to_send_to(office_client, mine,
                                                django_capture_on_commit_callbacks):
    mine.customer.email = ""
    mine.customer.save(update_fields=["email"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = office_client.post(reverse("portal:link_send", args=[mine.customer.pk]),
                                      follow=True)
    assert "Add an email address" in response.content.decode() and not mail.outbox


def test_the_office_revokes_every_link_in_one_click(office_client, mine, office, owner):
    from crewline.portal.services import portal_link_issue

    _, second = portal_link_issue(customer=mine.customer, by=owner, sent_to="x@y.example")
    page = office_client.get(reverse("customers:detail", args=[mine.customer.pk]))
    assert "2 links work." in page.content.decode()
    response = office_client.post(reverse("portal:links_revoke", args=[mine.customer.pk]),
                                  follow=True)
    assert "2 links to the portal no longer work." in response.content.decode()
    for token in (mine.token, second):
        assert office_client.get(reverse("portal_public:home", args=[token])).status_code == 404
    entry = AuditLog.objects.get(action="portal_link.revoke")
    assert entry.actor == office and entry.object_id == str(mine.customer.pk)


@pytest.mark.parametrize("name", ["portal:link_send", "portal:links_revoke"])
def test_the_office_buttons_are_the_offices(name, mine, tech_client, outsider_client,
                                            client, django_capture_on_commit_callbacks):
    url = reverse(name, args=[mine.customer.pk])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert tech_client.post(url).status_code == 403
        assert outsider_client.post(url).status_code == 404
        assert client.post(url).status_code == 302  # to the login page
        assert tech_client.get(url).status_code in (403, 405)
    assert not mail.outbox
    assert PortalLink.objects.filter(revoked_at__isnull=False).count() == 0
    assert PortalLink.objects.count() == 1


def test_the_page_costs_the_same_queries_however_many_records(
        client, mine, owner, technician, django_assert_max_num_queries):
    import datetime as dt

    from crewline.factories import MemberFactory
    from crewline.workorders.services import visit_add

    with django_assert_max_num_queries(12) as few:
        home(client, mine)
    for n in range(4):
        second = MemberFactory(organization=owner.organization, role="technician")
        start = mine.visit.start + dt.timedelta(days=n + 1)
        visit_add(work_order=mine.visit.work_order, by=owner, start=start,
                  end=start + dt.timedelta(hours=1), crew=[technician, second], override=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = home(client, mine).content.decode()
    assert page.count("data-visit=") == 5
