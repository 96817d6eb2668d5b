"""Writes to webhooks: endpoints (added, changed, secret rotated, turned off, deleted), a test
event, and replays of events already sent. Each change of an endpoint is audited in its
transaction; the secret never is."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crewline.core.audit import audit_record
from crewline.core.models import Member, Organization, Role
from crewline.live.models import EVENTS, Change
from crewline.webhooks.models import (
    TEST_EVENT,
    DeliveryState,
    WebhookDelivery,
    WebhookEndpoint,
)
from crewline.webhooks.outbox import delivery_for, wake
from crewline.webhooks.urls_guard import UrlRefused, url_check

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of a Standard Webhooks secret
SECRET_BYTES = 32
# After a rotation the previous secret signs too, for receivers still holding it.
ROTATION_OVERLAP = dt.timedelta(hours=24)
MAX_REPLAY = 10_000
DISABLE_REASONS = {
    "gone": "The endpoint answered 410 Gone.",
    "failing": "Every attempt to deliver an event failed for about three days.",
}


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _clean(*, url: str, description: str, events: Iterable[str]) -> tuple[str, str, list[str]]:
    url = (url or "").strip()
    description = (description or "").strip()
    wanted = list(dict.fromkeys(events))
    errors: dict[str, list[str]] = {}
    if not url:
        errors["url"] = [_("Give the URL to send events to.")]
    elif len(url) > 500:
        errors["url"] = [_("At most 500 characters.")]
    else:
        try:
            url_check(url)
        except UrlRefused as exc:
            errors["url"] = [str(exc)]
    if len(description) > 200:
        errors["description"] = [_("At most 200 characters.")]
    unknown = [e for e in wanted if e not in EVENTS]
    if unknown:
        errors["events"] = [_("Unknown events: %(events)s") % {"events": ", ".join(unknown)}]
    elif not wanted:
        errors["events"] = [_("Choose at least one event.")]
    if errors:
        raise ValidationError(errors)
    return url, description, [e for e in EVENTS if e in wanted]


def _check_member(organization_id: int, by: Member | None) -> None:
    if by is not None and by.organization_id != organization_id:
        raise ValidationError(_("You are not a member of this organization."))


def endpoint_create(*, organization: Organization, by: Member | None, url: str,
                    events: Iterable[str], description: str = "",
                    enabled: bool = True) -> WebhookEndpoint:
    """Add an endpoint with a new secret; it is sent the ``events`` that happen from now on."""
    _check_member(organization.pk, by)
    url, description, events = _clean(url=url, description=description, events=events)
    endpoint = WebhookEndpoint(organization=organization, url=url, description=description,
                               events=events, enabled=enabled, secret=new_secret(),
                               created_by=by)
    with transaction.atomic():
        endpoint.save(force_insert=True)
        audit_record(organization=organization, actor=by, action="webhook_endpoint.create",
                     obj=endpoint, changes={"url": [None, url], "events": [None, events],
                                            "enabled": [None, enabled]})
    return endpoint


def endpoint_update(*, endpoint: WebhookEndpoint, by: Member | None, url: str,
                    events: Iterable[str], description: str = "",
                    enabled: bool = True) -> WebhookEndpoint:
    """Change an endpoint. Turning it on again sends the events that happen from then on;
    those missed meanwhile can be replayed."""
    _check_member(endpoint.organization_id, by)
    url, description, events = _clean(url=url, description=description, events=events)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = {"url": locked.url, "description": locked.description,
                  "events": locked.events, "enabled": locked.enabled}
        locked.url, locked.description, locked.events = url, description, events
        if enabled and not locked.enabled:
            locked.disabled_reason, locked.disabled_at = "", None
        elif not enabled and locked.enabled:
            locked.disabled_reason, locked.disabled_at = "", timezone.now()
            _skip_pending(locked)
        locked.enabled = enabled
        locked.save()
        after = {"url": url, "description": description, "events": events, "enabled": enabled}
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changes:
            audit_record(organization=locked.organization, actor=by,
                         action="webhook_endpoint.update", obj=locked, changes=changes)
    return locked


def _skip_pending(endpoint: WebhookEndpoint) -> int:
    return (WebhookDelivery.objects.filter(endpoint=endpoint, state=DeliveryState.PENDING)
            .update(state=DeliveryState.SKIPPED, lease_until=None))


def endpoint_secret_rotate(*, endpoint: WebhookEndpoint, by: Member | None) -> WebhookEndpoint:
    """A new secret signs from now on; the previous one signs too for ``ROTATION_OVERLAP``."""
    _check_member(endpoint.organization_id, by)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_until = timezone.now() + ROTATION_OVERLAP
        locked.secret = new_secret()
        locked.save(update_fields=["previous_secret", "previous_secret_until", "secret",
                                   "updated_at"])
        audit_record(organization=locked.organization, actor=by,
                     action="webhook_endpoint.rotate_secret", obj=locked,
                     changes={"previous_secret_until": [None, locked.previous_secret_until]})
    return locked


def endpoint_delete(*, endpoint: WebhookEndpoint, by: Member | None) -> None:
    """Delete an endpoint with its deliveries and their log."""
    _check_member(endpoint.organization_id, by)
    with transaction.atomic():
        audit_record(organization=endpoint.organization, actor=by,
                     action="webhook_endpoint.delete", obj=endpoint,
                     changes={"url": [endpoint.url, None]})
        endpoint.delete()


def endpoint_disable(*, endpoint: WebhookEndpoint, by: Member | None, reason: str) -> bool:
    """Turn the endpoint off for ``reason`` (``DISABLE_REASONS``: it answered 410, or failed
    for days); its pending deliveries are skipped and its owners emailed once this commits.
    False if it was off already."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if not locked.enabled:
            return False
        locked.enabled = False
        locked.disabled_reason = DISABLE_REASONS[reason]
        locked.disabled_at = timezone.now()
        locked.save(update_fields=["enabled", "disabled_reason", "disabled_at", "updated_at"])
        skipped = _skip_pending(locked)
        audit_record(organization=locked.organization, actor=by,
                     action="webhook_endpoint.disable", obj=locked,
                     changes={"enabled": [True, False], "reason": [None, reason],
                              "skipped": [None, skipped]})
        transaction.on_commit(lambda: owners_email_disabled(endpoint=locked))
    endpoint.enabled = False
    endpoint.disabled_reason = locked.disabled_reason
    return True


