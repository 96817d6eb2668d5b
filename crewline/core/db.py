"""Database helpers shared by the apps: telling a transaction the database aborted to break a
deadlock (or a serialization conflict) from a real failure, and running work again after one.

Every write takes its row locks in one order (see ``crewline.core.audit.organization_write_lock``),
so PostgreSQL should have no deadlock to break; ``RetryAbortedMiddleware`` tries a request again
all the same when it does, before anything is answered, instead of answering 500.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from asgiref.sync import iscoroutinefunction
from django.db import OperationalError, transaction
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

T = TypeVar("T")

# PostgreSQL's SQLSTATEs for a transaction it rolled back to let others go on: the same work
# succeeds when tried again.
RETRYABLE_SQLSTATES = frozenset({
    "40P01",  # deadlock_detected
    "40001",  # serialization_failure
})
ATTEMPTS = 4


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is the database aborting a transaction that may simply be tried again."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def run_with_retry(work: Callable[[], T], *, attempts: int = ATTEMPTS,
                   before_retry: Callable[[], None] | None = None, using: str = "default") -> T:
    """``work()``, tried again (up to ``attempts`` times in all, after a short random pause)
    when the database aborts its transaction to break a deadlock.

    Only outside a transaction: inside one, the abort belongs to the caller's transaction, which
    must be rolled back whole, so the error is raised as it is. ``work`` must leave nothing
    behind but what its transactions commit (``before_retry`` rewinds what it read, such as
    uploaded files).
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            if (attempt == attempts or not is_retryable(exc)
                    or transaction.get_connection(using).in_atomic_block):
                raise
            logger.warning("Database aborted a transaction (%s); trying again (%d of %d).",
                           exc.__cause__.sqlstate, attempt + 1, attempts)
            time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 - not a secret
            if before_retry is not None:
                before_retry()
    raise AssertionError("unreachable")


class RetryAbortedMiddleware:
    """Runs the view again when the database aborted its transaction to break a deadlock, up
    to a few times, before answering (``run_with_retry``).

    Views write through services whose transactions roll back whole, and send emails and live
    events only once they commit, so a view that failed this way left nothing behind; uploaded
    files are rewound for the next try. Last in ``MIDDLEWARE``: the other middleware's checks
    (CSRF) have run once already. Async views (live streams) do not write and are left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if iscoroutinefunction(view_func):
            return None

        def rewind() -> None:
            for upload in request.FILES.values():
                upload.seek(0)

        return run_with_retry(lambda: view_func(request, *view_args, **view_kwargs),
                              before_retry=rewind)


# Set while a caller wraps each service call in a savepoint of its own and rolls back to it on
# any error, IntegrityError included (the technician app's push): services then skip the
# savepoint they would take, one query pair less per change, and leave the error to it.
_caller_savepoint: ContextVar[bool] = ContextVar("crewline_caller_savepoint", default=False)


@contextmanager
def caller_savepoint() -> Iterator[None]:
    """Run services inside the caller's own savepoint (see ``savepoint``)."""
    token = _caller_savepoint.set(True)
    try:
        yield
    finally:
        _caller_savepoint.reset(token)


def holds_savepoint() -> bool:
    """Whether the caller holds a savepoint for the services it calls (``caller_savepoint``)."""
    return _caller_savepoint.get()


def savepoint() -> transaction.Atomic:
    """``transaction.atomic()``: a savepoint, unless the caller holds one for this service."""
    return transaction.atomic(savepoint=not _caller_savepoint.get())
