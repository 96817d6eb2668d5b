"""Every portal URL answers 404 to a link that does not open it: another customer's, a
tampered, an expired or a revoked one, and a link of an archived customer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crewline.portal.models import PortalLink
from crewline.portal.services import portal_links_revoke

pytestmark = pytest.mark.django_db


def urls(token: str, records) -> dict[str, str]:
    return {
        "home": reverse("portal_public:home", args=[token]),
        "request": reverse("portal_public:portal_request", args=[token]),
        "quote": reverse("portal_public:quote", args=[token, records.quote.pk]),
        "quote_pdf": reverse("portal_public:quote_pdf", args=[token, records.quote.pk]),
        "invoice_pdf": reverse("portal_public:invoice_pdf", args=[token, records.invoice.pk]),
        "report_pdf": reverse("portal_public:report_pdf", args=[token, records.report.pk]),
    }


def test_it_opens_every_page_with_the_customers_own_link(client, mine):
    for name, url in urls(mine.token, mine).items():
        response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)


def test_it_hides_another_customers_records_behind_a_link(client, mine, theirs):
    for name, url in urls(mine.token, theirs).items():
        if name in ("home", "request"):
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"action": "decline", "decline-reason": "x"})
            assert response.status_code in (404, 405), (name, method, response.status_code)
        assert client.get(url).status_code == 404, name
    theirs.quote.refresh_from_db()
    assert theirs.quote.status == "sent"
    page = client.get(reverse("portal_public:home", args=[mine.token])).content.decode()
    assert "Maple Dental" in page and "Oak Bakery" not in page
    assert theirs.quote.reference not in page and theirs.invoice.reference not in page


def test_it_hides_another_organizations_records(client, mine, other_org, outsider,
                                                technician):
    from crewline.core.models import Role
    from crewline.factories import MemberFactory
    from crewline.portal.tests.conftest import make_records

    rival_tech = MemberFactory(organization=other_org, role=Role.TECHNICIAN)
    rival = make_records(other_org, outsider, rival_tech, name="Rival's customer",
                         email="x@rival.example")
    for name, url in urls(mine.token, rival).items():
        if name not in ("home", "request"):
            assert client.get(url).status_code == 404, name
    for name, url in urls(rival.token, mine).items():
        if name not in ("home", "request"):
            assert client.get(url).status_code == 404, name


def _dead_everywhere(client, token, records) -> None:
    for name, url in urls(token, records).items():
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (404, 405), (name, method, response.status_code)
        assert client.get(url).status_code == 404, name
        if name == "home":
            assert "This link does not work" in client.get(url).content.decode()


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
    lambda t: t[:-1],
    lambda t: t + "x",
    lambda t: t.upper(),
    lambda t: "x" * 200,
])
def test_it_refuses_a_tampered_link(client, mine, tamper):
    _dead_everywhere(client, tamper(mine.token), mine)


def test_it_refuses_an_expired_link(client, mine):
    PortalLink.objects.filter(pk=mine.link.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1))
    _dead_everywhere(client, mine.token, mine)


def test_a_link_expires_after_the_setting(client, mine, settings, owner):
    from crewline.portal.services import portal_link_issue

    settings.PORTAL_LINK_DAYS = 3
    link, token = portal_link_issue(customer=mine.customer, by=owner, sent_to="a@b.example")
    assert dt.timedelta(days=3) - dt.timedelta(seconds=5) < link.expires_at - timezone.now() \
        <= dt.timedelta(days=3)
    assert link.token_hash != token and token not in link.token_hash


def test_it_refuses_a_revoked_link(client, mine, owner):
    assert client.get(urls(mine.token, mine)["home"]).status_code == 200
    assert portal_links_revoke(customer=mine.customer, by=owner) == 1
    _dead_everywhere(client, mine.token, mine)


def test_it_refuses_the_link_of_an_archived_customer(client, mine):
    from crewline.customers.models import Customer

    Customer.objects.filter(pk=mine.customer.pk).update(archived_at=timezone.now())
    _dead_everywhere(client, mine.token, mine)


def test_it_shows_neither_drafts_nor_unfinished_jobs(client, mine, owner, technician):
    from crewline.billing import services as billing
    from crewline.documents.models import JobReport

    draft = billing.quote_create(organization=mine.customer.organization, by=owner,
                                 customer=mine.customer, title="Secret draft")
    open_wo = mine.visit.work_order
    report = JobReport.objects.create(organization=open_wo.organization, work_order=open_wo,
                                      version=1, size=1, sha256="0" * 64, file="x.pdf")
    assert client.get(reverse("portal_public:quote", args=[mine.token, draft.pk])
                      ).status_code == 404
    assert client.get(reverse("portal_public:report_pdf", args=[mine.token, report.pk])
                      ).status_code == 404
    assert "Secret draft" not in client.get(urls(mine.token, mine)["home"]).content.decode()
