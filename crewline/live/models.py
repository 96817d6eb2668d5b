"""The one change log: a row for each change of what the office's pages, the phones and the
API show, written in the transaction of the change by the service that makes it
(``crewline.live.services.change_record``).

Every reader keeps its own cursor (the row id, monotonic) and filter:

- the phones' pull reads ``kind`` and ``object_id`` (what to send again) since its cursor;
- the office's live stream reads ``topics`` (which open pages care) since ``Last-Event-ID``;
- the API's change feed reads them by resource, with their ``event`` and ``tombstone``;
- webhooks: a change with an ``event`` writes, in the same transaction, one outbox row per
  endpoint subscribed to it (``crewline.webhooks.outbox``), which the worker delivers.

A row says what changed, never the data itself, which every reader reads fresh. Rows are kept
for ``KEEP`` (``changes_prune``); a cursor older than that starts again from a full snapshot.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import OrgOwned


class ChangeKind(models.TextChoices):
    """What changed: ``object_id`` is the row of that kind (a member's own things: the member)."""

    VISIT = "visit"
    WORK_ORDER = "work_order"  # the job, its timeline included
    SITE = "site"  # a site or its equipment
    CUSTOMER = "customer"
    MEMBER = "member"  # a member's own time entries
    NOTIFICATION = "notification"  # a member's notifications (object: the recipient)
    PRICE_ITEM = "price_item"
    QUOTE = "quote"
    INVOICE = "invoice"
    REPORT = "report"  # a job report (PDF) made: object_id is the report
    RESET = "reset"  # who sees what changed: every phone starts again from a full snapshot


class Tombstone(models.TextChoices):
    """The change removed the object from what the API lists: gone, or archived (kept, hidden)."""

    DELETED = "deleted", _("Deleted")
    ARCHIVED = "archived", _("Archived")


# The lifecycle events a change may be (its ``event``); webhooks are subscribed to them. A change
# that is none of them (a site edited, a part added) has no event and reaches the change feed only.
EVENTS = (
    "work_order.created", "work_order.updated", "work_order.scheduled", "work_order.completed",
    "work_order.invoiced", "work_order.cancelled",
    "visit.scheduled", "visit.rescheduled", "visit.en_route", "visit.arrived",
    "visit.completed", "visit.incomplete", "visit.cancelled",
    "note.added",
    "quote.sent", "quote.approved", "quote.declined",
    "invoice.drafted", "invoice.issued", "invoice.paid",
    "report.ready",
    "customer.created", "customer.updated", "customer.archived",
    "time_entry.created",
)


class Change(OrgOwned):
    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ChangeKind.choices)
    object_id = models.BigIntegerField(null=True, blank=True)
    # The live topics that hear of it: "wo:<id>", "quote:<id>", "board:<YYYY-MM-DD>", "list",
    # "member:<id>".
    topics = models.JSONField(_("topics"), default=list, blank=True)
    # What the open pages need to know (what part of the page changed): small, for a NOTIFY.
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    # The lifecycle event it is (one of ``EVENTS``), or blank; a webhook's event is this row.
    event = models.CharField(_("event"), max_length=40, blank=True, default="")
    tombstone = models.CharField(_("tombstone"), max_length=10, blank=True, default="",
                                 choices=Tombstone.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [models.Index(fields=["organization", "id"], name="live_change_org_id_idx"),
                   models.Index(fields=["created_at"], name="live_change_created_idx")]

    def __str__(self) -> str:
        return f"#{self.id} {self.kind} {self.object_id}"

    def message(self) -> dict:
        """What the broker carries: small enough for a PostgreSQL NOTIFY (8,000 bytes)."""
        return {"id": self.id, "org": self.organization_id, "topics": self.topics,
                "data": self.payload}
