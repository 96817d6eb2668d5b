"""A push and an office change at once, on PostgreSQL: no deadlock.

A push is one transaction: after its first mutation it holds the organization's audit lock,
then it locks the next visit. An office change of that visit, started in between, used to lock
the visit first and then wait for the audit lock: each waited for the other, and PostgreSQL
aborted one. Both now take the organization's lock before any row, so the office change waits
for the push and then goes through.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from crewline.core.audit import audit_verify
from crewline.field import services
from crewline.workorders.models import Visit, VisitStatus
from crewline.workorders.services import visit_schedule

pytestmark = pytest.mark.django_db(transaction=True)


def mutation(seq: int, name: str, **args) -> dict:
    return {"seq": seq, "name": name, "args": args, "client_time": timezone.now().isoformat()}


def test_it_lets_an_office_change_wait_for_a_push_instead_of_deadlocking(
        monkeypatch, device, make_visit, technician, office):
    if connection.vendor != "postgresql":
        pytest.skip("Row locks need PostgreSQL: run with DATABASE_URL=postgres://...")
    first = make_visit(crew=[technician], hour=9)
    second = make_visit(crew=[technician], hour=13)
    between = threading.Event()
    original = services.push._apply_one
    applied = []

    def slow_apply(ctx, m):
        outcome = original(ctx, m)
        applied.append(m["seq"])
        if len(applied) == 1:
            between.set()
            time.sleep(1.5)  # the office change starts now and takes what locks it can
        return outcome

    monkeypatch.setattr(services.push, "_apply_one", slow_apply)
    errors: list[BaseException] = []
    finished: dict[str, float] = {}

    def push() -> None:
        try:
            result = services.push_apply(member=device.member, device_id=device.pk,
                                         session_key=None, mutations=[
                mutation(1, "visit_en_route", visit_id=first.pk),
                mutation(2, "visit_en_route", visit_id=second.pk)])
            assert [r["status"] for r in result.results] == ["applied", "applied"], result
            finished["push"] = time.monotonic()
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    def office_moves_second() -> None:
        try:
            between.wait(10)
            start = second.start + dt.timedelta(hours=2)
            visit_schedule(visit=Visit.objects.get(pk=second.pk), start=start,
                           end=start + dt.timedelta(hours=1), by=office, override=True)
            finished["office"] = time.monotonic()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=push), threading.Thread(target=office_moves_second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    # Both went through, neither deadlocked: the office's change waits only for rows the push
    # still holds (the push takes the organization's row for its change log at its end, so
    # the office's move of the second visit may as well commit first).
    assert set(finished) == {"office", "push"}
    moved_to = second.start + dt.timedelta(hours=2)
    second.refresh_from_db()
    assert second.status == VisitStatus.EN_ROUTE  # the technician's change
    assert second.start == moved_to  # and the office's
    report = audit_verify(organization=technician.organization)
    assert report.ok, report.problem
