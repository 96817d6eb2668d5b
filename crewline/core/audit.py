"""The audit log: recording changes with who, when and from where, and verifying the chain.

Request details (IP address, user agent) are taken from a context variable set by
``MemberMiddleware``, so services record them without every call passing them along.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
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
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    info = _request_info.get()
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=organization.pk).values("pk").get()
        last = (AuditLog.objects.filter(organization=organization)
                .order_by("-seq").values("seq", "hash").first())
        entry = AuditLog(
            organization=organization,
            seq=(last["seq"] + 1) if last else 1,
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
            prev_hash=last["hash"] if last else GENESIS_HASH,
        )
        entry.hash = entry_hash(entry)
        entry.save(force_insert=True)
    return entry


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
