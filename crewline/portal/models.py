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


class TrackingLink(OrgOwned):
    """A link to one visit's tracking page (``crewline.portal.tracking``), made for the message
    that tells the customer the technician is on the way. Like a portal link, only the SHA-256
    of its token is kept; it opens that visit's page and nothing else, until ``expires_at``."""

    visit = models.ForeignKey("workorders.Visit", on_delete=models.CASCADE,
                              related_name="tracking_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Tracking link {self.pk} for visit {self.visit_id}"


class WindowOffer(OrgOwned):
    """A time the office offers the customer for a work order not yet scheduled (up to three
    at a time, ``OFFERS_AT_MOST``); the customer picks one in their portal and the visit is
    scheduled through the board's own service. An offer is live until it is picked, withdrawn
    (another was picked, the office scheduled the job, the time was taken) or its start has
    passed."""

    work_order = models.ForeignKey("workorders.WorkOrder", on_delete=models.CASCADE,
                                   related_name="window_offers")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    # Who would come: checked for conflicts when the customer picks the time.
    crew = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("technician"))
    offered_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    offered_at = models.DateTimeField(default=timezone.now, editable=False)
    picked_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    visit = models.ForeignKey("workorders.Visit", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")

    class Meta:
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["organization", "work_order", "withdrawn_at"],
                                name="windowoffer_org_wo_idx")]
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                              name="windowoffer_end_after_start")]

    def __str__(self) -> str:
        return f"Offer {self.pk} for {self.work_order_id}"

    @property
    def is_live(self) -> bool:
        return (self.picked_at is None and self.withdrawn_at is None
                and self.start > timezone.now())
