"""Planning messages to customers, and what customers answer.

The services of the job record call in here after their writes (through the signals listed in
DEVELOPERS.md, "After a write"), inside their transactions: rows are written or changed, and
sending waits for the commit (``crewline.messaging.tasks``). What a contractor would expect:

- A visit booked (or first given a time): a confirmation at once, and a reminder planned for
  the organization's reminder time the day before. A visit booked after that time gets the
  confirmation only.
- A visit moved: its pending reminder is re-planned (never a second one). Moved inside the
  reminder window (the reminder for the new time is due already), one corrected reminder goes
  at once, and no confirmation beside it; moved further out, a confirmation of the new time.
  A confirmation still waiting carries the new time by itself: it is written when sent.
- A visit cancelled: what is waiting for it is withdrawn, and a customer who was told of it
  is told it is off.
- The crew sets off: "on my way" (once per visit), with an ETA and a link when the caller
  has them. It is sent at once or not at all: in quiet hours it is not sent (a contractor who
  set quiet hours does not text customers at night, and a late "on my way" is noise).
- A work order completed: "completed" with a link to the customer's portal (the job report),
  and a feedback request some hours later.

Quiet hours hold text messages only (an email does not ring): one due in them waits for their
end, except "on my way" (above). STOP from a number stops every text to it until START.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core.audit import audit_record
from crewline.core.models import Member, Organization
from crewline.customers.models import Contact, Customer
from crewline.messaging.models import (
    Channel,
    ChannelChoice,
    Feedback,
    Message,
    MessageKind,
    MessageStatus,
    MessagingSettings,
    SmsOptOut,
)
from crewline.messaging.sms import normalize_number, sms_configured

logger = logging.getLogger(__name__)

OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "UNSTOP", "YES"}
# Kinds about one visit's time: withdrawn when it is cancelled or no longer scheduled.
VISIT_TIME_KINDS = (MessageKind.CONFIRMATION, MessageKind.REMINDER)


# --- Settings ------------------------------------------------------------------------------------

def messaging_settings(organization: Organization | int) -> MessagingSettings:
    """The organization's messaging settings (the defaults until the owner changes them)."""
    org_id = organization if isinstance(organization, int) else organization.pk
    found = MessagingSettings.objects.filter(organization_id=org_id).first()
    if found is not None:
        return found
    return MessagingSettings.objects.get_or_create(organization_id=org_id)[0]


def messaging_settings_update(*, organization: Organization, by: Member,
                              values: dict) -> MessagingSettings:
    with transaction.atomic():
        current = messaging_settings(organization)
        before = {k: _plain(getattr(current, k)) for k in values}
        for key, value in values.items():
            setattr(current, key, value)
        current.full_clean(exclude=["organization"])
        current.save()
        changes = {k: [before[k], _plain(v)] for k, v in values.items()
                   if before[k] != _plain(v)}
        if changes:
            audit_record(organization=organization, actor=by, action="messaging.settings",
                         obj=organization, changes=changes)
        if "reminder_time" in changes:
            _reminders_replan(organization, current)
    return current


def _reminders_replan(organization: Organization, s: MessagingSettings) -> None:
    """The waiting reminders at the new reminder time (a later one would otherwise wait for
    its old time to be looked at)."""
    for reminder in (Message.objects.select_for_update(of=("self",))
                     .select_related("visit", "work_order__site", "work_order__organization")
                     .filter(organization_id=organization.pk, kind=MessageKind.REMINDER,
                             status=MessageStatus.QUEUED, corrected=False,
                             visit__start__isnull=False)):
        reminder.scheduled_for = reminder_due(s, reminder.visit.start,
                                              site_zone(reminder.work_order))
        reminder.save(update_fields=["scheduled_for", "updated_at"])


def _plain(value):
    return value.isoformat() if isinstance(value, dt.time) else value


# --- Times ----------------------------------------------------------------------------------------

def site_zone(work_order):
    """The zone of the customer's side of ``work_order``: its site's own, else the
    organization's. Quiet hours, the reminder's hour and the times a message writes are in it."""
    site = work_order.site
    return site.tzinfo if site is not None else work_order.organization.tzinfo


def in_quiet_hours(s: MessagingSettings, when: dt.datetime, tz) -> bool:
    if s.quiet_start is None or s.quiet_end is None or s.quiet_start == s.quiet_end:
        return False
    local = when.astimezone(tz).time()
    if s.quiet_start < s.quiet_end:
        return s.quiet_start <= local < s.quiet_end
    return local >= s.quiet_start or local < s.quiet_end


