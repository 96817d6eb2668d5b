import pytest

from crewline.core.audit import audit_record, audit_verify
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
