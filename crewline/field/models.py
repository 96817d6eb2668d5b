"""The technician app's server side: devices, their pushed mutations and uploads. Pull reads the
one change log (``crewline.live.models.Change``). See PROTOCOL.md in this folder for the wire
protocol."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, OrgOwned
from crewline.workorders.models import Visibility


class JobsClosedBy(models.TextChoices):
    TECHNICIAN = "technician", _("The technician: “Job complete” on the phone completes the "
                                 "work order")
    OFFICE = "office", _("The office: the work order waits as “ready to close” until the "
                         "office completes it")


class FieldSettings(OrgOwned):
    """An organization's rules for the technician app (defaults when there is no row)."""

    require_signature = models.BooleanField(
        _("require the customer's signature before a visit is completed"), default=False)
    technicians_see_all = models.BooleanField(
        _("technicians see every visit, not only their own"), default=False)
    # Photos are the proof of the work: shared with the customer (on the job report) unless
    # the technician unticks it for a photo.
    photo_visibility = models.CharField(
        _("new photos from the phone"), max_length=10, choices=Visibility.choices,
        default=Visibility.CUSTOMER)
    jobs_closed_by = models.CharField(
        _("who completes a job when its last visit is done"), max_length=10,
        choices=JobsClosedBy.choices, default=JobsClosedBy.TECHNICIAN)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("field settings")
        verbose_name_plural = _("field settings")
        constraints = [models.UniqueConstraint(fields=["organization"],
                                               name="fieldsettings_unique_org")]

    def __str__(self) -> str:
        return f"Field settings of {self.organization_id}"


class Device(OrgOwned):
    """A member's phone or tablet. Its id is made by the device; mutations are numbered per
    device and ``last_seq`` is the last one applied (or rejected). ``last_seen_at`` is its
    last sync (a push that settled something, or a pull; to the minute)."""

    id = models.UUIDField(primary_key=True, editable=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="devices")
    name = models.CharField(_("name"), max_length=200, blank=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The login session it last synced with: revoking a lost phone can end that session too.
    session_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        ordering = ["-last_seen_at", "created_at"]
        indexes = [models.Index(fields=["member"], name="device_member_idx")]

    def __str__(self) -> str:
        return self.name or str(self.id)


class RejectedMutation(OrgOwned):
    """A pushed mutation that broke a rule: kept with its reason, shown on the phone and to the
    office until someone resolves it. Nothing a technician did is dropped."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="rejected")
    seq = models.PositiveBigIntegerField()
    name = models.CharField(max_length=40)
    args = models.JSONField(default=dict)
    client_time = models.DateTimeField(null=True, blank=True)
    reason = models.TextField()
    # The work order it was meant for, when the arguments named one that exists.
    work_order = models.ForeignKey("workorders.WorkOrder", on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["device", "seq"],
                                               name="rejected_unique_device_seq")]
        indexes = [models.Index(fields=["organization", "resolved_at"],
                                name="rejected_org_open_idx")]

    def __str__(self) -> str:
        return f"{self.name} #{self.seq}: {self.reason[:60]}"


class SettledMutation(OrgOwned):
    """A pushed mutation's client id, kept once the mutation is settled (applied or rejected).

    The device's ``last_seq`` guards against a mutation sent again under its own number; this
    guards against one sent again under another number or from another device (the phone was
    revoked and registered again with its outbox renumbered): the push answers ``duplicate``.
    Client ids are the member's own: a crew mate's id is not theirs to settle.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    client_id = models.UUIDField()
    name = models.CharField(max_length=40)
    # Where it was first settled.
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "client_id"],
                                               name="settled_unique_member_client_id")]

    def __str__(self) -> str:
        return f"{self.name} {self.client_id}"


def upload_path(upload: Upload, filename: str) -> str:
    return f"org/{upload.organization_id}/uploads/{upload.client_id.hex}/{filename}"


class Upload(OrgOwned):
    """A photo sent ahead of the mutation that uses it, idempotent by the device's client id."""

    client_id = models.UUIDField()
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=upload_path, max_length=300)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "client_id"],
                                               name="upload_unique_client_id")]

    def __str__(self) -> str:
        return str(self.client_id)


class TravelPosition(OrgOwned):
    """Where a technician on the way to a visit last was, as their phone reported it: kept
    only while the visit is on the way, one row per visit (the latest position), and removed
    once the visit is no longer on the way (``crewline.field.receivers``). The customer's
    tracking page (``crewline.portal.tracking``) reads it for the arrival estimate and the
    van's place on its map; ``start_*`` is where the trip began, kept only to hold the map
    back until the van has left it (the start is never shown)."""

    visit = models.OneToOneField("workorders.Visit", on_delete=models.CASCADE,
                                 related_name="travel_position")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    latitude = models.FloatField()
    longitude = models.FloatField()
    start_latitude = models.FloatField()
    start_longitude = models.FloatField()
    # The phone's time of the position when it said, else when it reached the server.
    reported_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Position for visit {self.visit_id}"
