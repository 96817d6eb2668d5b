"""Periodic tasks without cron: each run queues the next one, and ``queue_once`` (after every
``migrate``, and from the tasks themselves) queues one if none is waiting.

Several processes start at once on a deployment (``crewline run --workers N``, more than one
``crewline db-worker``); each would look for a waiting run, find none, and queue its own. The
look and the queueing are therefore one transaction that holds a lock for the task: on
PostgreSQL a transaction-level advisory lock named after the task's path, on SQLite the write
lock that an ``IMMEDIATE`` transaction takes when it begins (``settings.DATABASES``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import DatabaseError, connections, router, transaction

logger = logging.getLogger(__name__)

# The first key of the advisory lock (two 32-bit keys): Crewline's periodic tasks, so that its
# second key, the task path's hash, cannot meet another application's lock.
LOCK_SPACE = 0x43524C01


def queue_once(task_obj, *, run_after: dt.datetime, what: str) -> bool:
    """Queue ``task_obj`` to run at ``run_after`` unless a run of it is already waiting; True
    if this call queued it. False, with a warning naming ``what``, if the task table cannot be
    read (not migrated yet) or the backend cannot defer (the tests' immediate backend)."""
    if not task_obj.get_backend().supports_defer:
        return False
    try:
        from django_tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        alias = router.db_for_write(DBTaskResult)
        with transaction.atomic(using=alias):
            connection = connections[alias]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                                   [LOCK_SPACE, task_obj.module_path])
            if DBTaskResult.objects.using(alias).filter(
                    task_path=task_obj.module_path, status=TaskResultStatus.READY).exists():
                return False
            task_obj.using(run_after=run_after).enqueue()
            return True
    except (ImportError, DatabaseError):
        logger.warning("Could not queue the %s", what, exc_info=True)
        return False