def quiet_hours_end(s: MessagingSettings, when: dt.datetime, tz) -> dt.datetime:
    """When the quiet hours ``when`` falls in end (``when`` itself outside them)."""
    if not in_quiet_hours(s, when, tz):
        return when
    local = when.astimezone(tz)
    end = dt.datetime.combine(local.date(), s.quiet_end, tzinfo=tz)
    if end <= local:
        end = dt.datetime.combine(local.date() + dt.timedelta(days=1), s.quiet_end, tzinfo=tz)
    return end


def reminder_due(s: MessagingSettings, start: dt.datetime, tz) -> dt.datetime:
    """The reminder time of the day before ``start``, in the zone ``tz`` (the site's)."""
    day_before = start.astimezone(tz).date() - dt.timedelta(days=1)
    return dt.datetime.combine(day_before, s.reminder_time, tzinfo=tz)


# --- Who gets it ----------------------------------------------------------------------------------

def _primary_contact(customer: Customer, field: str) -> str:
    contact = (Contact.objects.filter(organization_id=customer.organization_id,
                                      customer=customer, archived_at__isnull=True)
               .exclude(**{field: ""}).order_by("-is_primary", "name", "id").first())
    return getattr(contact, field) if contact else ""


def customer_email(customer: Customer) -> str:
    return customer.email or _primary_contact(customer, "email")


def customer_mobile(customer: Customer, country: str = "US") -> str:
    """The customer's number as E.164 (theirs, else their primary contact's), or ""."""
    return (normalize_number(customer.phone, country)
            or normalize_number(_primary_contact(customer, "phone"), country))


def recipients(s: MessagingSettings, customer: Customer,
               organization: Organization) -> list[tuple[str, str]]:
    """``(channel, address)`` the organization's choice of channel sends to: a text when SMS is
    set up and the customer has a number, else email."""
    email = customer_email(customer)
    mobile = customer_mobile(customer, organization.country) if (
        s.channel != ChannelChoice.EMAIL and sms_configured()) else ""
    found: list[tuple[str, str]] = []
    if mobile:
        found.append((Channel.SMS, mobile))
    if email and (s.channel != ChannelChoice.SMS or not mobile):
        found.append((Channel.EMAIL, email))
    return found


# --- Planning -------------------------------------------------------------------------------------

def _plan(*, kind: str, work_order, customer: Customer, organization: Organization,
          s: MessagingSettings, due: dt.datetime, visit=None, context: dict | None = None,
          corrected: bool = False) -> list[Message]:
    """Queue ``kind`` for each channel the customer is reached by, due at ``due``; a pending one
    of the same kind for the visit and channel is re-planned instead. Wakes the worker on
    commit."""
    planned = []
    for channel, to in recipients(s, customer, organization):
        pending = None
        if visit is not None:
            pending = (Message.objects.select_for_update()
                       .filter(organization_id=organization.pk, visit=visit, kind=kind,
                               channel=channel, status=MessageStatus.QUEUED).first())
        if pending is not None:
            pending.scheduled_for, pending.to = due, to
            pending.corrected = pending.corrected or corrected
            if context is not None:
                pending.context = context
            pending.save(update_fields=["scheduled_for", "to", "corrected", "context",
                                        "updated_at"])
            planned.append(pending)
            continue
        planned.append(Message.objects.create(
            organization_id=organization.pk, kind=kind, work_order=work_order, visit=visit,
            customer=customer, channel=channel, to=to, scheduled_for=due,
            context=context or {}, corrected=corrected, language=customer.language_code))
    if planned:
        from crewline.messaging.tasks import wake

        transaction.on_commit(wake)
    return planned


def _withdraw(*, organization_id: int, visit, kinds: Iterable[str], why: str) -> int:
    return (Message.objects.filter(organization_id=organization_id, visit=visit,
                                   kind__in=list(kinds), status=MessageStatus.QUEUED)
            .update(status=MessageStatus.WITHDRAWN, error=why[:500],
                    updated_at=timezone.now()))


def _plan_reminder(*, visit, work_order, customer, organization, s, now) -> None:
    if not s.reminder or visit.start is None:
        _withdraw(organization_id=organization.pk, visit=visit, kinds=[MessageKind.REMINDER],
                  why="reminders are off" if not s.reminder else "no time")
        return
    due = reminder_due(s, visit.start, site_zone(work_order))
    if due <= now:
        # Booked inside the window: the confirmation just sent says when.
        _withdraw(organization_id=organization.pk, visit=visit, kinds=[MessageKind.REMINDER],
                  why="inside the reminder window")
        return
    _plan(kind=MessageKind.REMINDER, work_order=work_order, customer=customer,
          organization=organization, s=s, due=due, visit=visit)


