"""The audit log: recording changes with who, when and from where, and verifying the chain.

Request details (IP address, user agent) are taken from a context variable set by
``MemberMiddleware``, so services record them without every call passing them along.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from crewline.core.models import AuditLog, Member, Organization

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class RequestInfo:
    ip: str | None
    user_agent: str


_request_info: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar(
    "crewline_request_info", default=None
)
# Inside ``audits_batched``: the block's entries, each with its head's on-commit marker, to be
# inserted together at the block's end.
_batch: contextvars.ContextVar[list[tuple[_Head, AuditLog]] | None] = contextvars.ContextVar(
    "crewline_audit_batch", default=None
)


def set_request_info(info: RequestInfo | None) -> contextvars.Token:
    return _request_info.set(info)


def reset_request_info(token: contextvars.Token) -> None:
    _request_info.reset(token)


def to_json_value(value: Any) -> Any:
    """A value as it will read back from a JSON column (dates and decimals become strings)."""
    if isinstance(value, models.Model):
        return value.pk
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The JSON-safe values of ``fields``; foreign keys by id, many-to-many as sorted id lists."""
    values: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            values[name] = (sorted(getattr(instance, name).values_list("pk", flat=True))
                            if instance.pk else [])
        elif field.is_relation:
            values[name] = getattr(instance, field.attname)
        else:
            values[name] = to_json_value(getattr(instance, name))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the fields whose value changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def entry_hash(entry: AuditLog) -> str:
    payload = json.dumps(list(entry.content_fields()), sort_keys=True, separators=(",", ":"),
                         cls=DjangoJSONEncoder, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class _Head:
    """The chain's head as written by this transaction: an entry's seq and hash, and the
    on-commit marker registered with it (see ``_known_head``)."""

    __slots__ = ("seq", "hash")

    def __init__(self, seq: int, hash: str) -> None:
        self.seq, self.hash = seq, hash

    def __call__(self) -> None:  # run on commit: nothing to do, its presence is the signal
        pass


# Per connection and organization, the heads written by the open transaction, oldest first.
_heads: weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict[int, list[_Head]]] = (
    weakref.WeakKeyDictionary())
# An open transaction holds few entries' worth of memory; older heads are only a fallback.
_MAX_HEADS = 64


def _known_head(connection: BaseDatabaseWrapper, organization_id: int) -> _Head | None:
    """The chain's head written earlier in the open transaction, or None when unknown.

    Each entry registers its ``_Head`` with ``transaction.on_commit``. Django drops on-commit
    callbacks registered inside a savepoint that rolls back, and all of them when the
    transaction commits or rolls back; so a head whose callback is still pending is an entry
    that exists, in a transaction that still holds the organization's row lock taken before it
    (a lock taken in a savepoint that rolled back would have taken that entry with it). Entries
    rolled back are always the latest ones, so the stack is cut after the latest pending head.

    Savepoints must come from ``transaction.atomic`` (as everywhere in Crewline): a bare
    ``transaction.savepoint()`` is not tracked by on-commit callbacks, here as in Django.
    """
    stack = _heads.get(connection, {}).get(organization_id)
    if not stack or not connection.in_atomic_block:
        return None
    # The latest pending head is the last of the stack's markers in the on-commit list (both
    # are in the order of writing); usually the list's last entry.
    index = {id(head): i for i, head in enumerate(stack)}
    for _sids, func, _robust in reversed(connection.run_on_commit):
        i = index.get(id(func))
        if i is not None:
            del stack[i + 1:]
            return stack[i]
    stack.clear()
    return None


class _OrgLocked:
    """On-commit marker: this transaction holds the organization's row lock (see
    ``organization_write_lock``). Dropped by Django with the savepoint that took it, whose
    rollback also releases the lock."""

    __slots__ = ("organization_id",)

    def __init__(self, organization_id: int) -> None:
        self.organization_id = organization_id

    def __call__(self) -> None:
        pass


def _holds_org_lock(connection: BaseDatabaseWrapper, organization_id: int) -> bool:
    return connection.in_atomic_block and any(
        isinstance(func, _OrgLocked) and func.organization_id == organization_id
        for _sids, func, _robust in connection.run_on_commit)


