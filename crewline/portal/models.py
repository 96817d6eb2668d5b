"""Links to the customer's portal: no account, no password, the link's token is the key.

Only the SHA-256 of a link's token is stored; the token itself is only ever in the email that
carries the link.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, OrgOwned
from crewline.customers.models import Customer


class PortalLink(OrgOwned):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_links",
                                 verbose_name=_("customer"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # Where the link was sent.
    sent_to = models.EmailField(_("sent to"), blank=True)
    # Empty when the customer asked for it on the public page.
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    last_used_at = models.DateTimeField(_("last opened"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "customer", "revoked_at"],
                                name="portallink_org_customer_idx")]

    def __str__(self) -> str:
        return f"Portal link {self.pk} for {self.customer_id}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