def _sent_before(organization_id: int, visit, kinds: Iterable[str]) -> bool:
    return Message.objects.filter(
        organization_id=organization_id, visit=visit, kind__in=list(kinds),
        status__in=[MessageStatus.SENT, MessageStatus.DELIVERED]).exists()


def visit_messages_plan(*, visit, change: str, before: dict, after: dict,
                        now: dt.datetime | None = None) -> None:
    """After a visit changed (``workorders.signals.visit_changed``), in its transaction."""
    from crewline.workorders.models import VisitStatus

    now = now or timezone.now()
    work_order = visit.work_order
    organization = work_order.organization
    customer = work_order.customer
    s = messaging_settings(organization)
    org_id = organization.pk
    if change == "cancelled":
        _withdraw(organization_id=org_id, visit=visit,
                  kinds=[*VISIT_TIME_KINDS, MessageKind.ON_MY_WAY], why="visit cancelled")
        start = before.get("start")
        if (s.allows(MessageKind.CANCELLED) and start is not None and start > now
                and _sent_before(org_id, visit, VISIT_TIME_KINDS)):
            _plan(kind=MessageKind.CANCELLED, work_order=work_order, customer=customer,
                  organization=organization, s=s, due=now, visit=visit,
                  context={"start": start.isoformat(),
                           "end": before["end"].isoformat() if before.get("end") else ""})
        return
    if change == "status":
        if after.get("status") == VisitStatus.EN_ROUTE and before.get("status") == (
                VisitStatus.SCHEDULED):
            eta, link = _tracking(visit)
            message_on_my_way(visit=visit, eta=eta, link=link, now=now)
        if after.get("status") != VisitStatus.SCHEDULED:
            _withdraw(organization_id=org_id, visit=visit, kinds=VISIT_TIME_KINDS,
                      why="visit under way")
        return
    # A visit given a new crew and a new time at once is "crew_changed": the time decides.
    if change not in ("added", "assigned", "moved", "resized", "crew_changed"):
        return
    if visit.start is None or visit.status != VisitStatus.SCHEDULED or visit.start <= now:
        _withdraw(organization_id=org_id, visit=visit, kinds=VISIT_TIME_KINDS,
                  why="no time ahead")
        return
    was = before.get("start")
    if was is not None and was == visit.start:
        return  # a new end or crew: what the customer was told still holds
    waiting = Message.objects.filter(organization_id=org_id, visit=visit,
                                     kind=MessageKind.CONFIRMATION,
                                     status=MessageStatus.QUEUED).exists()
    inside_window = reminder_due(s, visit.start, site_zone(work_order)) <= now
    if waiting:
        pass  # written when sent, from the visit's time then
    elif was is not None and inside_window and s.reminder and _sent_before(
            org_id, visit, VISIT_TIME_KINDS):
        # Moved inside the reminder window: one corrected reminder now, not two messages.
        _plan(kind=MessageKind.REMINDER, work_order=work_order, customer=customer,
              organization=organization, s=s, due=now, visit=visit, corrected=True)
        return
    elif s.confirmation:
        _plan(kind=MessageKind.CONFIRMATION, work_order=work_order, customer=customer,
              organization=organization, s=s, due=now, visit=visit,
              context={"moved": was is not None})
    _plan_reminder(visit=visit, work_order=work_order, customer=customer,
                   organization=organization, s=s, now=now)


def _tracking(visit) -> tuple[dt.datetime | None, str | None]:
    """The visit's ETA and a link to its tracking page (crewline/portal/tracking.py)."""
    from crewline.portal.tracking import tracking_url, visit_eta

    try:
        return visit_eta(visit), tracking_url(visit)
    except Exception:  # the message goes without them rather than not at all
        logger.exception("No ETA or tracking link for visit %s", visit.pk)
        return None, None


def message_on_my_way(*, visit, eta: dt.datetime | None = None, link: str | None = None,
                      now: dt.datetime | None = None) -> list[Message]:
    """Tell the customer the crew is on its way (once per visit), with ``eta`` and ``link``
    when given. Call inside the transaction that marked the visit en route."""
    work_order = visit.work_order
    organization = work_order.organization
    s = messaging_settings(organization)
    if not s.on_my_way:
        return []
    if Message.objects.filter(organization_id=organization.pk, visit=visit,
                              kind=MessageKind.ON_MY_WAY).exists():
        return []
    context = {"eta": eta.isoformat() if eta else "", "link": link or ""}
    return _plan(kind=MessageKind.ON_MY_WAY, work_order=work_order,
                 customer=work_order.customer, organization=organization, s=s,
                 due=now or timezone.now(), visit=visit, context=context)


