"""The push: a phone's batch of mutations applied (PROTOCOL.md describes the wire format).
What a mutation changes is written by the same service the office uses
(``crewline.workorders.timeline`` for the job timeline, ``crewline.workorders.services`` for
visits, ``crewline.timesheets.services`` for clock in and out); this module only checks the
arguments and calls it.

The push applies a batch in one database transaction holding the device row's lock, each
mutation through the same service the office uses inside a savepoint of its own, and advances
the device's ``last_seq`` in that transaction: a mutation is applied exactly once however often
it is delivered, and a mutation that breaks a rule is rolled back to its savepoint and kept as a
``RejectedMutation``. Every mutation's client id is kept once it is settled
(``SettledMutation``), so one sent again under another number or from a newly registered
device is a duplicate too.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core import storable
from crewline.core.audit import audits_batched, organization_write_lock
from crewline.core.db import caller_savepoint
from crewline.core.models import Member
from crewline.field.models import (
    Device,
    SettledMutation,
    Upload,
)
from crewline.field.selectors import field_settings_for, field_settings_held
from crewline.field.services.devices import SEEN_EVERY
from crewline.field.services.photos import check_sha256, image_to_jpeg
from crewline.field.services.positions import travel_position_record
from crewline.field.services.rejections import rejected_record
from crewline.live.services import changes_batched
from crewline.notifications.models import Notification
from crewline.notifications.services import notification_mark_read
from crewline.timesheets import services as timesheets
from crewline.timesheets.models import TimeSource
from crewline.workorders import services as workorders
from crewline.workorders import timeline
from crewline.workorders.models import (
    Visibility,
    Visit,
)

MAX_BATCH = 500
# How far a phone's clock may be off: ahead (a wrong time zone is less than a day), behind (an
# outbox kept offline for a long time).
CLIENT_TIME_AHEAD = dt.timedelta(days=1)
CLIENT_TIME_BEHIND = dt.timedelta(days=400)


class BadArguments(Exception):
    """A mutation whose arguments are malformed: rejected with this message as the reason.

    A mutation comes from a phone's outbox and is sent again until it is settled: an argument
    the database cannot store or read back (an id past 64 bits, a NUL character in a note, a
    time in the year 10000) must come back as a rejected mutation with its reason, never as an
    error that fails the push, or the phone would send it first in every push and nothing
    after it would be applied."""


# --- Push -------------------------------------------------------------------------------------

@dataclass
class PushResult:
    last_seq: int
    results: list[dict] = field(default_factory=list)
    # Set when a mutation's seq left a gap: the phone resends from this one.
    expected_seq: int | None = None


@dataclass
class Context:
    member: Member
    device: Device
    device_time: dt.datetime | None
    work_order_id: int | None = None
    # Visits fetched for the batch, by id (see ``_visit``), and the work order of every visit
    # of the batch in the member's organization.
    visits: dict[int, Visit] = field(default_factory=dict)
    in_organization: dict[int, int] = field(default_factory=dict)
    # The member's mutations settled before, by client id (their names), among the batch's
    # ids, and those this push settles (written at its end).
    settled: dict[uuid.UUID, str] = field(default_factory=dict)
    receipts: list[SettledMutation] = field(default_factory=list)


def _arg_uuid(args: dict, name: str = "client_id", *, required: bool = True
              ) -> uuid.UUID | None:
    value = args.get(name)
    if value is None and not required:
        return None
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError) as exc:
        raise BadArguments(_("“%(name)s” must be a UUID.") % {"name": name}) from exc


def _arg_str(args: dict, name: str, default: str = "", max_length: int = 10000) -> str:
    value = args.get(name, default)
    if not isinstance(value, str) or len(value) > max_length:
        raise BadArguments(_("“%(name)s” must be text.") % {"name": name})
    return value


def _arg_b64(args: dict, name: str) -> bytes:
    value = args.get(name)
    if not isinstance(value, str):
        raise BadArguments(_("“%(name)s” must be base64 data.") % {"name": name})
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadArguments(_("“%(name)s” must be base64 data.") % {"name": name}) from exc


def _arg_id(args: dict, name: str) -> int:
    """``args[name]`` as an id: a whole number from 1 to ``storable.MAX_ID``."""
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadArguments(_("“%(name)s” must be a number.") % {"name": name})
    if not storable.is_id(value):
        raise BadArguments(_("“%(name)s” is not a valid id.") % {"name": name})
    return value


def _visits_query(member: Member):
    return (Visit.objects.select_related("work_order__organization")
            .annotate(on_crew=Exists(Visit.crew.through.objects.filter(
                visit_id=OuterRef("pk"), member_id=member.pk)))
            .filter(organization_id=member.organization_id))


def _visit_id(args: dict) -> int:
    return _arg_id(args, "visit_id")


def _visit(ctx: Context, args: dict) -> Visit:
    """The visit named by ``args``, in the member's organization, with its work order and
    whether the member is on its crew.

    The push fetches the batch's visits at once; consecutive appends to one visit share that
    copy. A status change replaces it with the visit as the service saved it (see ``_status``);
    it is dropped after a visit could not be completed (its work order goes on hold) and after
    a rejection, so a later mutation reads the visit as the batch left it.
    """
    visit_id = _visit_id(args)
    visit = ctx.visits.get(visit_id)
    if visit is None:
        visit = _visits_query(ctx.member).filter(pk=visit_id).first()
    if visit is None:
        raise BadArguments(_("This visit does not exist."))
    ctx.work_order_id = visit.work_order_id
    ctx.visits[visit_id] = visit
    return visit


def _status(service: Callable[..., Visit]) -> Callable[[Context, dict], Any]:
    def apply(ctx: Context, args: dict) -> Any:
        visit_id = _visit_id(args)
        if visit_id in ctx.in_organization:
            # The service locks and reads the visit itself; only the organization is checked.
            # It is the member's, which the service need not read again.
            visit = Visit(pk=visit_id, organization=ctx.member.organization,
                          work_order_id=ctx.in_organization[visit_id])
            ctx.work_order_id = visit.work_order_id
        else:
            visit = _visit(ctx, args)
        previous = ctx.visits.pop(visit_id, None)
        service(visit=visit, by=ctx.member, device_time=ctx.device_time)
        if previous is not None and previous.work_order_id == visit.work_order_id:
            # The service left the visit as it saved it; the work order's fields that appends
            # use (organization, reference, title, checklist) are not changed by a visit's
            # status, so the batch's copy of it is kept: no need to read the visit again.
            Visit.work_order.field.set_cached_value(visit, previous.work_order)
            visit.on_crew = True if not ctx.member.is_office else previous.on_crew
            ctx.visits[visit_id] = visit
        return visit
    return apply


_complete_visit = _status(workorders.visit_complete)


def _complete(ctx: Context, args: dict) -> Any:
    # On a job's last visit the phone says whether the job is complete or needs another visit
    # (see ``workorders.visit_complete``); without an outcome it is a plain status change.
    outcome = _arg_str(args, "outcome", max_length=20)
    reason = _arg_str(args, "reason", max_length=500)
    if not outcome and not reason:
        return _complete_visit(ctx, args)
    visit = _status(functools.partial(workorders.visit_complete, outcome=outcome,
                                      reason=reason))(ctx, args)
    # The work order may have been completed with it: later mutations read it again.
    ctx.visits.pop(visit.pk, None)
    return visit


def _notification_read(ctx: Context, args: dict) -> Any:
    pk = args.get("notification_id")
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise BadArguments(_("“notification_id” must be a number."))
    notification = Notification.objects.filter(organization_id=ctx.member.organization_id,
                                               recipient=ctx.member, pk=pk).first()
    if notification is None:
        # Gone meanwhile (a later change of the visit undid what it said): nothing to read, and
        # nothing for the office to follow up.
        return None
    notification_mark_read(notification=notification, by=ctx.member)
    return notification


def _incomplete(ctx: Context, args: dict) -> Any:
    return workorders.visit_incomplete(visit=_visit(ctx, args), by=ctx.member,
                                       reason=_arg_str(args, "reason", max_length=500),
                                       device_time=ctx.device_time)


def _note(ctx: Context, args: dict) -> Any:
    visit = _visit(ctx, args)
    return timeline.note_add(work_order=visit.work_order, by=ctx.member, visit=visit,
                             body=_arg_str(args, "body"),
                             visibility=_arg_str(args, "visibility", Visibility.INTERNAL, 20),
                             client_id=_arg_uuid(args), device_time=ctx.device_time)


def _photo(ctx: Context, args: dict) -> Any:
    """A photo sent inline (``data``, base64) or uploaded before (``upload_id``: the phone's
    own upload only). Without a ``visibility``, the organization's choice for photos from the
    phone (shared with the customer unless it changed it)."""
    visit = _visit(ctx, args)
    visibility = (_arg_str(args, "visibility", max_length=20)
                  if args.get("visibility") is not None
                  else field_settings_for(visit.organization_id).photo_visibility)
    fields: dict[str, Any] = {}
    if args.get("upload_id") is not None:
        upload = Upload.objects.filter(organization_id=ctx.member.organization_id,
                                       member=ctx.member,
                                       client_id=_arg_uuid(args, "upload_id")).first()
        if upload is None:  # another member's upload id is as good as unknown
            raise BadArguments(_("The photo was not uploaded."))
        fields = {"stored_name": upload.file.name, "upload": upload.client_id}
    else:
        content = _arg_b64(args, "data")
        check_sha256(content, _arg_str(args, "sha256", max_length=64))
        fields = {"jpeg": image_to_jpeg(content)}
    return timeline.photo_add(visit=visit, by=ctx.member, client_id=_arg_uuid(args),
                              visibility=visibility,
                              caption=_arg_str(args, "caption", max_length=500),
                              device_time=ctx.device_time, **fields)


def _checklist(ctx: Context, args: dict) -> Any:
    index = args.get("index")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
        raise BadArguments(_("“index” must be a number."))
    return timeline.checklist_answer_add(visit=_visit(ctx, args), by=ctx.member,
                                         client_id=_arg_uuid(args), index=index,
                                         label=_arg_str(args, "label", max_length=200),
                                         answer=args.get("answer"),
                                         device_time=ctx.device_time)


def _part(ctx: Context, args: dict) -> Any:
    try:
        quantity = Decimal(str(args.get("quantity")))
    except (InvalidOperation, ValueError) as exc:
        raise BadArguments(_("“quantity” must be a number.")) from exc
    if not quantity.is_finite():
        raise BadArguments(_("“quantity” must be a number."))
    item = args.get("price_book_item_id")
    if item is not None:
        item = _arg_id(args, "price_book_item_id")
    return timeline.part_add(visit=_visit(ctx, args), by=ctx.member, client_id=_arg_uuid(args),
                             name=_arg_str(args, "name", max_length=200), quantity=quantity,
                             unit=_arg_str(args, "unit", max_length=20),
                             price_book_item_id=item, device_time=ctx.device_time)


def _labor(ctx: Context, args: dict) -> Any:
    minutes = args.get("minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        raise BadArguments(_("“minutes” must be a whole number."))
    return timeline.labor_set(visit=_visit(ctx, args), by=ctx.member, client_id=_arg_uuid(args),
                              minutes=minutes,
                              description=_arg_str(args, "description", max_length=500),
                              device_time=ctx.device_time)


def _signature(ctx: Context, args: dict) -> Any:
    return timeline.signature_add(visit=_visit(ctx, args), by=ctx.member,
                                  client_id=_arg_uuid(args),
                                  signer_name=_arg_str(args, "signer_name", max_length=200),
                                  png=_arg_b64(args, "png"), device_time=ctx.device_time)


def _location(args: dict) -> dict:
    lat, lng = args.get("lat"), args.get("lng")
    for value in (lat, lng):
        if value is not None and (not isinstance(value, int | float)
                                  or isinstance(value, bool)):
            raise BadArguments(_("The location must be numbers."))
    if (lat is None) != (lng is None):
        raise BadArguments(_("Give both latitude and longitude, or neither."))
    return {"latitude": lat, "longitude": lng}


def _en_route(ctx: Context, args: dict) -> Any:
    # The phone sends where it is when the technician sets off (when they let it): the
    # customer's tracking page starts from there.
    where = _location(args)
    visit = _status(workorders.visit_en_route)(ctx, args)
    if where["latitude"] is not None:
        _record_position(ctx, visit, where)
    return visit


def _record_position(ctx: Context, visit: Visit, where: dict) -> None:
    travel_position_record(visit=visit, member=ctx.member, latitude=where["latitude"],
                           longitude=where["longitude"], at=ctx.device_time)


def _position(ctx: Context, args: dict) -> Any:
    where = _location(args)
    if where["latitude"] is None:
        raise BadArguments(_("Give both latitude and longitude."))
    visit = _visit(ctx, args)
    _record_position(ctx, visit, where)


def _clock(service: Callable[..., Any], starts: bool) -> Callable[[Context, dict], Any]:
    def apply(ctx: Context, args: dict) -> Any:
        extra = {"source": TimeSource.DEVICE} if starts else {}
        return service(member=ctx.member, by=ctx.member, at=ctx.device_time,
                       client_id=_arg_uuid(args), **_location(args), **extra)
    return apply


MUTATIONS: dict[str, Callable[[Context, dict], Any]] = {
    "visit_en_route": _en_route,
    "visit_position": _position,
    "visit_arrive": _status(workorders.visit_arrive),
    "visit_pause": _status(workorders.visit_pause),
    "visit_resume": _status(workorders.visit_resume),
    "visit_complete": _complete,
    "visit_incomplete": _incomplete,
    "note_add": _note,
    "photo_add": _photo,
    "checklist_answer": _checklist,
    "part_add": _part,
    "labor_set": _labor,
    "signature_add": _signature,
    "clock_in": _clock(timesheets.clock_in, True),
    "clock_out": _clock(timesheets.clock_out, False),
    "break_start": _clock(timesheets.break_start, True),
    "break_end": _clock(timesheets.break_end, False),
    "notification_read": _notification_read,
}


def parse_client_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 time with an offset, or None; raises BadArguments otherwise."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadArguments(_("“client_time” must be an ISO 8601 time.")) from exc
    if timezone.is_naive(parsed):
        raise BadArguments(_("“client_time” needs a time zone offset."))
    # Further off than this, the phone's clock is wrong (and the extremes cannot even be
    # stored and read back).
    now = timezone.now()
    if parsed > now + CLIENT_TIME_AHEAD:
        raise BadArguments(_("“client_time” is more than a day ahead of the server's clock: "
                             "check the phone's date and time."))
    if parsed < now - CLIENT_TIME_BEHIND:
        raise BadArguments(_("“client_time” is more than %(days)d days ago: check the phone's "
                             "date and time.") % {"days": CLIENT_TIME_BEHIND.days})
    return parsed


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages) or _("Not allowed.")
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("Not allowed.")
    if isinstance(exc, ObjectDoesNotExist):
        return _("Not found.")
    return str(exc)


# Mutations that read the organization's field settings (a photo's default visibility, what a
# completion requires and whether it closes the job).
READ_SETTINGS = frozenset({"photo_add", "visit_complete"})

# Mutations that change the visit and its work order beyond their status: the batch's copies
# are fetched again after. (The other status changes update the batch's copy: see ``_status``.)
STATUS_MUTATIONS = frozenset({"visit_incomplete"})


def mutation_client_id(mutation: dict) -> uuid.UUID | None:
    """The mutation's client id (``args.client_id``), or None when it has none or a malformed
    one (which its handler rejects)."""
    args = mutation.get("args")
    value = args.get("client_id") if isinstance(args, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# Positions are sent every half minute on the way and a later one replaces an earlier: a
# position sent twice changes nothing, so its client id is not kept.
UNRECEIPTED = frozenset({"visit_position"})


def _settle(ctx: Context, mutation: dict) -> tuple[str, str]:
    """``("duplicate", "")`` for a mutation whose client id this member's phones settled
    before, under whatever device and seq; otherwise what ``_apply_one`` says, and its client
    id is kept (applied or rejected, it is settled)."""
    name = mutation.get("name")
    client_id = mutation_client_id(mutation)
    if client_id is not None and ctx.settled.get(client_id) == name:
        return "duplicate", ""
    status, reason = _apply_one(ctx, mutation)
    if (client_id is not None and client_id not in ctx.settled and isinstance(name, str)
            and name in MUTATIONS and name not in UNRECEIPTED):
        ctx.settled[client_id] = name
        ctx.receipts.append(SettledMutation(
            organization_id=ctx.device.organization_id, member_id=ctx.device.member_id,
            client_id=client_id, name=name, device_id=ctx.device.pk, seq=mutation["seq"]))
    return status, reason


def _apply_one(ctx: Context, mutation: dict) -> tuple[str, str]:
    """Apply one mutation in a savepoint of the push's transaction; ``("applied", "")``, or
    ``("rejected", reason)`` after rolling back to the savepoint and recording the rejection."""
    name = mutation.get("name")
    sent_args = mutation.get("args")
    args = sent_args if isinstance(sent_args, dict) else {}
    ctx.device_time, ctx.work_order_id = None, None
    try:
        handler = MUTATIONS.get(name) if isinstance(name, str) else None
        if handler is None:
            raise BadArguments(_("Unknown change “%(name)s”.")
                               % {"name": storable.clean_text(str(name)[:40])})
        if sent_args is not None and not isinstance(sent_args, dict):
            raise BadArguments(_("“args” must be an object."))
        storable.check_fields(args)
        ctx.device_time = parse_client_time(mutation.get("client_time"))
        client_id = mutation_client_id(mutation)
        if args.get("client_id") is not None and client_id is None:
            raise BadArguments(_("“%(name)s” must be a UUID.") % {"name": "client_id"})
        if client_id is not None and ctx.settled.get(client_id, name) != name:
            raise BadArguments(_("This change's id is already used by another change."))
        # The services skip savepoints of their own inside this one; a client id sent before
        # surfaces as an IntegrityError, and the mutation is tried once more with them, which
        # finds the earlier entry.
        try:
            with caller_savepoint(), transaction.atomic():
                handler(ctx, args)
        except IntegrityError:
            ctx.visits.clear()
            with transaction.atomic():
                handler(ctx, args)
    except (BadArguments, storable.Unstorable, ValidationError, PermissionDenied,
            ObjectDoesNotExist) as exc:
        ctx.visits.clear()
        reason = _reason(exc)
        visit_id = args.get("visit_id")
        device = ctx.device
        if ctx.work_order_id is None and storable.is_id(visit_id):
            ctx.work_order_id = (Visit.objects.filter(organization_id=device.organization_id,
                                                      pk=visit_id)
                                 .values_list("work_order_id", flat=True).first())
        rejected_record(device=device, seq=mutation["seq"], name=str(name),
                        args=sent_args if sent_args is not None else {},
                        client_time=ctx.device_time, reason=reason,
                        work_order_id=ctx.work_order_id)
        return "rejected", reason
    if name in STATUS_MUTATIONS:
        ctx.visits.clear()
    return "applied", ""


def push_apply(*, member: Member, device_id: object, session_key: str | None,
               mutations: list[dict]) -> PushResult:
    """Apply ``mutations`` (each ``{seq, name, args, client_time}``, in seq order) from
    ``member``'s phone ``device_id``, in order.

    One transaction for the whole batch, holding the device row's lock: the phone is checked in
    under it (``member``'s own, not revoked: anything else is a 404) and recorded as seen at
    the end. A seq at or below ``last_seq`` is a duplicate and skipped; a seq past
    ``last_seq + 1`` stops the push with ``expected_seq`` set (what came before it is kept);
    otherwise the mutation is applied in a savepoint of its own, or rolled back to it and
    recorded as rejected. ``last_seq`` is written once, at the end, in the same transaction: an
    error that interrupts the batch rolls all of it back and leaves ``last_seq`` alone, and the
    phone sends it again. Precondition: every ``seq`` is a positive integer (the view checks
    the shape).
    """
    try:
        pk = uuid.UUID(str(device_id))
    except (ValueError, TypeError) as exc:
        raise Http404("No such device.") from exc
    with transaction.atomic():
        # The row lock serialises pushes of one device (two tabs, a resend racing the
        # original): the second waits here and then sees the first's last_seq. A revoke takes
        # it too, so a phone revoked meanwhile is refused here.
        device = (Device.objects.select_for_update(no_key=True)
                  .filter(pk=pk, organization_id=member.organization_id, member=member,
                          revoked_at__isnull=True).first())
        if device is None:
            raise Http404("No such device.")
        Device.member.field.set_cached_value(device, member)
        result = PushResult(last_seq=device.last_seq)
        ctx = Context(member=member, device=device, device_time=None)
        # Before any of the rows the mutations lock: see organization_write_lock.
        organization_write_lock(device.organization_id)
        first_seq = last_seq = device.last_seq
        visit_ids = {m["args"]["visit_id"] for m in mutations if m["seq"] > last_seq
                     and isinstance(m.get("args"), dict)
                     and storable.is_id(m["args"].get("visit_id"))}
        if visit_ids:
            ctx.visits = {v.pk: v for v in _visits_query(ctx.member).filter(pk__in=visit_ids)}
            ctx.in_organization = {pk: v.work_order_id for pk, v in ctx.visits.items()}
        client_ids = {cid for m in mutations if m["seq"] > last_seq
                      and (cid := mutation_client_id(m)) is not None}
        if client_ids:
            # Read under the organization's lock: a push from the member's other phone has
            # committed its own, or waits for this one.
            ctx.settled = dict(SettledMutation.objects
                               .filter(member_id=device.member_id, client_id__in=client_ids)
                               .values_list("client_id", "name"))
        # The mutations that read the organization's field settings read them once a push
        # (the others leave them alone).
        settings = (field_settings_held() if any(m.get("name") in READ_SETTINGS
                                                 for m in mutations) else nullcontext())
        with changes_batched(), audits_batched(), settings:
            for mutation in mutations:
                seq = mutation["seq"]
                if seq <= last_seq:
                    result.results.append({"seq": seq, "status": "duplicate"})
                    continue
                if seq > last_seq + 1:
                    result.expected_seq = last_seq + 1
                    break
                status, reason = _settle(ctx, mutation)
                last_seq = seq
                result.results.append({"seq": seq, "status": status,
                                       **({"reason": reason} if reason else {})})
        if ctx.receipts:
            SettledMutation.objects.bulk_create(ctx.receipts)
        # Seen: the sequence it reached, when (at once after changes, else at most once a
        # SEEN_EVERY, as a pull records it) and with which login session, so that revoking the
        # phone can end that session. One query, or none when nothing changed.
        now = timezone.now()
        seen: dict[str, Any] = {}
        if last_seq != first_seq:
            seen["last_seq"] = last_seq
        if (last_seq != first_seq or device.last_seen_at is None
                or now - device.last_seen_at >= SEEN_EVERY):
            seen["last_seen_at"] = now
        if session_key and device.session_key != session_key:
            seen["session_key"] = session_key
        if seen:
            Device.objects.filter(pk=device.pk).update(**seen)
            for name, value in seen.items():
                setattr(device, name, value)
        result.last_seq = last_seq
    return result
