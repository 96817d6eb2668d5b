"""Delivery through real servers: email to an SMTP server (aiosmtpd) and texts to the local
Twilio, and two ``crewline db-worker`` processes sending each planned message once."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import email
import email.policy
import os
import time

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.test import override_settings
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from crewline.factories import CustomerFactory, SiteFactory, WorkOrderFactory
from crewline.messaging.models import Message, MessageStatus
from crewline.messaging.sending import send_due
from crewline.messaging.services import messaging_settings
from crewline.webhooks.tests.test_two_workers import Worker, free_port
from crewline.webhooks.tests.test_worker_killed import _database_url
from crewline.workorders.services.visits import visit_add

from .conftest import FROM, SID, TOKEN, local


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        await asyncio.sleep(0.02)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(("plain",)).get_content()
        subject = str(message["subject"]).strip()
        self.messages.extend((to, subject, body) for to in envelope.rcpt_tos)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


def test_it_emails_through_an_smtp_server(wo, office, technician, smtp, time_machine):
    time_machine.move_to(local(2026, 11, 23, 10, 0))
    wo.organization.email = "office@northside.test"
    wo.organization.save()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                           EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp.port, EMAIL_USE_TLS=False,
                           EMAIL_USE_SSL=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="",
                           EMAIL_TIMEOUT=5):
        visit_add(work_order=wo, by=office, start=local(2026, 11, 25, 9, 0),
                  end=local(2026, 11, 25, 11, 0), crew=[technician], override=True)
        assert send_due() == {"sent": 1}, Message.objects.values_list("error")
    [(to, subject, body)] = smtp.messages
    assert to == "frontdesk@maple.test"
    assert subject == ("[Northside Heating & Air] Your visit is booked: Wednesday 25 November, "
                       "09:00–11:00")
    assert "To change it, reply to this email." in body


def test_a_refusing_smtp_server_fails_the_message_on_the_timeline(wo, office, technician,
                                                                  time_machine):
    time_machine.move_to(local(2026, 11, 23, 10, 0))
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                           EMAIL_HOST="127.0.0.1", EMAIL_PORT=free_port(), EMAIL_TIMEOUT=2):
        visit_add(work_order=wo, by=office, start=local(2026, 11, 25, 9, 0),
                  end=local(2026, 11, 25, 11, 0), crew=[technician], override=True)
        assert send_due() == {"failed": 1}
    message = Message.objects.get(kind="confirmation")
    assert message.status == MessageStatus.FAILED and message.error
    assert wo.timeline.filter(data__event="message_failed").exists()


CUSTOMERS = 8


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_message_once(org, office, technician, twilio, smtp, settings):
    s = messaging_settings(org)
    s.channel = "both"
    s.quiet_start = s.quiet_end = None
    s.save()
    env = {**os.environ, "DATABASE_URL": _database_url(), "SECRET_KEY": settings.SECRET_KEY,
           "CREWLINE_TESTING": "0", "DJANGO_SETTINGS_MODULE": "crewline.settings",
           "DATABASE_POOL": "false", "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.port),
           "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": FROM,
           "TWILIO_API_BASE": twilio.base, "SITE_URL": "https://crew.example.com"}
    workers = [Worker("worker-a", env), Worker("worker-b", env)]
    try:
        for worker in workers:
            assert worker.started.wait(120), "".join(worker.output)
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(
            minute=0, second=0, microsecond=0)
        for i in range(CUSTOMERS):
            customer = CustomerFactory(organization=org, name=f"Customer {i:02}",
                                       email=f"c{i:02}@example.test",
                                       phone=f"(312) 555-01{i:02}")
            wo = WorkOrderFactory(customer=customer, number=3000 + i,
                                  site=SiteFactory(customer=customer))
            with transaction.atomic():
                visit_add(work_order=wo, by=office, start=start,
                          end=start + dt.timedelta(hours=1), crew=[technician],
                          override=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            waiting = Message.objects.filter(kind="confirmation",
                                             status=MessageStatus.QUEUED).count()
            busy = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count()
            if not waiting and not busy and len(smtp.messages) >= CUSTOMERS and len(
                    twilio.sent) >= CUSTOMERS:
                break
            time.sleep(0.2)
        time.sleep(1)  # anything sent twice would arrive by now
    finally:
        for worker in workers:
            worker.stop()
    logs = "".join(line for worker in workers for line in worker.output)
    texts = collections.Counter(sent["To"] for sent in twilio.sent)
    emails = collections.Counter(to for to, _, _ in smtp.messages)
    assert len(texts) == CUSTOMERS and set(texts.values()) == {1}, (texts, logs)
    assert len(emails) == CUSTOMERS and set(emails.values()) == {1}, (emails, logs)
    sent = Message.objects.filter(kind="confirmation")
    assert set(sent.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert sent.count() == 2 * CUSTOMERS
    ran = DBTaskResult.objects.filter(task_path__endswith="messages_send").exclude(
        status=TaskResultStatus.READY)
    assert set(ran.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}, logs