def owners_email_disabled(*, endpoint: WebhookEndpoint) -> int:
    """Tell the organization's owners that ``endpoint`` was turned off, and why."""
    owners = (Member.objects.filter(organization_id=endpoint.organization_id, role=Role.OWNER,
                                    is_active=True).select_related("user", "organization"))
    sent = 0
    link = settings.SITE_URL + reverse("webhooks:detail", args=[endpoint.pk])
    for owner in owners:
        with translation.override(owner.messages_language):
            subject = _("[%(org)s] A webhook endpoint was turned off") % {
                "org": owner.organization.name}
            text = render_to_string("webhooks/email/disabled.txt", {
                "endpoint": endpoint, "member": owner, "link": link,
                "reason": _(endpoint.disabled_reason)})
        send_mail(subject, text, None, [owner.user.email])
        sent += 1
    return sent


def webhook_test_send(*, endpoint: WebhookEndpoint, by: Member | None) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for the endpoint, sent like any other (while the endpoint
    is enabled)."""
    _check_member(endpoint.organization_id, by)
    now = timezone.now()
    at = now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    msg_id = f"test_{uuid.uuid4().hex}"
    payload = {"type": TEST_EVENT, "timestamp": at,
               "data": {"id": msg_id, "endpoint_id": endpoint.pk,
                        "message": "A test event from Crewline.", "created_at": at}}
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            organization_id=endpoint.organization_id, endpoint=endpoint, msg_id=msg_id,
            event=TEST_EVENT, resource_key=f"test:{msg_id}", payload=payload)
        transaction.on_commit(wake)
    return delivery


def webhook_replay(*, endpoint: WebhookEndpoint, by: Member | None,
                   change_id: int | None = None, since: dt.datetime | None = None,
                   until: dt.datetime | None = None) -> int:
    """Send again one event (``change_id``, its webhook id) or the endpoint's events between
    ``since`` and ``until``, in order, with their own ids (a receiver that has one already
    may skip it). Returns how many were queued."""
    _check_member(endpoint.organization_id, by)
    changes = Change.objects.filter(organization_id=endpoint.organization_id).exclude(event="")
    if change_id is not None:
        changes = changes.filter(pk=change_id)
        if not changes.exists():
            raise ValidationError({"event_id": ValidationError(
                _("No event with this id is kept."), code="not_found")})
    else:
        if since is None or until is None:
            raise ValidationError(_("Give the start and end of the time range."))
        for value in (since, until):
            if timezone.is_naive(value):
                raise ValueError("Times must be timezone-aware.")
        if until <= since:
            raise ValidationError({"until": _("The end must be after the start.")})
        changes = changes.filter(created_at__gte=since, created_at__lt=until,
                                 event__in=endpoint.events)
    rows = list(changes.order_by("id")[:MAX_REPLAY + 1])
    if len(rows) > MAX_REPLAY:
        raise ValidationError(_("More than %(n)s events: choose a shorter time range.")
                              % {"n": f"{MAX_REPLAY:,}"})
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(
            [delivery_for(change, endpoint.pk) for change in rows])
        audit_record(organization=endpoint.organization, actor=by,
                     action="webhook_endpoint.replay", obj=endpoint,
                     changes={"events": [None, len(deliveries)],
                              **({"event_id": [None, change_id]} if change_id else
                                 {"since": [None, since], "until": [None, until]})})
        if deliveries:
            transaction.on_commit(wake)
    return len(deliveries)
