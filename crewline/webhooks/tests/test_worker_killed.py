"""A worker killed in the middle of a request loses nothing: the delivery stays in the outbox,
held until its lease runs out, then goes out again with the same webhook-id."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from crewline.customers.services import customer_create
from crewline.webhooks.delivery import deliver_due
from crewline.webhooks.models import DeliveryState, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)

WORKER = ("import django; django.setup(); "
          "from crewline.webhooks.delivery import deliver_due; deliver_due()")


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_worker_killed_mid_delivery_loses_nothing(org, owner, endpoint, receiver,
                                                    time_machine):
    customer_create(organization=org, by=owner, name="Maple Dental")
    receiver.mode = "hang"
    env = {**os.environ, "DATABASE_URL": _database_url(), "SECRET_KEY": settings.SECRET_KEY,
           "WEBHOOKS_ALLOW_PRIVATE_URLS": "true", "WEBHOOKS_TIMEOUT_SECONDS": "20",
           "CREWLINE_TESTING": "0", "DJANGO_SETTINGS_MODULE": "crewline.settings"}
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=env)  # noqa: S603 - ours
    try:
        assert receiver.arrived.wait(60), "the worker never sent the request"
    finally:
        worker.kill()
        worker.wait(10)
    delivery = WebhookDelivery.objects.get()
    # Still in the outbox, held by the dead worker until its lease runs out.
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 0
    assert delivery.lease_until is not None
    assert deliver_due() == 0
    receiver.mode = "ok"
    receiver.release.set()
    time_machine.move_to(delivery.lease_until + dt.timedelta(seconds=1), tick=True)
    assert deliver_due() == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    # Sent twice (at least once), accepted once, by the same id.
    assert [r["id"] for r in receiver.requests] == [delivery.msg_id] * 2
    assert [a["id"] for a in receiver.accepted] == [delivery.msg_id]
