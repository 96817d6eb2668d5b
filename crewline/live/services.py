"""Writing the one change log in the transaction of a change, and publishing it to the open
pages once the transaction commits.

Every service that changes something a page, a phone or the API shows calls ``change_record``
(or one of the helpers below that name the topics of a work order, a visit or a quote) inside
its transaction: the row commits or rolls back with the change. Nothing is derived from
``post_save`` of generic rows.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from crewline.core.audit import organization_write_lock
from crewline.core.models import Member
from crewline.live.broker import get_broker
from crewline.live.models import EVENTS, Change, ChangeKind, Tombstone

logger = logging.getLogger(__name__)

# How long rows are kept: the longest a phone or an API client may stay away and still catch up
# from its cursor; after that it starts again from a full snapshot.
KEEP = dt.timedelta(days=30)
# Old rows are pruned by the process that writes every PRUNE_EVERY-th one: no scheduled job.
PRUNE_EVERY = 1000
TOPIC_RE = re.compile(r"^(?:wo:\d+|quote:\d+|board:\d{4}-\d{2}-\d{2}|list|member:\d+)$")
OFFICE_PREFIXES = ("wo:", "quote:", "board:", "list")
# A visit spread over more days than this names only its first ones on the board.
MAX_BOARD_DAYS = 14

_batch: contextvars.ContextVar[dict | None] = contextvars.ContextVar("crewline_change_batch",
                                                                     default=None)


def topic_allowed(member: Member, topic: str) -> bool:
    """May ``member`` listen to ``topic``? The office hears everything of its organization;
    a technician only their own ``member:`` topic."""
    if not TOPIC_RE.match(topic):
        return False
    if member.is_office:
        return True
    return topic == f"member:{member.pk}"


def change_record(*, organization_id: int, kind: str, object_id: int | None = None,
                  topics: Iterable[str] = (), payload: dict | None = None, event: str = "",
                  tombstone: str = "") -> None:
    """Log one change (``ChangeKind``) in the current transaction; the pages listening to
    ``topics`` hear of it with ``payload`` once it commits. ``event`` names the lifecycle event
    it is (``EVENTS``: what webhooks subscribe to), ``tombstone`` that the object was deleted or
    archived. Inside ``changes_batched``, the block's changes are written together, each
    distinct one once. A change with an event writes its webhooks' outbox rows beside it.

    The row's id is taken under the organization's row lock (``organization_write_lock``),
    held until the transaction commits: an organization's changes commit in id order, so a
    reader that has seen id N will never see a lower one appear later (on PostgreSQL ids are
    handed out before commit; SQLite has one writer at a time anyway)."""
    if event and event not in EVENTS:
        raise ValueError(f"Unknown event {event!r}.")
    if tombstone and tombstone not in Tombstone.values:
        raise ValueError(f"Unknown tombstone {tombstone!r}.")
    row = Change(organization_id=organization_id, kind=kind, object_id=object_id,
                 topics=list(dict.fromkeys(topics)), payload=payload or {}, event=event,
                 tombstone=tombstone)
    batch = _batch.get()
    if batch is not None:
        key = (organization_id, kind, object_id, tuple(row.topics),
               json.dumps(row.payload, sort_keys=True, default=str), event, tombstone)
        batch.setdefault(key, row)
        return
    with transaction.atomic(savepoint=False):
        organization_write_lock(organization_id)
        row.save(force_insert=True)
        _outbox([row])
        transaction.on_commit(lambda: changes_publish([row]))


def _outbox(rows: list[Change]) -> None:
    if any(row.event for row in rows):
        from crewline.webhooks.outbox import outbox_write  # webhooks builds on this module

        outbox_write(changes=rows)


@contextmanager
def changes_batched() -> Iterator[None]:
    """Inside a transaction: write the block's changes at its end, each once, in one insert
    (the phone's push). Changes of a savepoint that rolled back inside the block are written
    too: a reader is then sent an unchanged object again, which is harmless."""
    pending: dict = {}
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
    if pending:
        for organization_id in sorted({row.organization_id for row in pending.values()}):
            organization_write_lock(organization_id)
        rows = Change.objects.bulk_create(list(pending.values()))
        _outbox(rows)
        transaction.on_commit(lambda: changes_publish(rows))


def changes_publish(rows: list[Change]) -> None:
    """Hand the committed ``rows`` that some page listens to to the broker."""
    broker = get_broker()
    for row in rows:
        if not row.topics:
            continue
        try:
            broker.publish(row.message())
        except Exception:
            # The change is committed; a stream that missed it catches up from the table when
            # it reconnects. A broken broker must not fail the request that made the change.
            logger.exception("Could not publish change %s.", row.pk)
    if any(row.pk % PRUNE_EVERY == 0 for row in rows):
        changes_prune()


def changes_prune(*, now: dt.datetime | None = None) -> int:
    """Delete changes older than ``KEEP``; returns how many."""
    cutoff = (now or timezone.now()) - KEEP
    deleted, _ = Change.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- The changes of a job, named for the pages that show them ---------------------------------

# A work order's transitions (``work_orders._transition``) that are events of their own; the
# others (start, hold, resume, reopen) are updates.
TRANSITION_EVENTS = {"schedule": "work_order.scheduled", "complete": "work_order.completed",
                     "invoice": "work_order.invoiced", "cancel": "work_order.cancelled"}


def work_order_event(transition: str) -> str:
    """The event a work order's transition ``transition`` is."""
    return TRANSITION_EVENTS.get(transition, "work_order.updated")


def work_order_changed(*, work_order, what: str = "work_order",
                       event: str = "work_order.updated", **payload) -> None:
    """The work order's own fields or status changed: its page and the lists."""
    change_record(organization_id=work_order.organization_id, kind=ChangeKind.WORK_ORDER,
                  object_id=work_order.pk, topics=[f"wo:{work_order.pk}", "list"],
                  payload={"wo": work_order.pk, "what": what, "status": work_order.status,
                           **payload}, event=event)


def timeline_changed(*, entry, added: bool = False) -> None:
    """An entry was added to the job's timeline (``added``), or changed in place (shared or made
    internal): the job's page shows it (by its id, new or in place); the phones send the job
    again. A note added is the event ``note.added``."""
    change_record(organization_id=entry.organization_id, kind=ChangeKind.WORK_ORDER,
                  object_id=entry.work_order_id, topics=[f"wo:{entry.work_order_id}"],
                  payload={"wo": entry.work_order_id, "what": "timeline", "kind": entry.kind,
                           "entry": entry.pk,
                           **({"visit": entry.visit_id} if entry.visit_id else {})},
                  event="note.added" if added and entry.kind == "note" else "")


def _days(states: Iterable[dict], tz: zoneinfo.ZoneInfo) -> list[str]:
    days: set[str] = set()
    for state in states:
        start, end = state.get("start"), state.get("end")
        if start is None:
            continue
        day = start.astimezone(tz).date()
        last = (end or start).astimezone(tz).date()
        while day <= last and len(days) < MAX_BOARD_DAYS:
            days.add(day.isoformat())
            day += dt.timedelta(days=1)
    return sorted(days)


# A visit's status after a status change -> its event (a pause or resume stays on site: none).
VISIT_STATUS_EVENTS = {"en_route": "visit.en_route", "on_site": "visit.arrived",
                       "done": "visit.completed", "incomplete": "visit.incomplete",
                       "cancelled": "visit.cancelled"}


def visit_event(*, change: str, before: dict, after: dict) -> str:
    """The lifecycle event of a visit's change (as ``visit_changed`` has it), or blank."""
    if change == "added":  # a visit without a time yet is scheduled when it is given one
        return "visit.scheduled" if after.get("start") else ""
    if change == "cancelled":
        return "visit.cancelled"
    if change == "status":
        if before.get("status") == after.get("status"):
            return ""
        return VISIT_STATUS_EVENTS.get(after.get("status") or "", "")
    # Moved or given another crew: rescheduled when its time changed or it was first given one.
    if (before.get("start"), before.get("end")) != (after.get("start"), after.get("end")):
        return "visit.rescheduled" if before.get("start") else "visit.scheduled"
    return ""


def visit_changed(*, visit, change: str, before: dict, after: dict,
                  tz: zoneinfo.ZoneInfo) -> None:
    """A visit was added, moved, given another crew or status (``before``/``after`` as
    ``crewline.workorders.signals.visit_changed`` has them): its job's page, the lists, the
    board's days before and after, and the crews before and after."""
    crew = set(before.get("crew") or ()) | set(after.get("crew") or ())
    change_record(
        organization_id=visit.organization_id, kind=ChangeKind.VISIT, object_id=visit.pk,
        topics=[f"wo:{visit.work_order_id}", "list",
                *(f"board:{d}" for d in _days((before, after), tz)),
                *(f"member:{m}" for m in sorted(crew))],
        payload={"wo": visit.work_order_id, "visit": visit.pk, "what": "visit",
                 "change": change}, event=visit_event(change=change, before=before, after=after))