def work_order_messages_plan(*, work_order, now: dt.datetime | None = None) -> None:
    """After a work order was completed (``workorders.signals.work_order_completed``)."""
    now = now or timezone.now()
    organization = work_order.organization
    s = messaging_settings(organization)
    customer = work_order.customer
    done = set(Message.objects.filter(organization_id=organization.pk, work_order=work_order,
                                      kind__in=[MessageKind.COMPLETED, MessageKind.FEEDBACK])
               .exclude(status=MessageStatus.WITHDRAWN).values_list("kind", flat=True))
    if s.completed and MessageKind.COMPLETED not in done:
        _plan(kind=MessageKind.COMPLETED, work_order=work_order, customer=customer,
              organization=organization, s=s, due=now)
    if (s.feedback and MessageKind.FEEDBACK not in done
            and not Feedback.objects.filter(organization_id=organization.pk,
                                            work_order=work_order).exists()):
        _plan(kind=MessageKind.FEEDBACK, work_order=work_order, customer=customer,
              organization=organization, s=s,
              due=now + dt.timedelta(hours=s.feedback_delay_hours))


# --- Opt-out and replies --------------------------------------------------------------------------

def is_opted_out(organization_id: int, number: str) -> bool:
    return SmsOptOut.objects.filter(organization_id=organization_id, number=number,
                                    active=True).exists()


def opt_out_set(*, organization_id: int, number: str, out: bool, keyword: str) -> SmsOptOut:
    row, _created = SmsOptOut.objects.update_or_create(
        organization_id=organization_id, number=number,
        defaults={"active": out, "keyword": keyword[:16], "changed_at": timezone.now()})
    return row


def _customers_with_number(organization_id: int, number: str, country: str) -> list[Customer]:
    """The organization's customers whose number (or a contact's) is ``number``."""
    tail = number[-7:]
    found: dict[int, Customer] = {}
    for customer in Customer.objects.filter(organization_id=organization_id,
                                            archived_at__isnull=True,
                                            phone__contains=tail[-4:]):
        if normalize_number(customer.phone, country) == number:
            found[customer.pk] = customer
    for contact in (Contact.objects.select_related("customer")
                    .filter(organization_id=organization_id, archived_at__isnull=True,
                            phone__contains=tail[-4:])):
        if normalize_number(contact.phone, country) == number:
            found.setdefault(contact.customer_id, contact.customer)
    return list(found.values())


def _organization_for_number(number: str) -> int | None:
    """The organization that last texted ``number`` (one Twilio number may serve several),
    else the one organization with a customer of that number (none when several have)."""
    texted = (Message.objects.filter(channel=Channel.SMS, to=number)
              .exclude(sent_at=None).order_by("-sent_at")
              .values_list("organization_id", flat=True).first())
    if texted is not None:
        return texted
    found = {customer.organization_id for customer in
             Customer.objects.select_related("organization")
             .filter(archived_at__isnull=True, phone__contains=number[-4:])
             if normalize_number(customer.phone, customer.organization.country) == number}
    return found.pop() if len(found) == 1 else None


def sms_inbound(*, sender: str, body: str, organization_id: int | None = None) -> str:
    """A text from ``sender``: STOP/START and their like (the whole message, as carriers match
    them) change the number's opt-out; anything else lands on the timeline of the sender's
    latest open work order and the office is told. Returns what was done."""
    from crewline.workorders import timeline
    from crewline.workorders.models import WorkOrder

    number = normalize_number(sender) or sender.strip()[:32]
    if organization_id is None:
        organization_id = _organization_for_number(number)
    if organization_id is None:
        return "unknown number"
    word = body.strip().strip(".!").upper()
    with transaction.atomic():
        if word in OPT_OUT_WORDS:
            # What is waiting stays: it is checked when due, so START before then restores it.
            opt_out_set(organization_id=organization_id, number=number, out=True, keyword=word)
            return "opted out"
        if word in OPT_IN_WORDS:
            opt_out_set(organization_id=organization_id, number=number, out=False,
                        keyword=word)
            return "opted in"
        organization = Organization.objects.get(pk=organization_id)
        customers = _customers_with_number(organization_id, number, organization.country)
        wo = (WorkOrder.objects.select_related("organization", "customer")
              .filter(organization_id=organization_id,
                      customer__in=customers).exclude(status__in=["completed", "invoiced",
                                                                  "cancelled"])
              .order_by("-created_at", "-pk").first()) if customers else None
        if wo is None:
            last = (Message.objects.filter(organization_id=organization_id, to=number)
                    .order_by("-sent_at", "-pk").select_related("work_order").first())
            wo = last.work_order if last else None
        if wo is None:
            return "no work order"
        entry = timeline.system_recorded(
            work_order=wo, by=None, event="message_reply", body=body.strip()[:2000],
            to=number, channel=Channel.SMS)
        _tell_office_of_reply(work_order=wo, number=number, text=body.strip())
    return f"on the timeline ({entry.pk})"


