"""Writes to notifications: made from visit changes, batched, read by their recipient.

Reading one's own notifications is not a change to the organization's data, so it leaves no
audit entry; the visit change a notification reports is audited by the service that made it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from crewline.core.audit import to_json_value
from crewline.core.models import Member, Organization, Role
from crewline.field.links import app_visit_path
from crewline.live.models import ChangeKind
from crewline.live.services import change_record
from crewline.notifications.models import (
    OFFICE_KINDS,
    TECHNICIAN_KINDS,
    LateReason,
    LateVisitNotice,
    Notification,
    NotificationKind,
    NotificationPreference,
    PushSubscription,
)
from crewline.notifications.wording import VisitLabel, describe_late_visit, describe_visit_change
from crewline.workorders.models import Visit

# Changes of the same visit for the same member closer together than this become one
# notification, and its email goes out once this long has passed since the last of them.
BATCH_WINDOW = dt.timedelta(seconds=60)

STATE_KEYS = ("start", "end", "crew", "status")


def _state(values: Mapping[str, Any] | None) -> dict[str, Any]:
    if not values:
        return {}
    state = {key: to_json_value(_utc(values.get(key))) for key in STATE_KEYS}
    state["crew"] = sorted(int(pk) for pk in (values.get("crew") or []))
    return state


def _utc(value: Any) -> Any:
    return value.astimezone(dt.UTC) if isinstance(value, dt.datetime) else value


def visit_batch_key(visit_id: int) -> str:
    return f"visit:{visit_id}"


def _url_for(member: Member, visit: Visit) -> str:
    if member.is_office:
        return reverse("workorders:detail", kwargs={"number": visit.work_order.number})
    # The visit in the technician app (from a browser too: the same link as emails and pushes).
    return app_visit_path(visit.pk)


def notify_visit_changed(*, visit: Visit, by: Member | None, change: str,
                         before: Mapping[str, Any] | None,
                         after: Mapping[str, Any]) -> list[Notification]:
    """Tell every member on the visit's crew, before or after the change, what it means to them.

    Never the member who made the change. A change close after an earlier one of the same visit,
    whose notification is still unread and not yet emailed, rewrites that notification from the
    oldest ``before`` to the newest ``after``; when those are the same for a member, the
    notification is deleted. Call inside the transaction of the change (the ``visit_changed``
    receiver does). Returns the notifications written or rewritten.
    """
    before_state, after_state = _state(before), _state(after)
    affected = set(before_state.get("crew", [])) | set(after_state.get("crew", []))
    if by is not None:
        affected.discard(by.pk)
    if not affected:
        return []
    now = timezone.now()
    members = {m.pk: m for m in Member.objects.select_related("user", "organization").filter(
        organization_id=visit.organization_id,
        pk__in=affected | set(before_state.get("crew", [])) | set(after_state["crew"]))}
    names = {pk: m.name for pk, m in members.items()}
    visit = (Visit.objects.select_related("organization", "work_order__customer")
             .get(pk=visit.pk))
    wo = visit.work_order
    label = VisitLabel(reference=wo.reference, title=wo.title, customer=wo.customer.name)
    tz = visit.organization.tzinfo
    key = visit_batch_key(visit.pk)
    pending: dict[int, Notification] = {}
    for notification in (Notification.objects.select_for_update()
                         .filter(organization_id=visit.organization_id, batch_key=key,
                                 recipient_id__in=affected, read_at__isnull=True,
                                 emailed_at__isnull=True, updated_at__gte=now - BATCH_WINDOW)
                         .order_by("updated_at", "id")):
        pending[notification.recipient_id] = notification  # the newest one wins

    written: list[Notification] = []
    for member_id in sorted(affected):
        member = members.get(member_id)
        if member is None or not member.is_active:
            continue
        existing = pending.get(member_id)
        first_before = existing.data.get("before", {}) if existing else before_state
        with translation.override(member.messages_language):
            message = describe_visit_change(member_id=member_id, before=first_before,
                                            after=after_state, label=label, tz=tz,
                                            names=names)
        if message is None:
            if existing is not None:
                existing.delete()
                _written(existing, push=False)
            continue
        data = {"visit": visit.pk, "work_order": wo.number, "before": first_before,
                "after": after_state,
                "changes": [*(existing.data.get("changes", []) if existing else []), change]}
        if existing is not None:
            existing.kind, existing.title, existing.body = (message.kind, message.title[:200],
                                                            message.body)
            existing.data, existing.updated_at = data, now
            existing.url = _url_for(member, visit)
            existing.save(update_fields=["kind", "title", "body", "data", "url", "updated_at"])
            # The phone replaces the alert it shows for it, which has the same tag.
            notification = existing
        else:
            notification = Notification.objects.create(
                organization_id=visit.organization_id, recipient=member, kind=message.kind,
                title=message.title[:200], body=message.body, url=_url_for(member, visit),
                data=data, batch_key=key, created_at=now, updated_at=now,
            )
        written.append(notification)
        _written(notification)
        if wants_email(member, notification.kind):
            _enqueue_email(notification)
    return written


def wants_email(member: Member, kind: str) -> bool:
    """Whether ``member`` wants ``kind`` by email: email notifications on, an address, and this
    kind not switched off on the notifications page."""
    if not (member.is_active and member.notify_by_email and member.user.email):
        return False
    return not NotificationPreference.objects.filter(member=member, kind=kind,
                                                     email=False).exists()


def kinds_for(member: Member) -> list[str]:
    """The kinds of notification a member of this role receives."""
    return [*OFFICE_KINDS, *TECHNICIAN_KINDS] if member.is_office else list(TECHNICIAN_KINDS)


def email_choices(*, member: Member) -> dict[str, bool]:
    """For each kind the member receives, whether it goes by email (default: yes)."""
    off = set(NotificationPreference.objects.filter(organization_id=member.organization_id,
                                                    member=member, email=False)
              .values_list("kind", flat=True))
    return {kind: kind not in off for kind in kinds_for(member)}


def notification_preferences_set(*, email_kinds: set[str], by: Member) -> dict[str, bool]:
    """Save which kinds of notification ``by`` wants by email; the rest only in the app."""
    from crewline.core.audit import audit_record

    with transaction.atomic():
        before = email_choices(member=by)
        after = {kind: kind in email_kinds for kind in before}
        for kind, email in after.items():
            NotificationPreference.objects.update_or_create(
                organization_id=by.organization_id, member=by, kind=kind,
                defaults={"email": email})
        changes = {kind: [before[kind], after[kind]] for kind in after
                   if before[kind] != after[kind]}
        if changes:
            audit_record(organization=by.organization, actor=by,
                         action="notification_preferences.update", obj=by, changes=changes)
    return after


def notify_office(*, organization_id: int, kind: str, title: str = "", body: str = "",
                  url: str = "", data: Mapping[str, Any] | None = None,
                  exclude: Member | None = None,
                  words: Callable[[], tuple[str, str]] | None = None) -> list[Notification]:
    """Tell every active owner and office member of the organization (except ``exclude``).

    ``words``, when given, is called under each recipient's language for the title and body
    (once per language) instead of ``title`` and ``body``: for messages made without a request,
    by a background task. Call inside the transaction of the event; emails (for those who want
    this kind) are queued once it commits."""
    recipients = (Member.objects.select_related("user", "organization")
                  .filter(organization_id=organization_id, is_active=True,
                          role__in=[Role.OWNER, Role.OFFICE]))
    if exclude is not None:
        recipients = recipients.exclude(pk=exclude.pk)
    now = timezone.now()
    written = []
    by_language: dict[str, tuple[str, str]] = {}
    for member in recipients:
        if words is not None:
            language = member.messages_language
            if language not in by_language:
                with translation.override(language):
                    by_language[language] = words()
            title, body = by_language[language]
        notification = Notification.objects.create(
            organization_id=organization_id, recipient=member, kind=kind, title=title[:200],
            body=body, url=url, data=dict(data or {}), created_at=now, updated_at=now)
        written.append(notification)
        _written(notification)
        if wants_email(member, kind):
            _enqueue_email(notification)
    return written


# A visit that became late longer ago than this is not told about: the first check after an
# upgrade, or after the worker was down a day, does not bring up weeks of stale visits.
LATE_NOTICE_WITHIN = dt.timedelta(hours=12)


def late_visits_notify(*, organization: Organization,
                       now: dt.datetime) -> list[LateVisitNotice]:
    """Tell the office of each visit that became late since the last check.

    Late is what the dashboard says (``late_arrivals``: nobody on site by the end of the window;
    ``overruns``: on site longer than planned), and only if it became late within
    ``LATE_NOTICE_WITHIN`` of ``now``. Each visit is told once per reason: a ``LateVisitNotice``
    is written in the same transaction as the notifications, and a concurrent check that loses
    the race for its unique key tells nobody. Returns the notices written by this call.
    """
    from crewline.dashboard.selectors import late_arrivals, overruns

    since = now - LATE_NOTICE_WITHIN
    late: list[tuple[str, Visit, dt.datetime]] = [
        (LateReason.ARRIVAL, visit, visit.end)
        for visit in late_arrivals(organization, now).filter(end__gte=since)]
    late += [(LateReason.OVERRUN, visit, visit.due_at)
             for visit in overruns(organization, now) if visit.due_at >= since]
    if not late:
        return []
    told = _late_notices(organization, {visit.pk for _reason, visit, _at in late})
    written = []
    for reason, visit, late_at in late:
        if (visit.pk, reason) in told:
            continue
        with transaction.atomic():
            notice, created = LateVisitNotice.objects.get_or_create(
                organization=organization, visit=visit, reason=reason,
                defaults={"late_at": late_at, "created_at": now})
            if not created:  # another check got there first
                continue
            _notify_late(organization=organization, visit=visit, reason=reason,
                         late_at=late_at)
        written.append(notice)
    return written


def _late_notices(organization: Organization, visit_ids: set[int]) -> set[tuple[int, str]]:
    """(visit, reason) pairs the office has already been told about."""
    return set(LateVisitNotice.objects.filter(organization=organization, visit_id__in=visit_ids)
               .values_list("visit_id", "reason"))


def _notify_late(*, organization: Organization, visit: Visit, reason: str,
                 late_at: dt.datetime) -> None:
    wo = visit.work_order
    label = VisitLabel(reference=wo.reference, title=wo.title, customer=wo.customer.name)

    def words() -> tuple[str, str]:
        message = describe_late_visit(
            reason=reason, status=visit.status, label=label, start=visit.start, end=visit.end,
            arrived_at=visit.arrived_at, due_at=late_at,
            crew=[member.name for member in visit.crew.all()], tz=organization.tzinfo)
        return message.title, message.body

    notify_office(
        organization_id=organization.pk, kind=NotificationKind.JOB_LATE, words=words,
        url=reverse("workorders:detail", kwargs={"number": wo.number}),
        data={"work_order": wo.number, "visit": visit.pk, "reason": reason,
              "late_at": to_json_value(_utc(late_at))},
    )


def push_subscription_save(*, endpoint: str, p256dh: str, auth: str,
                           by: Member) -> PushSubscription | None:
    """Keep ``by``'s browser push subscription; subscribing again updates its keys.

    Never takes a subscription from another member. Where someone else keeps this endpoint,
    ``by`` gets a row of their own only if the browser shows that subscription's keys, so it
    holds it (a phone that two technicians share). With other keys nothing is stored and None
    is returned; the caller answers as if it were stored, so an endpoint learnt elsewhere tells
    nothing and brings nobody's alerts.
    """
    with transaction.atomic():
        own = (PushSubscription.objects.select_for_update()
               .filter(member=by, endpoint=endpoint).first())
        if own is not None:
            if (own.p256dh, own.auth) != (p256dh, auth):
                own.p256dh, own.auth = p256dh, auth
                own.save(update_fields=["p256dh", "auth"])
            return own
        others = PushSubscription.objects.filter(endpoint=endpoint).exclude(member=by)
        if others.exists() and not others.filter(p256dh=p256dh, auth=auth).exists():
            return None
        try:
            with transaction.atomic():
                return PushSubscription.objects.create(
                    organization_id=by.organization_id, member=by, endpoint=endpoint,
                    p256dh=p256dh, auth=auth)
        except IntegrityError:  # the same browser, twice at once
            return PushSubscription.objects.get(member=by, endpoint=endpoint)


def push_subscription_delete(*, endpoint: str, by: Member) -> int:
    """Forget one of ``by``'s push subscriptions; returns how many were deleted."""
    deleted, _ = PushSubscription.objects.filter(member=by, endpoint=endpoint).delete()
    return deleted


