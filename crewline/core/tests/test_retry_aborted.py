"""A request whose transaction PostgreSQL aborts to break a deadlock is tried again before
anything is answered (``RetryAbortedMiddleware``, ``crewline.core.db.run_with_retry``).

The deadlocks here are real: two threads lock two organization rows in opposite orders, so
PostgreSQL must abort one of them.
"""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from crewline.core.db import RetryAbortedMiddleware, run_with_retry
from crewline.core.models import Organization
from crewline.factories import OrganizationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("Deadlocks need PostgreSQL: run with DATABASE_URL=postgres://...")


def _lock(pk: int) -> None:
    Organization.objects.select_for_update(no_key=True).filter(pk=pk).values("pk").get()


def _crossing_views(first: int, second: int):
    """Two views that lock the same two rows in opposite orders, meeting in the middle the
    first time; each counts its tries."""
    meet = threading.Barrier(2, timeout=10)
    tries = {"a": 0, "b": 0}

    def view(name: str, one: int, two: int):
        def run(request):
            tries[name] += 1
            with transaction.atomic():
                _lock(one)
                if tries[name] == 1:
                    meet.wait()
                _lock(two)
            return HttpResponse(name)
        return run

    return tries, view("a", first, second), view("b", second, first)


def _in_threads(*calls):
    results, errors = [], []

    def go(call):
        try:
            results.append(call())
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results, errors


def test_it_answers_both_requests_of_a_deadlock_by_trying_the_aborted_one_again():
    _needs_postgres()
    one, two = OrganizationFactory(), OrganizationFactory()
    tries, view_a, view_b = _crossing_views(one.pk, two.pk)
    middleware = RetryAbortedMiddleware(lambda request: HttpResponse("not called"))
    factory = RequestFactory()
    results, errors = _in_threads(
        lambda: middleware.process_view(factory.post("/a"), view_a, (), {}),
        lambda: middleware.process_view(factory.post("/b"), view_b, (), {}))
    assert errors == []
    assert sorted(r.content for r in results) == [b"a", b"b"]
    # PostgreSQL aborted one of them once; it went through on its second try.
    assert sorted(tries.values()) == [1, 2]


def test_it_lets_a_deadlock_fail_without_retry_inside_an_outer_transaction():
    _needs_postgres()
    one, two = OrganizationFactory(), OrganizationFactory()
    tries, view_a, view_b = _crossing_views(one.pk, two.pk)

    def inside(view):
        with transaction.atomic():
            return run_with_retry(lambda: view(None))

    results, errors = _in_threads(lambda: inside(view_a), lambda: inside(view_b))
    # The outer transaction is the one aborted: trying only its inner part again would be
    # wrong, so the error is raised.
    assert len(errors) == 1 and isinstance(errors[0], OperationalError), errors
    assert len(results) == 1
    assert sorted(tries.values()) == [1, 1]


def test_it_raises_other_errors_at_once():
    calls = []

    def fails():
        calls.append(1)
        raise IntegrityError("duplicate key")

    with pytest.raises(IntegrityError):
        run_with_retry(fails)
    assert calls == [1]

    def locked():
        calls.append(2)
        raise OperationalError("database is locked")

    with pytest.raises(OperationalError):
        run_with_retry(locked)
    assert calls == [1, 2]
