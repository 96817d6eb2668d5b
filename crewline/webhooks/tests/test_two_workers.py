"""Two ``crewline db-worker`` processes at once take each queued task once: emails to a real
SMTP server (aiosmtpd) and webhooks to a real receiver, queued while both workers poll the same
task table, each arrive once; every task ran in exactly one worker, and both workers took some."""

from __future__ import annotations

import asyncio
import collections
import email
import email.policy
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from crewline.customers.services import customer_create
from crewline.notifications.models import OFFICE_KINDS
from crewline.notifications.services import notify_office
from crewline.webhooks.models import DeliveryState, WebhookDelivery
from crewline.webhooks.tests.test_worker_killed import _database_url

pytestmark = pytest.mark.django_db(transaction=True)

EMAILS = 15  # notifications, each to the owner and the office member
CUSTOMERS = 15  # each a customer.created webhook


class Inbox:
    """Keeps every message; a little slow per message, so that both workers are busy at once."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        await asyncio.sleep(0.05)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.extend((to, str(message["subject"])) for to in envelope.rcpt_tos)
        return "250 Message accepted for delivery"


class Worker:
    """``crewline db-worker`` in a process of its own, as a deployment runs it."""

    def __init__(self, worker_id: str, env: dict) -> None:
        self.worker_id = worker_id
        self.output: list[str] = []
        self.started = threading.Event()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "crewline.cli", "db-worker", "--worker-id", worker_id,
             "--interval", "0.1", "--no-startup-delay", "--no-reload"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            if "Starting worker" in line:
                self.started.set()

    def stop(self) -> None:
        self.process.terminate()  # finishes the task in hand, then exits
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_workers_take_each_task_once(org, owner, office, endpoint, receiver,
                                         settings):
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {**os.environ, "DATABASE_URL": _database_url(), "SECRET_KEY": settings.SECRET_KEY,
           "CREWLINE_TESTING": "0", "DJANGO_SETTINGS_MODULE": "crewline.settings",
           "DATABASE_POOL": "false", "EMAIL_HOST": "127.0.0.1",
           "EMAIL_PORT": str(smtp.port),
           "WEBHOOKS_ALLOW_PRIVATE_URLS": "true", "WEBHOOKS_TIMEOUT_SECONDS": "20"}
    workers = [Worker("worker-a", env), Worker("worker-b", env)]
    try:
        for worker in workers:
            assert worker.started.wait(120), "".join(worker.output)
        # Queued as a deployment queues them: by the services, when their transaction commits,
        # into the task table both workers are polling.
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        for i in range(CUSTOMERS):
            customer_create(organization=org, by=owner, name=f"Customer {i:02}")
        for i in range(EMAILS):
            with transaction.atomic():
                notify_office(organization_id=org.pk, kind=OFFICE_KINDS[0],
                              title=f"Notice {i:02}", body="Please look.")
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            busy = (DBTaskResult.objects.ready().count()
                    + DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count())
            if not busy and len(inbox.messages) >= 2 * EMAILS and WebhookDelivery.objects \
                    .filter(state=DeliveryState.DELIVERED).count() >= CUSTOMERS:
                break
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.stop()
        smtp.stop()
    logs = "".join(line for worker in workers for line in worker.output)

    # Every email once: to each recipient, each subject.
    sent = collections.Counter(inbox.messages)
    assert len(sent) == 2 * EMAILS, logs
    assert set(sent.values()) == {1}, [m for m, n in sent.items() if n > 1]
    assert {to for to, _ in sent} == {owner.user.email, office.user.email}
    # Every webhook once: each delivery sent in one request, accepted once.
    deliveries = list(WebhookDelivery.objects.values_list("msg_id", "state", "attempts"))
    assert len(deliveries) == CUSTOMERS
    assert {(state, attempts) for _, state, attempts in deliveries} == {
        (DeliveryState.DELIVERED, 1)}
    assert sorted(r["id"] for r in receiver.requests) == sorted(m for m, _, _ in deliveries)
    assert sorted(a["id"] for a in receiver.accepted) == sorted(m for m, _, _ in deliveries)

    # Each task that was due ran in exactly one worker, and both workers took tasks; what is
    # left waiting is the periodic sweep, due later.
    assert not DBTaskResult.objects.ready().exists()
    ran = DBTaskResult.objects.exclude(status=TaskResultStatus.READY)
    emails = ran.filter(task_path__endswith="send_notification_email")
    assert emails.count() == 2 * EMAILS
    assert ran.filter(task_path__endswith="webhooks_deliver").exists()
    by_worker = collections.Counter()
    for status, worker_ids in ran.values_list("status", "worker_ids"):
        assert status == TaskResultStatus.SUCCESSFUL, logs
        assert len(worker_ids) == 1, worker_ids
        by_worker[worker_ids[0]] += 1
    assert set(by_worker) == {"worker-a", "worker-b"}, by_worker
