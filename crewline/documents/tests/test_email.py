"""Emailing job reports through a real SMTP server (aiosmtpd) started by the tests."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import socket

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings
from django.utils import timezone
from pypdf import PdfReader

from crewline.core.models import AuditLog
from crewline.documents.services import job_report_create, job_report_email
from crewline.documents.tasks import MAX_EMAIL_ATTEMPTS, email_job_report, retry_delay
from crewline.workorders.models import EntryKind, TimelineEntry


class Recorder:
    """An SMTP handler that keeps what it accepts, or answers every recipient with ``refuse``."""

    def __init__(self, refuse: str | None = None) -> None:
        self.refuse = refuse
        self.attempts = 0
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts += 1
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    """Start an SMTP server on a free local port; ``smtp(refuse=...)`` for a refusing one."""
    controllers = []

    def start(refuse: str | None = None) -> Recorder:
        handler = Recorder(refuse)
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        controllers.append(controller)
        handler.port = controller.port
        return handler

    yield start
    for controller in controllers:
        controller.stop()


def smtp_settings(port: int):
    return override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                             EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_USE_TLS=False,
                             EMAIL_USE_SSL=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="",
                             EMAIL_TIMEOUT=5,
                             DEFAULT_FROM_EMAIL="Crewline <no-reply@crewline.example>")


@pytest.fixture
def report(completed_job, office):
    return job_report_create(work_order=completed_job, by=office)


def test_it_emails_the_report_as_a_pdf_attachment(smtp, report, office, contact,
                                                  django_capture_on_commit_callbacks):
    server = smtp()
    wo = report.work_order
    with smtp_settings(server.port), django_capture_on_commit_callbacks(execute=True):
        job_report_email(report=report, to="renee@example.com", by=office)

    assert len(server.messages) == 1
    recipients, raw = server.messages[0]
    assert recipients == ["renee@example.com"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == "renee@example.com"
    assert message["Subject"] == f"Job report {wo.reference} from Northside Heating & Air"
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Northside Heating & Air",
                                                       "no-reply@crewline.example")
    assert message["Reply-To"] == "hello@northside.example"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Renée Ñúñez," in body
    assert f'{wo.reference} "No heat in the waiting room"' in body
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    pdf = attachments[0]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == f"{wo.reference}-job-report-v1.pdf"
    text = "\n".join(page.extract_text()
                     for page in PdfReader(io.BytesIO(pdf.get_content())).pages)
    assert "José Müller-Peña Straße" in text
    assert f"Job report {wo.reference}" in text

    entry = TimelineEntry.objects.get(work_order=wo, data__event="report_emailed")
    assert entry.kind == EntryKind.SYSTEM
    assert entry.body == "Report v1 emailed to renee@example.com"
    log = AuditLog.objects.get(action="job_report.emailed")
    assert log.actor == office
    assert log.changes["to"] == [None, "renee@example.com"]
    assert AuditLog.objects.filter(action="job_report.email_queued").count() == 1


def test_it_retries_a_temporary_refusal_then_records_the_failure(
        smtp, report, office, django_capture_on_commit_callbacks):
    server = smtp(refuse="451 4.3.0 Mailbox busy, try again later")
    with smtp_settings(server.port), django_capture_on_commit_callbacks(execute=True):
        job_report_email(report=report, to="jose@example.com", by=office)
    # The tests' task backend runs each retry at once; a worker waits retry_delay between them.
    assert server.attempts == MAX_EMAIL_ATTEMPTS
    assert server.messages == []
    entry = TimelineEntry.objects.get(work_order=report.work_order,
                                      data__event="report_email_failed")
    assert entry.body.startswith("Report v1 could not be emailed to jose@example.com: 451")
    assert entry.data["attempts"] == MAX_EMAIL_ATTEMPTS
    log = AuditLog.objects.get(action="job_report.email_failed")
    assert log.changes["attempts"] == [None, MAX_EMAIL_ATTEMPTS]
    assert "Mailbox busy" in log.changes["error"][1]
    assert not TimelineEntry.objects.filter(data__event="report_emailed").exists()


def test_it_does_not_retry_a_definite_refusal(smtp, report, office,
                                              django_capture_on_commit_callbacks):
    server = smtp(refuse="550 5.1.1 No such user here")
    with smtp_settings(server.port), django_capture_on_commit_callbacks(execute=True):
        job_report_email(report=report, to="jose@example.com", by=office)
    assert server.attempts == 1
    entry = TimelineEntry.objects.get(data__event="report_email_failed")
    assert "550" in entry.body and entry.data["attempts"] == 1


def test_it_retries_later_with_a_growing_delay_when_the_server_is_down(report, office,
                                                                      settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    backend = email_job_report.get_backend()
    backend.clear()
    before = timezone.now()
    with smtp_settings(free_port()):  # nothing listens there
        outcome = email_job_report.call(report.pk, "jose@example.com", office.pk, 2)
    assert outcome == "attempt 2 failed; retrying"
    [queued] = backend.results
    assert queued.args == [report.pk, "jose@example.com", office.pk, 3]
    assert queued.task.run_after >= before + dt.timedelta(minutes=2)
    assert [retry_delay(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert not TimelineEntry.objects.filter(data__event__startswith="report_email").exists()


def test_it_sends_only_to_the_customers_addresses(report, office):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        job_report_email(report=report, to="attacker@example.net", by=office)
    assert "recipient" in caught.value.message_dict
    assert not AuditLog.objects.filter(action="job_report.email_queued").exists()
