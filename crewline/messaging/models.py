"""Messages to customers: what the organization sends them (booking confirmations, reminders,
"on my way", "completed", feedback requests), by which channel, and what became of each; the
numbers that said STOP; the feedback customers gave.

A ``Message`` is written when a message is planned, with the time it is due; the worker sends
it then (``crewline.messaging.sending``), after checking it still holds (a reminder for a
visit that moved is re-planned, for one that was cancelled withdrawn). Its body is written
when it is sent, from the visit as it is then, in the customer's language.
"""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Organization, OrgOwned
from crewline.customers.models import Customer


class MessageKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Booking confirmation")
    REMINDER = "reminder", _("Reminder the day before")
    ON_MY_WAY = "on_my_way", _("On my way")
    COMPLETED = "completed", _("Job completed")
    FEEDBACK = "feedback", _("Feedback request")
    CANCELLED = "cancelled", _("Visit cancelled")


# What the organization may turn off, one switch each (a cancellation follows the confirmation's).
SWITCHED_KINDS = (MessageKind.CONFIRMATION, MessageKind.REMINDER, MessageKind.ON_MY_WAY,
                  MessageKind.COMPLETED, MessageKind.FEEDBACK)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")


class ChannelChoice(models.TextChoices):
    EMAIL = "email", _("Email only")
    SMS = "sms", _("Text message, or email when there is no mobile number")
    BOTH = "both", _("Text message and email")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SKIPPED = "skipped", _("Not sent")


class MessagingSettings(models.Model):
    """An organization's choices: which messages go, by which channel, when."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE,
                                        related_name="messaging_settings")
    confirmation = models.BooleanField(_("booking confirmation"), default=True,
                                       help_text=_("When a visit is booked or moved."))
    reminder = models.BooleanField(_("reminder the day before"), default=True)
    on_my_way = models.BooleanField(_("on my way"), default=True,
                                    help_text=_("When the technician sets off."))
    completed = models.BooleanField(_("job completed"), default=True,
                                    help_text=_("With a link to the job report."))
    feedback = models.BooleanField(_("feedback request"), default=True,
                                   help_text=_("A few hours after the job is completed: 1 to 5 "
                                               "stars and a comment."))
    channel = models.CharField(_("send by"), max_length=8, choices=ChannelChoice.choices,
                               default=ChannelChoice.EMAIL)
    reminder_time = models.TimeField(_("send reminders at"), default=dt.time(17, 0),
                                     help_text=_("The day before the visit, in the company's "
                                                 "time zone."))
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True,
                                   default=dt.time(20, 0))
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True,
                                 default=dt.time(8, 0))
    feedback_delay_hours = models.PositiveSmallIntegerField(
        _("ask for feedback after (hours)"), default=2,
        validators=[MinValueValidator(0), MaxValueValidator(72)])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("messaging settings")
        verbose_name_plural = _("messaging settings")

    def __str__(self) -> str:
        return f"Messaging settings of {self.organization_id}"

    def allows(self, kind: str) -> bool:
        if kind == MessageKind.CANCELLED:
            return self.confirmation
        return bool(getattr(self, kind))


class Message(OrgOwned):
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    work_order = models.ForeignKey("workorders.WorkOrder", on_delete=models.CASCADE,
                                   related_name="+", verbose_name=_("work order"))
    visit = models.ForeignKey("workorders.Visit", on_delete=models.CASCADE, null=True,
                              blank=True, related_name="+", verbose_name=_("visit"))
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("customer"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=320)
    scheduled_for = models.DateTimeField(_("due"))
    status = models.CharField(_("status"), max_length=12, choices=MessageStatus.choices,
                              default=MessageStatus.QUEUED)
    # A reminder sent at once because its visit moved inside the reminder window.
    corrected = models.BooleanField(default=False)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"), blank=True)
    language = models.CharField(max_length=8, blank=True)
    # Given by whoever planned it: an ETA (ISO 8601) and a link, for "on my way".
    context = models.JSONField(default=dict, blank=True)
    provider_id = models.CharField(_("provider's id"), max_length=64, blank=True)
    error = models.CharField(_("why"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="message_due_idx"),
            models.Index(fields=["organization", "work_order"], name="message_org_wo_idx"),
            models.Index(fields=["provider_id"], name="message_provider_idx"),
        ]
        constraints = [
            # One pending message of a kind per visit and channel: a moved visit's reminder is
            # re-planned, never planned twice.
            models.UniqueConstraint(fields=["visit", "kind", "channel"],
                                    condition=Q(status="queued") & Q(visit__isnull=False),
                                    name="message_one_pending_per_visit"),
            # "On my way" once per visit and channel, however often the crew sets off.
            models.UniqueConstraint(fields=["visit", "channel"],
                                    condition=Q(kind="on_my_way"),
                                    name="message_one_on_my_way"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} to {self.to} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == MessageStatus.QUEUED


class SmsOptOut(OrgOwned):
    """A number that said STOP (``active``) or later START to the organization's texts."""

    number = models.CharField(_("number"), max_length=32)
    active = models.BooleanField(_("opted out"), default=True)
    keyword = models.CharField(_("keyword"), max_length=16, blank=True)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "number"],
                                               name="smsoptout_org_number")]

    def __str__(self) -> str:
        return f"{self.number} {'out' if self.active else 'in'}"


class Feedback(OrgOwned):
    """What the customer said of a completed job: 1 to 5 stars and a comment."""

    work_order = models.OneToOneField("workorders.WorkOrder", on_delete=models.CASCADE,
                                      related_name="customer_feedback",
                                      verbose_name=_("work order"))
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"Feedback {self.rating} on {self.work_order_id}"
