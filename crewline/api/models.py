"""API keys: named, scoped credentials an owner gives an integration.

Only a SHA-256 hash of the secret is stored; the full key (``cl_<prefix>_<secret>``) is shown
once, when it is made. ``prefix`` finds the row, the hash proves the secret.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, OrgOwned

# Resource groups a key may read or write; what each covers is in crewline/api/scopes.py.
GROUPS = ("customers", "work_orders", "billing", "team")
SCOPES = (*(f"{verb}:{group}" for group in GROUPS for verb in ("read", "write")),
          "webhooks", "export")


class ApiKey(OrgOwned):
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_by = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Requests a minute this key may make (``crewline.api.limits``); None: the default.
    rate_limit = models.PositiveIntegerField(_("requests a minute"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} (cl_{self.prefix}_…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class IdempotentRequest(OrgOwned):
    """A write made with an ``Idempotency-Key``: its answer, replayed for the same key (from
    the same caller, ``principal``: ``key:<id>`` or ``member:<id>``) for ``KEEP``. ``fingerprint``
    is the method, path and body the key was first used with; another is refused (422)."""

    principal = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField(null=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"],
                                               name="api_idempotent_unique_key")]
