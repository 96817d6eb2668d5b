"""Availability: each technician's weekly working hours and their time off.

A technician with no ``WorkingHours`` rows at all follows the organization's business hours
(``Organization.business_hours``); once they have rows, only the rows count, and a weekday with
no row is a day off.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, OrgOwned


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(OrgOwned):
    """One span of a member's working week, in the organization's local time.

    Several rows per weekday are allowed (a split shift: 07:00–11:00 and 13:00–17:00).
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="working_hours",
                               verbose_name=_("member"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        ordering = ["member", "weekday", "start"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")),
                                   name="working_hours_ordered"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6),
                                   name="working_hours_weekday"),
        ]
        indexes = [models.Index(fields=["organization", "member"], name="wh_org_member_idx")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class TimeOff(OrgOwned):
    """A member is away from ``start`` to ``end`` (aware datetimes): holiday, sickness, training."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="time_off",
                               verbose_name=_("member"))
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["start", "id"]
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")),
                                   name="time_off_ordered"),
        ]
        indexes = [models.Index(fields=["organization", "member", "end"],
                                name="timeoff_org_member_end_idx")]

    def __str__(self) -> str:
        return self.reason or str(_("Time off"))

    @property
    def is_whole_days(self) -> bool:
        """Starts and ends at midnight in the current (the organization's) time zone."""
        start, end = timezone.localtime(self.start), timezone.localtime(self.end)
        return start.time() == end.time() == datetime.time(0)

    @property
    def last_day(self) -> datetime.date:
        """The last day away: for whole days the day before ``end``, else ``end``'s day."""
        end = timezone.localtime(self.end)
        return end.date() - datetime.timedelta(days=1) if self.is_whole_days else end.date()


class RoutePlan(OrgOwned):
    """A day planned by the route planner (``crewline.scheduling.routes``): the moves it
    proposes, kept for the office to look at, then applied (and perhaps undone).

    ``moves``: ``[{"job", "visit" (None: a visit to add to "work_order"), "work_order",
    "sequence" (the visit's when planned), "before" (None, or {"start", "end", "crew"}),
    "after": {"start", "end", "crew"}}]``, times ISO 8601 with their offset; ``unplaced``:
    ``[{"job", "work_order", "reason"}]``.
    """

    day = models.DateField(_("day"))
    # How many days from ``day`` (one: that day alone).
    days = models.PositiveSmallIntegerField(default=1)
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    moves = models.JSONField(default=list)
    unplaced = models.JSONField(default=list)
    drive_before_seconds = models.PositiveIntegerField(default=0)
    drive_before_metres = models.PositiveIntegerField(default=0)
    drive_after_seconds = models.PositiveIntegerField(default=0)
    drive_after_metres = models.PositiveIntegerField(default=0)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    # The visits the plan added, in the order of its moves that add one.
    created_visits = models.JSONField(default=list)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("route plan")
        verbose_name_plural = _("route plans")
        indexes = [models.Index(fields=["organization", "day"], name="routeplan_org_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} ({len(self.moves)} moves)"
