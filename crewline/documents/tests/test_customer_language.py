"""A job report is the customer's: in their language whoever makes it, and so is the email
that carries it; what the office's timeline says of it stays in the site's language."""

from __future__ import annotations

import pytest

from crewline.customers.services import customer_update
from crewline.documents.services import job_report_create, job_report_email
from crewline.documents.tests.test_reports import pdf_text
from crewline.workorders.models import EntryKind, TimelineEntry


@pytest.fixture
def spanish_job(completed_job, office):
    customer_update(customer=completed_job.customer, by=office, language="es")
    completed_job.customer.refresh_from_db()
    return completed_job


def test_the_job_report_is_in_the_customers_language(spanish_job, office, contact,
                                                    mailoutbox,
                                                    django_capture_on_commit_callbacks):
    office.language = "en"
    office.save(update_fields=["language"])
    report = job_report_create(work_order=spanish_job, by=office)
    text = pdf_text(report.file.read())
    for expected in (f"Informe de trabajo {spanish_job.reference}", "Versión 1",
                     "TRABAJO REALIZADO", "MANO DE OBRA", "Tiempo", "1 h 35 min",
                     "PIEZAS Y MATERIALES", "2,5", "Sí", "FIRMA DEL CLIENTE", "Página 1 de 2"):
        assert expected in text, expected
    assert "Job report" not in text and "Version 1" not in text
    with django_capture_on_commit_callbacks(execute=True):
        job_report_email(report=report, to=contact.email, by=office)
    message = mailoutbox[-1]
    assert message.subject.startswith(f"Informe de trabajo {spanish_job.reference} de ")
    assert "Le adjuntamos nuestro informe de trabajo" in message.body
    assert "Hola, Renée Ñúñez:" in message.body
    # The office's own record of it is in English.
    bodies = set(TimelineEntry.objects.filter(work_order=spanish_job, kind=EntryKind.SYSTEM)
                 .values_list("body", flat=True))
    assert "Job report v1 created" in bodies
    assert any(body.startswith("Report v1 emailed to") for body in bodies)


def test_an_english_customers_report_stays_english_for_a_spanish_member(completed_job,
                                                                        office):
    office.language = "es"
    office.save(update_fields=["language"])
    text = pdf_text(job_report_create(work_order=completed_job, by=office).file.read())
    assert f"Job report {completed_job.reference}" in text and "2.5" in text
