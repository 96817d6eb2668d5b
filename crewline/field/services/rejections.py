"""Mutations a push could not apply: kept with their reason, told to the office, resolved by it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core import storable
from crewline.core.audit import audit_record, organization_write_lock
from crewline.core.models import Member
from crewline.field.models import (
    Device,
    RejectedMutation,
)
from crewline.notifications.models import NotificationKind
from crewline.notifications.services import notify_office

# --- Rejections -------------------------------------------------------------------------------

def rejected_record(*, device: Device, seq: int, name: str, args: Any,
                    client_time: dt.datetime | None, reason: str,
                    work_order_id: int | None) -> RejectedMutation:
    """Keep a refused mutation and tell the office (in-app notifications to owners and office
    staff), in the push's transaction."""
    # Kept as sent, less what the database cannot store (the reason says what was wrong).
    reason = storable.clean_text(reason)
    rejected = RejectedMutation.objects.create(
        organization_id=device.organization_id, device=device, seq=seq,
        name=storable.clean_text(name[:40]),
        args=storable.storable(args if isinstance(args, dict) else {"value": args}),
        client_time=client_time, reason=reason, work_order_id=work_order_id,
    )
    member = device.member
    notify_office(organization_id=device.organization_id, kind=NotificationKind.SYNC_REJECTED,
                  words=lambda: (_("A change from %(name)s's phone was not applied")
                                 % {"name": member.name}, reason),
                  url=reverse("field:rejected_list"),
                  data={"rejected": rejected.pk, "work_order_id": work_order_id},
                  exclude=member)
    return rejected


def rejected_resolve(*, rejected: RejectedMutation, by: Member) -> RejectedMutation:
    """The office has dealt with a rejected change; it stops showing on the phone."""
    if not by.is_office or by.organization_id != rejected.organization_id:
        raise PermissionDenied(_("Only the office resolves rejected changes."))
    with transaction.atomic():
        organization_write_lock(rejected.organization_id)
        rejected.refresh_from_db(fields=["resolved_at", "resolved_by"])
        if rejected.resolved_at is None:
            rejected.resolved_at, rejected.resolved_by = timezone.now(), by
            rejected.save(update_fields=["resolved_at", "resolved_by"])
            audit_record(organization=by.organization, actor=by, action="sync.resolve",
                         obj=rejected, changes={"resolved_at": [None, rejected.resolved_at]})
    return rejected
