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


class MatchedBy(models.TextChoices):
    NONE = "", _("New customer")
    EMAIL = "email", _("Email address")
    PHONE = "phone", _("Phone number")
    # Sent from the customer's own portal: the link says who it is.
    PORTAL = "portal", _("Portal link")


class WorkRequest(OrgOwned):
    """A request for work sent through the organization's public form: what the person typed,
    and the customer, site and work order (status new) it became. A request matched to an
    existing customer by email or phone waits for the office to confirm it is them."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("customer"))
    work_order = models.OneToOneField("workorders.WorkOrder", on_delete=models.CASCADE,
                                      related_name="work_request",
                                      verbose_name=_("work order"))
    matched_by = models.CharField(_("matched by"), max_length=8, choices=MatchedBy.choices,
                                  blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=400)
    description = models.TextField(_("what is wrong"))
    preferred_times = models.CharField(_("preferred times"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Request {self.pk} from {self.name}"

    @property
    def needs_confirmation(self) -> bool:
        return (self.matched_by in (MatchedBy.EMAIL, MatchedBy.PHONE)
                and self.confirmed_at is None)