def organization_write_lock(organization_id: int) -> None:
    """Take the organization's row lock (the audit chain's) before the rows a change locks.

    Every audited change holds this lock from its first audit entry until it commits. A
    transaction that locks a row after that (a push of a phone's changes locks visit after
    visit) would deadlock with one that locked such a row first and is now waiting to audit.
    Every service that locks rows for a change calls this first, so all transactions lock in one
    order: the phone's device row, the organization, then the rows. Call inside the change's
    transaction; taken once per transaction. A no-op on SQLite, which lets one writer at a time.

    The lock is ``FOR NO KEY UPDATE`` (and so are the other row locks of a change: members,
    visits, work orders, time entries, devices): nothing here changes a key, and the ``FOR KEY
    SHARE`` that PostgreSQL takes on a referenced row to check a foreign key at commit must not
    wait for it. With ``FOR UPDATE``, a transaction inserting a row that points at the
    organization (an upload, a timeline entry) waited at commit for a push holding the lock,
    while the push waited for a member row that transaction had key-share locked: a deadlock.
    """
    connection = transaction.get_connection()
    if not connection.features.has_select_for_update:
        return
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            "organization_write_lock() needs the change's transaction.")
    if _holds_org_lock(connection, organization_id):
        return
    (Organization.objects.select_for_update(no_key=True).filter(pk=organization_id)
     .values("pk").get())
    transaction.on_commit(_OrgLocked(organization_id))


def audit_record(
    *,
    organization: Organization,
    actor: Member | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """Append an entry to the organization's audit chain.

    Takes a row lock on the organization so that entries are chained one after the other even
    when several requests write at once; call it inside the transaction of the change it records.
    Within one transaction the lock is taken and the head read once: later entries for the same
    organization chain onto the head remembered from the previous one (forgotten when that
    entry's savepoint rolls back, and at commit or rollback), so a batch of changes costs one
    insert per entry.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    info = _request_info.get()
    connection = transaction.get_connection()
    # No savepoint of its own: a failed insert fails the change it records.
    with transaction.atomic(savepoint=False):
        head = _known_head(connection, organization.pk)
        if head is None:
            if not connection.run_on_commit:  # nothing pending: every remembered head is stale
                _heads.pop(connection, None)
            organization_write_lock(organization.pk)
            last = (AuditLog.objects.filter(organization=organization)
                    .order_by("-seq").values("seq", "hash").first())
            head = _Head(last["seq"], last["hash"]) if last else _Head(0, GENESIS_HASH)
        entry = AuditLog(
            organization=organization,
            seq=head.seq + 1,
            created_at=timezone.now(),
            actor=actor,
            actor_label=(actor.name if actor else "system")[:200],
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            object_repr=str(object_repr)[:200],
            changes=to_json_value(changes or {}),
            ip=info.ip if info else None,
            user_agent=(info.user_agent if info else "")[:300],
            prev_hash=head.hash,
        )
        entry.hash = entry_hash(entry)
        new_head = _Head(entry.seq, entry.hash)
        batch = _batch.get()
        if batch is not None:
            batch.append((new_head, entry))
        else:
            entry.save(force_insert=True)
        stack = _heads.setdefault(connection, {}).setdefault(organization.pk, [])
        stack.append(new_head)
        del stack[:-_MAX_HEADS]
        transaction.on_commit(new_head)
    return entry


@contextmanager
def audits_batched() -> Iterator[None]:
    """Inside a transaction: insert the block's audit entries at its end, in one query (the
    phone's push, an entry a mutation).

    Entries are chained as ``audit_record`` writes them, under the organization's lock it takes;
    those whose savepoint rolled back inside the block are left out, as their insert would
    have been rolled back: their on-commit markers are gone (see ``_known_head``), and the
    entries written after them chain onto the last one kept. A block left by an exception
    writes nothing; its transaction must roll back. Nothing in the block may read the audit log
    back."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("audits_batched() needs a transaction.")
    pending: list[tuple[_Head, AuditLog]] = []
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
    if pending:
        kept = {id(func) for _sids, func, _robust in connection.run_on_commit}
        AuditLog.objects.bulk_create([entry for head, entry in pending if id(head) in kept])


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken: AuditLog | None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def audit_verify(*, organization: Organization, batch_size: int = 2000) -> ChainReport:
    """Walk the organization's chain in order; report the first entry that does not verify."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    entries = (AuditLog.objects.filter(organization=organization).order_by("seq")
               .iterator(chunk_size=batch_size))
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainReport(checked, entry,
                               f"entry #{expected_seq} is missing (found #{entry.seq} next)")
        if entry.prev_hash != expected_prev:
            return ChainReport(checked, entry, "its link to the previous entry does not match")
        if entry_hash(entry) != entry.hash:
            return ChainReport(checked, entry, "its content does not match its hash")
        expected_prev = entry.hash
        expected_seq += 1
        checked += 1
    return ChainReport(checked, None)
