"""The technician app's devices: registering a phone, noting when it was last seen, revoking it
(signing it out), and the organization's rules for the app."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core import storable
from crewline.core.audit import audit_record, organization_write_lock
from crewline.core.models import Member
from crewline.field.models import (
    Device,
    FieldSettings,
)
from crewline.live.models import ChangeKind
from crewline.live.services import change_record

# --- Devices --------------------------------------------------------------------------------

def device_register(*, member: Member, device_id: uuid.UUID, name: str = "") -> Device:
    """Register the phone ``device_id`` for ``member``; registering it again is a no-op that
    updates its name. A device id already registered to someone else raises
    ``PermissionDenied`` (the caller answers 404, so ids of other people's devices stay hidden).
    """
    name = storable.clean_text((name or "").strip()[:200])
    with transaction.atomic():
        existing = Device.objects.select_for_update(no_key=True).filter(pk=device_id).first()
        if existing is not None:
            if existing.member_id != member.pk or existing.revoked_at is not None:
                raise PermissionDenied("This device belongs to someone else.")
            if name and existing.name != name:
                existing.name = name
                existing.save(update_fields=["name"])
            return existing
        device = Device.objects.create(id=device_id, organization_id=member.organization_id,
                                       member=member, name=name, last_seen_at=timezone.now())
        audit_record(organization=member.organization, actor=member, action="device.register",
                     obj=device, changes={"name": [None, name]})
    return device


def _end_session(session_key: str) -> None:
    from importlib import import_module

    from django.conf import settings

    import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).delete()


# A pull records the phone's last sync at most this often (it is shown to the minute).
SEEN_EVERY = dt.timedelta(minutes=1)


def device_seen(*, device: Device, session_key: str | None,
                now: dt.datetime | None = None) -> None:
    """Record that the phone synced: when (at most once a ``SEEN_EVERY``) and with which login
    session, so that revoking it can end that session. One query when something changed,
    none otherwise."""
    now = now or timezone.now()
    changes: dict[str, Any] = {}
    if session_key and device.session_key != session_key:
        changes["session_key"] = session_key
    if device.last_seen_at is None or now - device.last_seen_at >= SEEN_EVERY:
        changes["last_seen_at"] = now
    if changes:
        Device.objects.filter(organization_id=device.organization_id, pk=device.pk).update(
            **changes)
        for name, value in changes.items():
            setattr(device, name, value)


def device_check_in(*, member: Member, device_id: object, session_key: str | None) -> Device:
    """The phone that calls, as a pull begins (a push checks its phone in under the lock it
    takes: see ``push_apply``): ``member``'s own device, not revoked,
    recorded as seen (``device_seen``); anything else (another member's, another
    organization's, unknown, malformed) is a 404."""
    try:
        pk = uuid.UUID(str(device_id))
    except (ValueError, TypeError) as exc:
        raise Http404("No such device.") from exc
    device = (Device.objects.filter(pk=pk, organization_id=member.organization_id,
                                    member=member, revoked_at__isnull=True).first())
    if device is None:
        raise Http404("No such device.")
    # Its member is the caller, as read with its user and organization: not read again.
    Device.member.field.set_cached_value(device, member)
    device_seen(device=device, session_key=session_key)
    return device


def device_revoke(*, device: Device, by: Member, sign_out: bool = False) -> Device:
    """Stop a lost phone from pushing or pulling (its member or the office). With
    ``sign_out``, the login session it last synced with ends as well: otherwise the app, still
    logged in, would register a new device id and go on syncing. What it has not sent stays on
    the phone, and arrives once its member logs in on it again."""
    if by.organization_id != device.organization_id or (
            by.pk != device.member_id and not by.is_office):
        raise PermissionDenied(_("You may not revoke this device."))
    with transaction.atomic():
        # The device's row before the organization's, as a push of it locks them.
        device.revoked_at, device.session_key = (
            Device.objects.select_for_update(no_key=True).filter(pk=device.pk)
            .values_list("revoked_at", "session_key").get())
        changes: dict[str, list] = {}
        if device.revoked_at is None:
            device.revoked_at = timezone.now()
            device.save(update_fields=["revoked_at"])
            changes["revoked_at"] = [None, device.revoked_at]
        if sign_out and device.session_key:
            session_key = device.session_key
            device.session_key = ""
            device.save(update_fields=["session_key"])
            changes["signed_out"] = [False, True]
            transaction.on_commit(lambda: _end_session(session_key))
        if changes:
            audit_record(organization=by.organization, actor=by, action="device.revoke",
                         obj=device, changes=changes)
    return device


# --- Settings ---------------------------------------------------------------------------------

FIELD_SETTINGS = ("require_signature", "technicians_see_all", "photo_visibility",
                  "jobs_closed_by")


def field_settings_update(*, organization_id: int, by: Member, **changes: Any) -> FieldSettings:
    """Change the organization's rules for the technician app (``FIELD_SETTINGS``). Every
    phone starts again from a full snapshot afterwards (who sees what may have changed)."""
    unknown = set(changes) - set(FIELD_SETTINGS)
    if unknown:
        raise TypeError(f"Not a field setting: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        organization_write_lock(organization_id)
        settings, _created = FieldSettings.objects.select_for_update(no_key=True).get_or_create(
            organization_id=organization_id)
        before = {name: getattr(settings, name) for name in changes}
        for name, value in changes.items():
            setattr(settings, name, value)
        settings.full_clean(exclude=["organization"])
        changed = {name: [before[name], value] for name, value in changes.items()
                   if before[name] != value}
        if changed:
            settings.save(update_fields=[*changed, "updated_at"])
            # Who sees what may have changed: every phone starts again from a full snapshot.
            change_record(organization_id=organization_id, kind=ChangeKind.RESET)
            audit_record(organization=by.organization, actor=by, action="field.settings",
                         obj=settings, object_repr="Technician app settings", changes=changed)
    return settings
