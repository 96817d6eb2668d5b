"""Sending a planned message when it is due: checked against the job as it is then, written in
the customer's language, sent by email or text, and recorded on the job's timeline.

Each message is sent once however many workers look for it: the row is locked (PostgreSQL:
``FOR UPDATE SKIP LOCKED``; SQLite's transactions take the write lock when they begin) for as
long as it is being sent, and only a queued row is sent.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from crewline.billing.pdf import in_customer_language
from crewline.messaging.models import Channel, Message, MessageKind, MessageStatus
from crewline.messaging.services import (
    in_quiet_hours,
    is_opted_out,
    messaging_settings,
    quiet_hours_end,
    reminder_due,
    site_zone,
)
from crewline.messaging.sms import SmsError, sms_provider

logger = logging.getLogger(__name__)

# A worker may pick a delayed task up a little early by its own clock.
CLOCK_SLACK = dt.timedelta(seconds=2)
# "On my way" is worth sending only this long after the crew set off.
ON_MY_WAY_FRESH = dt.timedelta(minutes=30)
# Why a message was not sent, as the timeline says it (in the office's language).
TOO_LATE = gettext_noop("too late to say")
OPTED_OUT = gettext_noop("the number replied STOP")
NO_SMS = gettext_noop("text messages are not set up")
QUIET = gettext_noop("quiet hours")
# At most this many messages in one run; the next run takes the rest.
BATCH = 200


def send_due(now: dt.datetime | None = None) -> dict:
    """Send every queued message that is due; returns how many ended how."""
    now = now or timezone.now()
    ids = list(Message.objects.filter(status=MessageStatus.QUEUED,
                                      scheduled_for__lte=now + CLOCK_SLACK)
               .order_by("scheduled_for", "pk").values_list("pk", flat=True)[:BATCH])
    totals: dict[str, int] = {}
    for pk in ids:
        try:
            outcome = message_send(pk, now=now)
        except Exception:
            logger.exception("Message %s could not be sent", pk)
            outcome = "error"
        totals[outcome] = totals.get(outcome, 0) + 1
    return totals


def next_due() -> dt.datetime | None:
    return (Message.objects.filter(status=MessageStatus.QUEUED).order_by("scheduled_for")
            .values_list("scheduled_for", flat=True).first())


def _still_holds(message: Message, s, now: dt.datetime) -> tuple[str, str | dt.datetime]:
    """``("send", "")``, ``("later", when)``, ``("withdrawn", why)`` or ``("skipped", why)``."""
    from crewline.workorders.models import Status, VisitStatus

    visit, wo = message.visit, message.work_order
    tz = site_zone(wo)
    if not s.allows(message.kind):
        return "withdrawn", "turned off in the settings"
    if message.kind in (MessageKind.CONFIRMATION, MessageKind.REMINDER):
        if visit.status != VisitStatus.SCHEDULED or visit.start is None:
            return "withdrawn", f"visit {visit.get_status_display().lower()}"
        if visit.start <= now:
            return "withdrawn", "visit started"
        if message.kind == MessageKind.REMINDER and not message.corrected:
            due = reminder_due(s, visit.start, tz)
            if due > now + CLOCK_SLACK:
                return "later", due
    elif message.kind == MessageKind.ON_MY_WAY:
        if visit.status != VisitStatus.EN_ROUTE:
            return "withdrawn", f"visit {visit.get_status_display().lower()}"
        if now - message.created_at > ON_MY_WAY_FRESH:
            return "skipped", TOO_LATE
    elif message.kind == MessageKind.CANCELLED:
        if visit.status != VisitStatus.CANCELLED:
            return "withdrawn", "visit back on"
    elif message.kind in (MessageKind.COMPLETED, MessageKind.FEEDBACK) and wo.status not in (
            Status.COMPLETED, Status.INVOICED):
        return "withdrawn", "work order reopened"
    if message.channel == Channel.SMS:
        if is_opted_out(message.organization_id, message.to):
            return "skipped", OPTED_OUT
        if sms_provider() is None:
            return "skipped", NO_SMS
        if in_quiet_hours(s, now, tz):
            if message.kind == MessageKind.ON_MY_WAY:
                return "skipped", QUIET
            return "later", quiet_hours_end(s, now, tz)
    return "send", ""


def message_send(message_id: int, *, now: dt.datetime | None = None) -> str:
    """Send message ``message_id`` if it is queued and due, once; returns what became of it."""
    now = now or timezone.now()
    with transaction.atomic():
        message = (Message.objects.select_for_update(of=("self",), skip_locked=True)
                   .select_related("work_order__organization", "work_order__customer",
                                   "work_order__site", "visit", "customer")
                   .filter(pk=message_id, status=MessageStatus.QUEUED).first())
        if message is None:
            return "taken"
        if message.scheduled_for > now + CLOCK_SLACK:
            return "not due"
        s = messaging_settings(message.organization_id)
        verdict, detail = _still_holds(message, s, now)
        if verdict == "later":
            message.scheduled_for = detail
            message.save(update_fields=["scheduled_for", "updated_at"])
            return "later"
        if verdict in ("withdrawn", "skipped"):
            message.status = verdict
            message.error = str(detail)[:500]
            message.save(update_fields=["status", "error", "updated_at"])
            if verdict == "skipped":
                _record(message, "message_skipped")
            return verdict
        message.subject, message.body = render(message)
        try:
            if message.channel == Channel.SMS:
                sent = sms_provider().send(to=message.to, body=message.body,
                                           status_callback=settings.SITE_URL + reverse(
                                               "messaging_hooks:twilio_status"))
                message.provider_id = sent.provider_id[:64]
                if sent.status in ("delivered",):
                    message.delivered_at = now
            else:
                _email(message)
        except (SmsError, OSError) as exc:
            from crewline.messaging.services import opt_out_set

            message.status = MessageStatus.FAILED
            message.error = str(exc)[:500]
            if isinstance(exc, SmsError) and exc.opted_out:
                opt_out_set(organization_id=message.organization_id, number=message.to,
                            out=True, keyword="carrier")
            message.save(update_fields=["status", "error", "subject", "body", "updated_at"])
            _record(message, "message_failed")
            return "failed"
        message.status = (MessageStatus.DELIVERED if message.delivered_at
                          else MessageStatus.SENT)
        message.sent_at = now
        message.save(update_fields=["status", "subject", "body", "provider_id", "sent_at",
                                    "delivered_at", "updated_at"])
        _record(message, "message_sent")
    return "sent"


def _email(message: Message) -> None:
    organization = message.work_order.organization
    email = EmailMultiAlternatives(
        f"[{organization.name}] {message.subject}", message.body, None, [message.to],
        reply_to=[organization.email] if organization.email else None)
    email.send()


def _link(message: Message) -> str:
    """A new link to the customer's portal: its home (the job report) or the feedback page."""
    from crewline.portal.services import portal_link_issue

    _link_row, token = portal_link_issue(customer=message.customer, by=None,
                                         sent_to=message.to if "@" in message.to else "")
    if message.kind == MessageKind.FEEDBACK:
        return settings.SITE_URL + reverse("messaging_public:feedback",
                                           args=[token, message.work_order.number])
    return settings.SITE_URL + reverse("portal_public:home", args=[token])


