from __future__ import annotations

import pytest
from django.urls import reverse

from crewline.core.models import AuditLog
from crewline.documents.models import JobReport
from crewline.documents.services import job_report_create
from crewline.factories import CustomerFactory, WorkOrderFactory


@pytest.fixture
def report(completed_job, office):
    return job_report_create(work_order=completed_job, by=office)


@pytest.fixture
def foreign_report(other_org, outsider):
    """A report of another organization's work order, for the outsider-is-404 checks."""
    wo = WorkOrderFactory(customer=CustomerFactory(organization=other_org))
    return job_report_create(work_order=wo, by=outsider)


def test_it_generates_a_new_version_on_request(office_client, completed_job, report, office):
    response = office_client.post(reverse("documents:report_generate",
                                          args=[completed_job.number]))
    assert response.status_code == 302
    assert response["Location"].endswith("#job-reports")
    latest = JobReport.objects.get(work_order=completed_job, version=2)
    assert latest.created_by == office
    assert JobReport.objects.filter(work_order=completed_job).count() == 2


def test_it_downloads_a_report_through_the_view(office_client, report):
    response = office_client.get(reverse("documents:report_download", args=[report.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    filename = f"{report.work_order.reference}-job-report-v1.pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    inline = office_client.get(reverse("documents:report_download", args=[report.pk]),
                               {"inline": "1"})
    assert inline["Content-Disposition"].startswith("inline;")


def test_it_keeps_a_downloaded_report_out_of_every_cache(office_client, report):
    for params in ({}, {"inline": "1"}):
        response = office_client.get(reverse("documents:report_download", args=[report.pk]),
                                     params)
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert cache_control == {"private", "no-store"}


def test_it_lists_versions_on_the_work_order_page(office_client, completed_job, report):
    detail = office_client.get(reverse("workorders:detail", args=[completed_job.number]))
    html = detail.content.decode()
    list_url = reverse("documents:report_list", args=[completed_job.number])
    assert f'hx-get="{list_url}"' in html
    assert reverse("documents:report_generate", args=[completed_job.number]) in html
    rows = office_client.get(list_url, headers={"HX-Request": "true"})
    rows_html = rows.content.decode()
    assert "Version 1" in rows_html and "<html" not in rows_html
    assert reverse("documents:report_download", args=[report.pk]) in rows_html
    assert reverse("documents:report_email", args=[report.pk]) in rows_html
    assert "/media/" not in rows_html + html
    page = office_client.get(list_url)
    assert "<html" in page.content.decode() and "Version 1" in page.content.decode()


def test_it_lists_versions_in_a_constant_number_of_queries(office_client, completed_job,
                                                           django_assert_max_num_queries):
    for _ in range(3):
        JobReport.objects.create(organization=completed_job.organization,
                                 work_order=completed_job,
                                 version=JobReport.objects.count() + 1, file="x.pdf", size=1,
                                 sha256="0" * 64)
    with django_assert_max_num_queries(7):
        response = office_client.get(reverse("documents:report_list",
                                             args=[completed_job.number]),
                                     headers={"HX-Request": "true"})
    assert response.content.decode().count("Version ") == 3


def test_it_offers_the_customers_addresses_and_emails_the_report(
        office_client, report, contact, mailoutbox, django_capture_on_commit_callbacks):
    url = reverse("documents:report_email", args=[report.pk])
    page = office_client.get(url).content.decode()
    assert "renee@example.com" in page and "jose@example.com" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = office_client.post(url, {"recipient": "renee@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["renee@example.com"]
    assert mailoutbox[0].attachments[0][0] == report.filename


def test_it_refuses_an_address_that_is_not_the_customers(office_client, report, mailoutbox):
    response = office_client.post(reverse("documents:report_email", args=[report.pk]),
                                  {"recipient": "someone@elsewhere.example"})
    assert response.status_code == 400
    assert "Choose one of the customer" in response.content.decode()
    assert mailoutbox == []
    assert not AuditLog.objects.filter(action="job_report.email_queued").exists()


def test_it_says_when_the_customer_has_no_address(office_client, report):
    customer = report.work_order.customer
    customer.email = ""
    customer.save()
    response = office_client.get(reverse("documents:report_email", args=[report.pk]))
    assert "have an email address" in response.content.decode()


def _urls(report) -> list[tuple[str, str]]:
    number = report.work_order.number
    return [
        ("get", reverse("documents:report_list", args=[number])),
        ("post", reverse("documents:report_generate", args=[number])),
        ("get", reverse("documents:report_download", args=[report.pk])),
        ("get", reverse("documents:report_email", args=[report.pk])),
        ("post", reverse("documents:report_email", args=[report.pk])),
    ]


def test_it_forbids_technicians(tech_client, report):
    for method, url in _urls(report):
        response = getattr(tech_client, method)(url, {"recipient": "jose@example.com"}
                                                if method == "post" else None)
        assert response.status_code == 403, url
    assert JobReport.objects.count() == 1


def test_it_hides_another_organizations_reports(outsider_client, report, foreign_report):
    for method, url in _urls(report):
        response = getattr(outsider_client, method)(url)
        assert response.status_code == 404, url
    # The outsider's own report works for them: the 404s are about the organization.
    own = outsider_client.get(reverse("documents:report_download", args=[foreign_report.pk]))
    assert own.status_code == 200


def test_it_asks_anonymous_visitors_to_log_in(client, report):
    response = client.get(reverse("documents:report_download", args=[report.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
