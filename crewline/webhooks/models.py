"""Webhooks: endpoints an owner adds, the outbox of deliveries and the log of attempts.

An event is a row of the one change log (``crewline.live.models.Change``) that names an
``event``; its webhook id is the change's id, the same as in the API's change feed. The row's
transaction also writes one ``WebhookDelivery`` per enabled endpoint subscribed to that event
(``crewline.webhooks.outbox``): the outbox, which the background worker delivers
(``crewline.webhooks.delivery``) and which a killed worker leaves for the next one.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, OrgOwned
from crewline.live.models import Change

TEST_EVENT = "webhook.test"


class WebhookEndpoint(OrgOwned):
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The events (crewline.live.models.EVENTS) it is sent.
    events = models.JSONField(_("events"), default=list)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Why it was turned off by Crewline (410 Gone, failing for days), blank if by a person.
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Standard Webhooks secrets (whsec_<base64>): kept readable, they sign every request. After
    # a rotation the previous one signs too until previous_secret_until.
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        indexes = [models.Index(fields=["organization", "enabled"],
                                name="webhooks_endpoint_org_idx")]

    def __str__(self) -> str:
        return self.url

    def secrets_now(self, now) -> list[str]:
        """The secrets that sign a request made at ``now``: the current one, and the previous
        one during the rotation window."""
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            secrets.append(self.previous_secret)
        return secrets


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")  # due at next_attempt_at, or waiting for an earlier one
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")  # out of attempts, or the endpoint answered 410
    SKIPPED = "skipped", _("Skipped")  # the endpoint was turned off before it went out


class WebhookDelivery(OrgOwned):
    """One event for one endpoint: the outbox row, then its outcome."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries")
    # Pruned with the change log (30 days); a test event has none.
    change = models.ForeignKey(Change, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="+", db_constraint=True)
    msg_id = models.CharField(max_length=64)  # webhook-id: the change's id, kept on retries
    event = models.CharField(max_length=40)
    # Deliveries of one resource to one endpoint go out in order: a later one waits while an
    # earlier one is pending.
    resource_key = models.CharField(max_length=48)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=12, choices=DeliveryState.choices,
                             default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker sending it holds it until then; a worker killed meanwhile lets it go at that time.
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhooks_delivery_due_idx"),
            models.Index(fields=["endpoint", "resource_key", "id"],
                         name="webhooks_delivery_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.msg_id} → {self.endpoint_id}"


class WebhookAttempt(OrgOwned):
    """One request to an endpoint: the delivery log."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="attempts")
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["endpoint", "-id"], name="webhooks_attempt_log_idx")]

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