def _tell_office_of_reply(*, work_order, number: str, text: str) -> None:
    from crewline.notifications.models import NotificationKind
    from crewline.notifications.services import notify_office

    notify_office(
        organization_id=work_order.organization_id, kind=NotificationKind.CUSTOMER_REPLIED,
        words=lambda: (_("%(customer)s replied about %(ref)s")
                       % {"customer": work_order.customer.name, "ref": work_order.reference},
                       text[:300]),
        url=reverse("workorders:detail", kwargs={"number": work_order.number}),
        data={"work_order": work_order.number, "from": number})


def message_status_update(*, provider_id: str, status: str, error_code: str = "") -> str:
    """The provider's word on a text it took: delivered, or failed (``error_code``)."""
    from crewline.workorders import timeline

    state = {"delivered": MessageStatus.DELIVERED, "read": MessageStatus.DELIVERED,
             "failed": MessageStatus.FAILED, "undelivered": MessageStatus.FAILED}.get(status)
    if not provider_id or state is None:
        return "ignored"
    with transaction.atomic():
        message = (Message.objects.select_for_update(of=("self",))
                   .select_related("work_order__organization")
                   .filter(provider_id=provider_id, channel=Channel.SMS).first())
        if message is None:
            return "unknown"
        if message.status == state or message.status not in (MessageStatus.SENT,
                                                             MessageStatus.DELIVERED):
            return "unchanged"
        message.status = state
        fields = ["status", "updated_at"]
        if state == MessageStatus.DELIVERED:
            message.delivered_at = timezone.now()
            fields.append("delivered_at")
        else:
            message.error = f"provider error {error_code}" if error_code else "undelivered"
            fields.append("error")
            if error_code == "21610":
                opt_out_set(organization_id=message.organization_id, number=message.to,
                            out=True, keyword="carrier")
            timeline.system_recorded(
                work_order=message.work_order, by=None, event="message_failed",
                visit=message.visit if message.visit_id else None,
                body=_failed_line(message), message=message.pk, channel=message.channel,
                kind=message.kind, to=message.to, error=message.error)
        message.save(update_fields=fields)
    return state


def _failed_line(message: Message) -> str:
    from django.utils import translation

    with translation.override(message.work_order.organization.language):
        return (_("%(kind)s to %(to)s was not delivered (%(why)s)")
                % {"kind": message.get_kind_display(), "to": message.to,
                   "why": message.error})


# --- Feedback -------------------------------------------------------------------------------------

def feedback_submit(*, work_order, customer: Customer, rating: int, comment: str) -> Feedback:
    """The customer's stars and comment on a completed job, once; on the job's timeline."""
    from crewline.workorders import timeline

    if not (isinstance(rating, int) and 1 <= rating <= 5):
        raise ValidationError({"rating": _("Choose from 1 to 5 stars.")})
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError({"comment": _("Write at most 2,000 characters.")})
    with transaction.atomic():
        if Feedback.objects.filter(organization_id=work_order.organization_id,
                                   work_order=work_order).exists():
            raise ValidationError(_("Thank you: your feedback on this job is in already."),
                                  code="given")
        feedback = Feedback.objects.create(organization_id=work_order.organization_id,
                                           work_order=work_order, customer=customer,
                                           rating=rating, comment=comment)
        stars = "★" * rating + "☆" * (5 - rating)
        timeline.system_recorded(work_order=work_order, by=None, event="feedback",
                                 body=f"{stars} {comment}".strip(), rating=rating)
        Message.objects.filter(organization_id=work_order.organization_id,
                               work_order=work_order, kind=MessageKind.FEEDBACK,
                               status=MessageStatus.QUEUED).update(
            status=MessageStatus.WITHDRAWN, error="feedback given", updated_at=timezone.now())
    return feedback

