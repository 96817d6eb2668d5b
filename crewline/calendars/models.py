"""Private iCalendar feeds: a member's visits, or the whole organization's for the office.

Only the SHA-256 of a feed's token is stored; the URL is shown once, when it is made.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, OrgOwned


class CalendarFeed(OrgOwned):
    # None: the organization's office feed (every visit, with crew names).
    member = models.ForeignKey(Member, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="calendar_feeds", verbose_name=_("member"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One live feed per member, and one live office feed per organization.
            models.UniqueConstraint(fields=["organization", "member"],
                                    condition=Q(revoked_at__isnull=True, member__isnull=False),
                                    name="calendarfeed_one_live_per_member"),
            models.UniqueConstraint(fields=["organization"],
                                    condition=Q(revoked_at__isnull=True, member__isnull=True),
                                    name="calendarfeed_one_live_office_feed"),
        ]

    def __str__(self) -> str:
        return f"Calendar feed {self.pk}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_office_feed(self) -> bool:
        return self.member_id is None

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None