SUBJECTS = {
    MessageKind.CONFIRMATION: lambda c: (_("Your visit has moved: %(when)s") if c.get("moved")
                                         else _("Your visit is booked: %(when)s")),
    MessageKind.REMINDER: lambda c: (_("Your visit has moved: %(when)s") if c.get("corrected")
                                     else _("Reminder: your visit %(when)s")),
    MessageKind.ON_MY_WAY: lambda c: _("We are on our way"),
    MessageKind.COMPLETED: lambda c: _("Job completed: %(ref)s"),
    MessageKind.FEEDBACK: lambda c: _("How did we do? %(ref)s"),
    MessageKind.CANCELLED: lambda c: _("Your visit is cancelled: %(when)s"),
}


@in_customer_language
def _rendered(message: Message) -> tuple[str, str]:
    from django.template.defaultfilters import date as date_filter

    wo, visit = message.work_order, message.visit
    organization = wo.organization
    tz = site_zone(wo)
    context = dict(message.context or {}, corrected=message.corrected)
    start = end = None
    if visit is not None:
        start, end = visit.start, visit.end
        if message.kind == MessageKind.CANCELLED and context.get("start"):
            start = dt.datetime.fromisoformat(context["start"])
            end = dt.datetime.fromisoformat(context["end"]) if context.get("end") else None
    start = timezone.localtime(start, tz) if start else None
    end = timezone.localtime(end, tz) if end else None
    eta = context.get("eta")
    eta = timezone.localtime(dt.datetime.fromisoformat(eta), tz) if eta else None
    when = ""
    if start is not None:
        when = _("%(day)s, %(from)s–%(to)s") % {
            "day": date_filter(start, pgettext("a visit's day in a message", "l j F")),
            "from": date_filter(start, "TIME_FORMAT"),
            "to": date_filter(end, "TIME_FORMAT") if end else ""}
    crew = []
    if visit is not None and message.kind == MessageKind.ON_MY_WAY:
        crew = [m.user.full_name.split(" ")[0] for m in
                visit.crew.select_related("user").order_by("pk") if m.user.full_name]
    link = context.get("link") or ""
    if message.kind in (MessageKind.COMPLETED, MessageKind.FEEDBACK):
        link = _link(message)
    template_context = {
        **context, "organization": organization, "customer": message.customer, "wo": wo,
        "when": when,
        "start": start, "end": end, "eta": eta and date_filter(eta, "TIME_FORMAT"),
        "crew": crew, "link": link, "sms": message.channel == Channel.SMS,
        "site": wo.site.one_line_address if wo.site_id else ""}
    body = render_to_string(f"messaging/text/{message.kind}.txt", template_context).strip()
    subject = SUBJECTS[message.kind](context) % {"when": when, "ref": wo.reference}
    return subject, body


def render(message: Message) -> tuple[str, str]:
    """The message's subject and text, in its customer's language, from the job as it is."""
    return _rendered(message)


def _record(message: Message, event: str) -> None:
    """The message on its job's timeline, in the words of the office's language."""
    from crewline.workorders import timeline

    wo = message.work_order
    with translation.override(wo.organization.language):
        kind = message.get_kind_display()
        channel = message.get_channel_display()
        if event == "message_sent":
            line = _("%(kind)s sent by %(channel)s to %(to)s") % {
                "kind": kind, "channel": channel.lower(), "to": message.to}
            body = f"{line}: {message.body}"
        elif event == "message_failed":
            body = _("%(kind)s by %(channel)s to %(to)s failed: %(why)s") % {
                "kind": kind, "channel": channel.lower(), "to": message.to,
                "why": message.error}
        else:
            body = _("%(kind)s by %(channel)s to %(to)s not sent: %(why)s") % {
                "kind": kind, "channel": channel.lower(), "to": message.to,
                "why": _(message.error)}
    timeline.system_recorded(work_order=wo, by=None, event=event, body=body,
                             visit=message.visit if message.visit_id else None,
                             message=message.pk, channel=message.channel, kind=message.kind,
                             to=message.to[:320], error=message.error[:500])
