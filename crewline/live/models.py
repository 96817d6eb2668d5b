"""The log of changes the office's open pages listen to.

Each row is one Server-Sent Event: its id is the event id a browser sends back as
``Last-Event-ID`` to catch up after a dropped connection. Rows are written in the transaction of
the change they describe and pruned after a day (``events_prune``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import OrgOwned


class Event(OrgOwned):
    id = models.BigAutoField(primary_key=True)
    # "wo:<work order id>", "board:<YYYY-MM-DD>", "list" or "member:<member id>".
    topic = models.CharField(_("topic"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("live event")
        verbose_name_plural = _("live events")
        indexes = [models.Index(fields=["organization", "id"], name="live_event_org_id_idx"),
                   models.Index(fields=["created_at"], name="live_event_created_idx")]

    def __str__(self) -> str:
        return f"{self.id} {self.topic}"

    def message(self) -> dict:
        """What the broker carries: small enough for a PostgreSQL NOTIFY (8,000 bytes)."""
        return {"id": self.id, "org": self.organization_id, "topic": self.topic,
                "data": self.payload}
