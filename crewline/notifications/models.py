"""Notifications: one message to one member about something that concerns them.

Written by ``services.py`` (visit changes today; the office's own kinds later) and read in the
app's list, the navbar bell, by email and later by the phone app.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, OrgOwned


class NotificationKind(models.TextChoices):
    VISIT_ASSIGNED = "visit_assigned", _("Assigned to a visit")
    VISIT_UNASSIGNED = "visit_unassigned", _("Removed from a visit")
    VISIT_MOVED = "visit_moved", _("Visit moved")
    VISIT_RESIZED = "visit_resized", _("Visit length changed")
    VISIT_CANCELLED = "visit_cancelled", _("Visit cancelled")
    VISIT_REINSTATED = "visit_reinstated", _("Visit back on")
    CREW_CHANGED = "crew_changed", _("Crew changed")
    # For the office (owners and office staff).
    JOB_INCOMPLETE = "job_incomplete", _("A job could not be completed")
    SYNC_REJECTED = "sync_rejected", _("A change from a phone was rejected")
    QUOTE_APPROVED = "quote_approved", _("A quote was approved")
    JOB_LATE = "job_late", _("A visit is late or running over")
    JOB_READY = "job_ready", _("A job is ready to close")
    WORK_REQUESTED = "work_requested", _("A request for work came in")
    WINDOW_PICKED = "window_picked", _("A customer chose an offered time")
    CUSTOMER_REPLIED = "customer_replied", _("A customer replied to a text message")


TECHNICIAN_KINDS = [NotificationKind.VISIT_ASSIGNED, NotificationKind.VISIT_UNASSIGNED,
                    NotificationKind.VISIT_MOVED, NotificationKind.VISIT_RESIZED,
                    NotificationKind.VISIT_CANCELLED, NotificationKind.VISIT_REINSTATED,
                    NotificationKind.CREW_CHANGED]
OFFICE_KINDS = [NotificationKind.JOB_INCOMPLETE, NotificationKind.SYNC_REJECTED,
                NotificationKind.QUOTE_APPROVED, NotificationKind.JOB_LATE,
                NotificationKind.JOB_READY, NotificationKind.WORK_REQUESTED,
                NotificationKind.WINDOW_PICKED, NotificationKind.CUSTOMER_REPLIED]


class Notification(OrgOwned):
    recipient = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="notifications",
                                  verbose_name=_("recipient"))
    # Free text rather than choices-only: other apps add their own kinds.
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    # What the message was made from: for visits {"visit": id, "work_order": number,
    # "before": {...}, "after": {...}} with ISO times, so it can be rewritten when changes batch.
    data = models.JSONField(default=dict, blank=True)
    # Changes with the same key, for the same recipient, close together, become one notification.
    batch_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # The bell's unread count and the list (unread first, newest first).
            models.Index(fields=["recipient", "read_at", "-updated_at"],
                         name="notif_recipient_read_idx"),
            models.Index(fields=["recipient", "batch_key"], name="notif_batch_idx",
                         condition=Q(read_at__isnull=True, emailed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class NotificationPreference(OrgOwned):
    """A member's choice whether one kind of notification also goes by email (default: yes,
    when the member has email notifications on at all)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE,
                               related_name="notification_preferences")
    kind = models.CharField(_("kind"), max_length=40)
    email = models.BooleanField(_("by email"), default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "kind"],
                                               name="notif_pref_unique_member_kind")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind} email={self.email}"


class LateReason(models.TextChoices):
    """The dashboard's two rules for late (``crewline.dashboard.selectors``)."""

    ARRIVAL = "arrival", _("Nobody on site by the end of the window")
    OVERRUN = "overrun", _("On site longer than planned")


class LateVisitNotice(OrgOwned):
    """The office has been told that this visit is late for this reason: once per visit and
    reason, whoever runs the check and however often (the unique constraint decides between
    concurrent runs). A visit late by the other rule later is told once more."""

    visit = models.ForeignKey("workorders.Visit", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=LateReason.choices)
    # When it became late: the end of the window, or when it should have finished.
    late_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            # With the organization, so that it holds on a database sharded by organization.
            models.UniqueConstraint(fields=["organization", "visit", "reason"],
                                    name="late_notice_unique_visit_reason"),
        ]

    def __str__(self) -> str:
        return f"visit {self.visit_id} {self.reason}"


class PushSubscription(OrgOwned):
    """A browser's Web Push subscription (``PushSubscription.toJSON()``) for one member.

    Unique per member, not per endpoint: a phone shared by two technicians holds one endpoint
    for both, and a row is never handed from one member to another (see
    ``push_subscription_save``).
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE,
                               related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "endpoint"],
                                    name="push_subscription_unique_member_endpoint"),
        ]

    def __str__(self) -> str:
        return self.endpoint[:80]