def _written(notification: Notification, *, push: bool = True) -> None:
    """After a notification was written, rewritten or deleted, in its transaction: the
    recipient's phones hear of it from the change log, and (``push``) its Web Push goes to the
    recipient's browsers once the transaction commits."""
    change_record(organization_id=notification.organization_id, kind=ChangeKind.NOTIFICATION,
                  object_id=notification.recipient_id)
    if push and settings.VAPID_PRIVATE_KEY:
        from crewline.notifications.tasks import send_notification_push

        notification_id = notification.pk
        transaction.on_commit(lambda: send_notification_push.enqueue(notification_id))


def _enqueue_email(notification: Notification) -> None:
    """Queue the email for when the batch has been quiet for ``BATCH_WINDOW``.

    Every change queues its own task; the task sends only once the notification has been left
    alone for the window, so only the last of a batch sends. A backend that cannot delay (the
    tests' immediate one) runs the task at once, which then waits for a later call.
    """
    from crewline.notifications.tasks import send_notification_email

    task = send_notification_email
    if not notification.batch_key:
        transaction.on_commit(lambda: task.enqueue(notification.pk))
        return
    if task.get_backend().supports_defer:
        task = task.using(run_after=notification.updated_at + BATCH_WINDOW)
    task.enqueue(notification.pk)


def notification_mark_read(*, notification: Notification, by: Member) -> Notification:
    """Mark one of ``by``'s own notifications read (no-op when it already is)."""
    if notification.recipient_id != by.pk:
        raise PermissionError("Members mark only their own notifications read.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        with transaction.atomic():
            Notification.objects.filter(organization_id=notification.organization_id,
                                        pk=notification.pk, read_at__isnull=True).update(
                read_at=notification.read_at)
            _written(notification, push=False)  # the member's other phones mark it read too
    return notification


def notification_mark_all_read(*, by: Member) -> int:
    """Mark all of ``by``'s unread notifications read; returns how many there were."""
    with transaction.atomic():
        count = Notification.objects.filter(recipient=by, read_at__isnull=True).update(
            read_at=timezone.now())
        if count:
            change_record(organization_id=by.organization_id, kind=ChangeKind.NOTIFICATION,
                          object_id=by.pk)
        return count
