"""Phones and the office writing at once, on PostgreSQL: no deadlock, no error.

Photo uploads, pushes from two phones of one technician (notes, parts, status changes, clock
and breaks) and the office changing the crews of the same visits and resolving rejected
changes, each in a thread of its own with its own connection. Every transaction takes its
locks in one order (the phone's device row, the organization, then the rows it changes), and
the organization's lock is ``FOR NO KEY UPDATE``, which the ``FOR KEY SHARE`` of foreign-key
checks at commit does not wait for; so nothing deadlocks, and a transaction that the database
aborts all the same is tried again before the answer (``RetryAbortedMiddleware``).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from crewline.core.audit import audit_verify
from crewline.core.models import Role
from crewline.factories import MemberFactory
from crewline.field import services
from crewline.field.models import Device, RejectedMutation
from crewline.field.tests.conftest import jpeg_bytes, sha
from crewline.workorders.models import EntryKind, TimelineEntry, Visit
from crewline.workorders.services import visit_schedule

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 12


def _client(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_it_lets_uploads_pushes_and_crew_changes_run_at_once_without_an_error(
        make_visit, technician, office, org):
    if connection.vendor != "postgresql":
        pytest.skip("Row locks need PostgreSQL: run with DATABASE_URL=postgres://...")
    mate = MemberFactory(organization=org, role=Role.TECHNICIAN, user__full_name="Milo Mate")
    visits = [make_visit(crew=[technician], hour=8 + 2 * n) for n in range(3)]
    devices = [Device.objects.create(id=uuid.uuid4(), organization=org, member=technician,
                                     name=f"phone {n}") for n in range(2)]
    start = threading.Barrier(4, timeout=30)
    errors: list[str] = []
    notes: list[str] = []
    counts = {"pushes": 0, "uploads": 0, "crew": 0}

    def attempt(what: str, call) -> None:
        """One request or office change; an error is counted and the thread goes on."""
        try:
            response = call()
        except Exception as exc:
            errors.append(f"{what}: {exc!r}")
            return
        if response is not None and response.status_code not in (200, 201):
            errors.append(f"{what}: {response.status_code} {response.content[:200]!r}")

    def run(what: str, work) -> None:
        try:
            start.wait()
            work()
        except BaseException as exc:  # reported by the test's thread
            errors.append(f"{what}: {exc!r}")
        finally:
            connections.close_all()

    def phone(n: int) -> None:
        client = _client(technician)
        seq = 0
        now = timezone.now()

        def m(kind: str, /, **args) -> dict:
            nonlocal seq
            seq += 1
            return {"seq": seq, "name": kind, "client_time": now.isoformat(),
                    "args": {"client_id": str(uuid.uuid4()), **args}}

        for r in range(ROUNDS):
            visit = visits[(r + n) % len(visits)]
            clock_in = m("clock_in")
            note = m("note_add", visit_id=visit.pk, body=f"phone {n} round {r}")
            notes.append(note["args"]["client_id"])
            batch = [
                clock_in, note,
                m("part_add", visit_id=visit.pk, name="Filter", quantity=1, unit="each"),
                m(("visit_en_route", "visit_arrive", "visit_pause", "visit_resume")[r % 4],
                  visit_id=visit.pk),
                m("break_start"), m("break_end"), m("clock_out"),
            ]
            attempt(f"push {n}.{r}", lambda batch=batch: client.post(
                "/field/api/push", {"device_id": str(devices[n].pk), "mutations": batch},
                content_type="application/json"))
            counts["pushes"] += 1

    def uploads() -> None:
        client = _client(technician)
        for r in range(ROUNDS * 2):
            photo = jpeg_bytes((16, 16), (r * 9 % 255, 40, 90))
            attempt(f"upload {r}", lambda photo=photo: client.post("/field/api/uploads", {
                "client_id": str(uuid.uuid4()), "sha256": sha(photo),
                "file": SimpleUploadedFile("p.jpg", photo, content_type="image/jpeg")}))
            counts["uploads"] += 1

    def office_changes() -> None:
        for r in range(ROUNDS * 2):
            visit = Visit.objects.get(pk=visits[r % len(visits)].pk)
            crew = [technician, mate] if r % 2 == 0 else [technician]
            attempt(f"crew {r}", lambda visit=visit, crew=crew: visit_schedule(
                visit=visit, start=visit.start, end=visit.end, crew=crew, by=office,
                override=True) and None)
            counts["crew"] += 1
            rejected = (RejectedMutation.objects.filter(organization=org,
                                                        resolved_at__isnull=True)
                        .order_by("id").first())
            if rejected is not None:
                attempt(f"resolve {r}", lambda rejected=rejected: services.rejected_resolve(
                    rejected=rejected, by=office) and None)

    threads = [threading.Thread(target=run, args=(f"phone {n}", lambda n=n: phone(n)))
               for n in range(2)]
    threads.append(threading.Thread(target=run, args=("uploads", uploads)))
    threads.append(threading.Thread(target=run, args=("office", office_changes)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert errors == [], f"{len(errors)} errors: {errors}"
    assert counts == {"pushes": 2 * ROUNDS, "uploads": 2 * ROUNDS, "crew": 2 * ROUNDS}
    # Every note is there exactly once, and the audit chain held.
    assert (TimelineEntry.objects.filter(kind=EntryKind.NOTE, client_id__in=notes).count()
            == len(notes))
    for device in devices:
        device.refresh_from_db()
        assert device.last_seq == 7 * ROUNDS
    report = audit_verify(organization=org)
    assert report.ok, report.problem
    assert dt.timedelta(0) <= timezone.now() - devices[0].last_seen_at < dt.timedelta(minutes=5)
