import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crewline.core.audit import audit_record, audit_verify, audits_batched, entry_hash
from crewline.core.models import AuditLog


@pytest.mark.django_db
def test_it_chains_entries_and_verifies(org, owner):
    for i in range(3):
        audit_record(organization=org, actor=owner, action="test", object_type="x",
                     object_id=i, changes={"n": [i, i + 1]})
    report = audit_verify(organization=org)
    assert report.ok and report.checked == 3
    entries = list(AuditLog.objects.filter(organization=org).order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[1].prev_hash == entries[0].hash


@pytest.mark.django_db
def test_it_names_the_first_tampered_entry(org, owner):
    for i in range(4):
        audit_record(organization=org, actor=owner, action="test", object_id=i)
    AuditLog.objects.filter(organization=org, seq=2).update(action="forged")
    report = audit_verify(organization=org)
    assert not report.ok
    assert report.first_broken.seq == 2
    assert "content" in report.problem


@pytest.mark.django_db
def test_it_detects_a_deleted_entry(org, owner):
    for i in range(4):
        audit_record(organization=org, actor=owner, action="test", object_id=i)
    AuditLog.objects.filter(organization=org, seq=3).delete()
    report = audit_verify(organization=org)
    assert report.first_broken.seq == 4
    assert "missing" in report.problem


@pytest.mark.django_db
def test_chains_are_per_organization(org, other_org, owner, outsider):
    audit_record(organization=org, actor=owner, action="a")
    audit_record(organization=other_org, actor=outsider, action="b")
    assert AuditLog.objects.get(organization=other_org).seq == 1
    assert audit_verify(organization=org).ok and audit_verify(organization=other_org).ok


def _record(org, actor, action: str) -> AuditLog:
    return audit_record(organization=org, actor=actor, action=action, object_type="x")


def _actions(org) -> list[str]:
    return list(AuditLog.objects.filter(organization=org).order_by("seq")
                .values_list("action", flat=True))


@pytest.mark.django_db
def test_it_locks_and_reads_the_head_once_per_transaction(org, owner,
                                                          django_assert_num_queries):
    # SQLite has one writer at a time and no row locks.
    lock = 1 if connection.features.has_select_for_update else 0
    with transaction.atomic():
        with django_assert_num_queries(lock + 2):  # lock, head, insert
            _record(org, owner, "first")
        with django_assert_num_queries(5):  # one insert each
            for i in range(5):
                _record(org, owner, f"next {i}")
    report = audit_verify(organization=org)
    assert report.ok and report.checked == 6


@pytest.mark.django_db
def test_it_chains_past_entries_of_a_savepoint_that_rolled_back(org, other_org, owner,
                                                                outsider):
    with transaction.atomic():
        _record(org, owner, "kept 1")
        _record(other_org, outsider, "other 1")
        with pytest.raises(RuntimeError), transaction.atomic():
            _record(org, owner, "gone 1")
            with transaction.atomic():  # released into the one that rolls back
                _record(org, owner, "gone 2")
            raise RuntimeError
        _record(org, owner, "kept 2")
        with pytest.raises(IntegrityError), transaction.atomic():
            _record(org, owner, "gone 3")
            AuditLog.objects.create(organization=org, seq=1, created_at=timezone.now())
        with transaction.atomic():
            _record(org, owner, "kept 3")
        _record(other_org, outsider, "other 2")
        _record(org, owner, "kept 4")
    assert _actions(org) == ["kept 1", "kept 2", "kept 3", "kept 4"]
    assert _actions(other_org) == ["other 1", "other 2"]
    assert audit_verify(organization=org).ok and audit_verify(organization=other_org).ok


@pytest.mark.django_db
def test_a_batch_inserts_its_entries_at_its_end_without_those_rolled_back(
        org, other_org, owner, outsider):
    with transaction.atomic():
        _record(org, owner, "before")
        with CaptureQueriesContext(connection) as queries, audits_batched():
            _record(org, owner, "kept 1")
            _record(other_org, outsider, "other 1")
            with pytest.raises(RuntimeError), transaction.atomic():
                _record(org, owner, "gone 1")
                raise RuntimeError
            with transaction.atomic():
                _record(org, owner, "kept 2")
            _record(org, owner, "kept 3")
            assert not AuditLog.objects.filter(action__startswith="kept").exists()
        _record(org, owner, "after")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert _actions(org) == ["before", "kept 1", "kept 2", "kept 3", "after"]
    assert _actions(other_org) == ["other 1"]
    assert audit_verify(organization=org).ok and audit_verify(organization=other_org).ok


@pytest.mark.django_db
def test_a_batch_left_by_an_error_writes_nothing(org, owner):
    with pytest.raises(RuntimeError), transaction.atomic(), audits_batched():
        _record(org, owner, "gone")
        raise RuntimeError
    assert _actions(org) == []


@pytest.mark.django_db
def test_it_reads_the_head_again_when_everything_it_wrote_rolled_back(
        org, owner, django_assert_num_queries):
    with transaction.atomic():
        _record(org, owner, "kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            _record(org, owner, "gone")
            raise RuntimeError
        with django_assert_num_queries(1):  # the remembered head before the savepoint
            _record(org, owner, "kept 2")
        with pytest.raises(RuntimeError), transaction.atomic():
            for _ in range(70):  # more than are remembered
                _record(org, owner, "gone")
            raise RuntimeError
        # Savepoint, head, insert, release: the lock is still held from the first entry.
        with django_assert_num_queries(4), transaction.atomic():
            _record(org, owner, "kept 3")
    assert _actions(org) == ["kept", "kept 2", "kept 3"]
    assert audit_verify(organization=org).ok


@pytest.mark.django_db(transaction=True)
def test_it_forgets_the_head_when_the_transaction_ends(org, owner):
    with transaction.atomic():
        _record(org, owner, "first")
    # Another process appends after the commit.
    last = AuditLog.objects.get(organization=org, seq=1)
    other = AuditLog(organization=org, seq=2, created_at=timezone.now(), actor_label="system",
                     action="elsewhere", object_type="x", changes={}, prev_hash=last.hash)
    other.hash = entry_hash(other)
    other.save(force_insert=True)
    with transaction.atomic():
        _record(org, owner, "second")
    with pytest.raises(RuntimeError), transaction.atomic():
        _record(org, owner, "rolled back")
        raise RuntimeError
    _record(org, owner, "third")  # autocommit
    assert _actions(org) == ["first", "elsewhere", "second", "third"]
    assert audit_verify(organization=org).ok
