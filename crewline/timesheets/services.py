"""Writes to time entries: clocking in and out of the shift and taking breaks.

One service per action, called alike by the office and by the phone's sync endpoint. A resent
action with a ``client_id`` already used returns what the first one did. Each records an
audit entry in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core.audit import audit_record
from crewline.core.models import Member
from crewline.timesheets.models import TimeEntry, TimeKind, TimeSource

# A phone's clock may run a little fast; times further ahead than this are refused.
CLOCK_SKEW = dt.timedelta(minutes=10)


def _check_actor(member: Member, by: Member | None) -> None:
    if by is None:
        return
    if by.organization_id != member.organization_id:
        raise PermissionDenied("Another organization's member.")
    if by.pk != member.pk and not by.is_office:
        raise PermissionDenied(_("Only the office may record time for someone else."))


def _when(at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        raise ValueError("Times must be timezone-aware.")
    if at > now + CLOCK_SKEW:
        raise ValidationError({"at": _("That time is in the future.")}, code="future")
    return at


def _location(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    if latitude is None and longitude is None:
        return None, None
    try:
        lat = Decimal(str(latitude)).quantize(Decimal("0.000001"))
        lng = Decimal(str(longitude)).quantize(Decimal("0.000001"))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError({"location": _("The location is not valid.")}) from exc
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationError({"location": _("The location is not valid.")})
    return lat, lng


def _open(member: Member, kind: str) -> TimeEntry | None:
    return (TimeEntry.objects.filter(member=member, kind=kind, end__isnull=True)
            .order_by("-start", "-id").first())


def _lock_member(member: Member) -> None:
    # Two phones of one member clocking at once: the second waits, then sees the first's entry.
    Member.objects.select_for_update().filter(pk=member.pk).values("pk").get()


def _start(*, member: Member, by: Member | None, kind: str, action: str, at, client_id,
           latitude, longitude, source, visit=None) -> TimeEntry:
    _check_actor(member, by)
    when = _when(at)
    lat, lng = _location(latitude, longitude)
    with transaction.atomic():
        _lock_member(member)
        if client_id is not None:
            existing = TimeEntry.objects.filter(organization_id=member.organization_id,
                                                client_id=client_id).first()
            if existing is not None:
                return existing
        if kind == TimeKind.SHIFT:
            if _open(member, TimeKind.SHIFT) is not None:
                raise ValidationError(_("You are already clocked in."), code="clocked_in")
        elif kind == TimeKind.BREAK:
            if _open(member, TimeKind.SHIFT) is None:
                raise ValidationError(_("Clock in before taking a break."), code="not_clocked_in")
            if _open(member, TimeKind.BREAK) is not None:
                raise ValidationError(_("You are already on a break."), code="on_break")
        entry = TimeEntry.objects.create(
            organization_id=member.organization_id, member=member, kind=kind, start=when,
            visit=visit, latitude=lat, longitude=lng, source=source, client_id=client_id,
            created_by=by,
        )
        audit_record(organization=member.organization, actor=by, action=f"time.{action}",
                     obj=entry, changes={"kind": [None, kind], "start": [None, when],
                                         "source": [None, source]})
    return entry


def _end(*, member: Member, by: Member | None, kind: str, action: str, at, client_id,
         latitude, longitude, missing: str) -> TimeEntry:
    _check_actor(member, by)
    when = _when(at)
    lat, lng = _location(latitude, longitude)
    with transaction.atomic():
        _lock_member(member)
        if client_id is not None:
            existing = TimeEntry.objects.filter(organization_id=member.organization_id,
                                                end_client_id=client_id).first()
            if existing is not None:
                return existing
        entry = _open(member, kind)
        if entry is None:
            raise ValidationError(missing, code="not_open")
        if when < entry.start:
            raise ValidationError({"at": _("The end cannot be before the start.")},
                                  code="end_before_start")
        closed = [entry]
        if kind == TimeKind.SHIFT:
            # Clocking out ends a break that was left running.
            open_break = _open(member, TimeKind.BREAK)
            if open_break is not None:
                closed.append(open_break)
        for item in closed:
            item.end = max(when, item.start)
            item.end_latitude, item.end_longitude = lat, lng
            item.end_client_id = client_id if item is entry else None
            item.save(update_fields=["end", "end_latitude", "end_longitude", "end_client_id",
                                     "updated_at"])
        audit_record(organization=member.organization, actor=by, action=f"time.{action}",
                     obj=entry, changes={"end": [None, when]})
    return entry


def clock_in(*, member: Member, by: Member | None, at: dt.datetime | None = None,
             client_id: uuid.UUID | None = None, latitude=None, longitude=None,
             source: str = TimeSource.OFFICE) -> TimeEntry:
    """Start ``member``'s shift at ``at`` (now by default). Refused while a shift is open."""
    return _start(member=member, by=by, kind=TimeKind.SHIFT, action="clock_in", at=at,
                  client_id=client_id, latitude=latitude, longitude=longitude, source=source)


def clock_out(*, member: Member, by: Member | None, at: dt.datetime | None = None,
              client_id: uuid.UUID | None = None, latitude=None, longitude=None) -> TimeEntry:
    """End ``member``'s open shift (and a break left open). Refused when not clocked in."""
    return _end(member=member, by=by, kind=TimeKind.SHIFT, action="clock_out", at=at,
                client_id=client_id, latitude=latitude, longitude=longitude,
                missing=_("You are not clocked in."))


def break_start(*, member: Member, by: Member | None, at: dt.datetime | None = None,
                client_id: uuid.UUID | None = None, latitude=None, longitude=None,
                source: str = TimeSource.OFFICE) -> TimeEntry:
    """Start a break within the open shift. Refused when not clocked in or already on one."""
    return _start(member=member, by=by, kind=TimeKind.BREAK, action="break_start", at=at,
                  client_id=client_id, latitude=latitude, longitude=longitude, source=source)


def break_end(*, member: Member, by: Member | None, at: dt.datetime | None = None,
              client_id: uuid.UUID | None = None, latitude=None, longitude=None) -> TimeEntry:
    """End the open break. Refused when not on a break."""
    return _end(member=member, by=by, kind=TimeKind.BREAK, action="break_end", at=at,
                client_id=client_id, latitude=latitude, longitude=longitude,
                missing=_("You are not on a break."))
