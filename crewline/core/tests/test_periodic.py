"""Periodic tasks are queued once however many processes start at the same moment: every web
process and worker runs ``migrate``'s hook, and every run of a periodic task queues the next."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from crewline.messaging.tasks import ensure_sweep as ensure_message_sweep
from crewline.notifications.tasks import ensure_late_check
from crewline.plans.tasks import ensure_daily_run
from crewline.webhooks.tasks import ensure_sweep

ENSURES = {
    "crewline.webhooks.tasks.webhooks_sweep": ensure_sweep,
    "crewline.notifications.tasks.late_visits_check": ensure_late_check,
    "crewline.plans.tasks.plans_generate_all": ensure_daily_run,
    "crewline.messaging.tasks.messages_sweep": ensure_message_sweep,
}
CALLERS = 6


@pytest.fixture
def db_tasks(settings):
    # django-tasks rereads TASKS when the setting changes.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def slow_enqueue(monkeypatch):
    """Widen the window between "none is waiting" and the insert, as a busy machine would:
    without a lock, every caller finds none and queues its own."""
    from django_tasks_db.backend import DatabaseBackend

    enqueue = DatabaseBackend.enqueue

    def slow(self, *args, **kwargs):
        time.sleep(0.2)
        return enqueue(self, *args, **kwargs)

    monkeypatch.setattr(DatabaseBackend, "enqueue", slow)


def _at_once(ensure) -> list:
    """``ensure()`` from ``CALLERS`` threads, each with its own database connection, released
    together."""
    start = threading.Barrier(CALLERS)
    results: list = []
    errors: list = []

    def call():
        try:
            start.wait()
            results.append(ensure())
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(CALLERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", sorted(ENSURES))
def test_processes_starting_at_once_queue_one_run(path, db_tasks, slow_enqueue):
    from django_tasks_db.models import DBTaskResult

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers with its IMMEDIATE transactions; set "
                    "DATABASE_URL to a PostgreSQL server to run this")
    results = _at_once(ENSURES[path])
    assert sorted(results) == [False] * (CALLERS - 1) + [True]
    assert DBTaskResult.objects.filter(task_path=path, status="READY").count() == 1
    # And again: one is waiting, nobody queues another.
    assert _at_once(ENSURES[path]) == [False] * CALLERS
    assert DBTaskResult.objects.filter(task_path=path, status="READY").count() == 1


@pytest.mark.django_db
def test_one_caller_queues_one_run(db_tasks):
    from django_tasks_db.models import DBTaskResult

    for path, ensure in ENSURES.items():
        assert ensure() is True
        assert ensure() is False
        assert DBTaskResult.objects.filter(task_path=path, status="READY").count() == 1
