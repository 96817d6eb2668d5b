from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from crewline.billing import services as billing
from crewline.documents.models import JobReport
from crewline.factories import SiteFactory, WorkOrderFactory
from crewline.portal.services import portal_link_issue
from crewline.workorders.models import Status
from crewline.workorders.services import visit_add, work_order_create

FAKE_PDF = b"%PDF-1.4\n% a job report\n"


@dataclass
class Records:
    """One customer's records of every kind the portal shows, and a live link to them."""

    customer: object
    site: object
    visit: object
    job: object
    report: object
    quote: object
    invoice: object
    token: str
    link: object


def make_records(org, owner, technician, *, name: str, email: str) -> Records:
    site = SiteFactory(customer__organization=org, customer__name=name, customer__email=email,
                       customer__phone="(312) 555-0142" if "maple" in email else "",
                       name="Main clinic", address_line1="12 Maple Ave")
    customer = site.customer
    wo = work_order_create(organization=org, by=owner, customer=customer, site=site,
                           title="Boiler service")
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    visit = visit_add(work_order=wo, by=owner, start=start, end=start + dt.timedelta(hours=2),
                      crew=[technician], override=True)
    job = WorkOrderFactory(organization=org, customer=customer, site=site,
                           status=Status.COMPLETED, title="Leak repair",
                           completed_at=timezone.now() - dt.timedelta(days=10))
    report = JobReport(organization=org, work_order=job, version=1, size=len(FAKE_PDF),
                       sha256="0" * 64)
    report.file.save(report.filename, ContentFile(FAKE_PDF), save=False)
    report.save()
    quote = billing.quote_create(organization=org, by=owner, customer=customer, site=site,
                                 title="Replace the rooftop unit")
    billing.quote_line_add(quote=quote, by=owner, description="Rooftop unit",
                           unit_price=Decimal("1234.50"), quantity=1)
    billing.quote_send(quote=quote, by=owner, to=email)
    invoice = billing.invoice_draft_from_work_order(work_order=job, by=owner)
    billing.invoice_line_add(invoice=invoice, by=owner, description="Seal",
                             unit_price=Decimal("40"), quantity=1)
    invoice = billing.invoice_issue(invoice=invoice, by=owner)
    link, token = portal_link_issue(customer=customer, by=owner, sent_to=email)
    quote.refresh_from_db()
    return Records(customer=customer, site=site, visit=visit, job=job, report=report,
                   quote=quote, invoice=invoice, token=token, link=link)


@pytest.fixture
def mine(org, owner, technician):
    return make_records(org, owner, technician, name="Maple Dental",
                        email="billing@maple.example")


@pytest.fixture
def theirs(org, owner, technician):
    """Another customer of the same organization."""
    return make_records(org, owner, technician, name="Oak Bakery", email="hello@oak.example")
