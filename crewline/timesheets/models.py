"""Time entries: shifts, breaks, travel and work, clocked on the phone or entered by the office."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, OrgOwned


class TimeKind(models.TextChoices):
    SHIFT = "shift", _("Shift")
    TRAVEL = "travel", _("Travel")
    WORK = "work", _("Work")
    BREAK = "break", _("Break")


class TimeSource(models.TextChoices):
    DEVICE = "device", _("Phone")
    OFFICE = "office", _("Office")


def _lat(name: str):
    return models.DecimalField(name, max_digits=9, decimal_places=6, null=True, blank=True,
                               validators=[MinValueValidator(-90), MaxValueValidator(90)])


def _lng(name: str):
    return models.DecimalField(name, max_digits=9, decimal_places=6, null=True, blank=True,
                               validators=[MinValueValidator(-180), MaxValueValidator(180)])


class TimeEntry(OrgOwned):
    """A span of a member's time. ``end`` is empty while it runs (clocked in, on a break).

    ``client_id`` is made by the phone for the entry it starts and ``end_client_id`` for the
    action that ends it, so that a resent clock-in or clock-out is recognised.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="time_entries",
                               verbose_name=_("member"))
    kind = models.CharField(_("kind"), max_length=8, choices=TimeKind.choices)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"), null=True, blank=True)
    visit = models.ForeignKey("workorders.Visit", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="time_entries", verbose_name=_("visit"))
    latitude = _lat(_("latitude"))
    longitude = _lng(_("longitude"))
    end_latitude = _lat(_("latitude at the end"))
    end_longitude = _lng(_("longitude at the end"))
    source = models.CharField(_("source"), max_length=8, choices=TimeSource.choices,
                              default=TimeSource.OFFICE)
    client_id = models.UUIDField(null=True, blank=True, editable=False)
    end_client_id = models.UUIDField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "id"]
        verbose_name_plural = _("time entries")
        constraints = [
            models.UniqueConstraint(fields=["organization", "client_id"],
                                    condition=Q(client_id__isnull=False),
                                    name="timeentry_unique_client_id"),
            models.UniqueConstraint(fields=["organization", "end_client_id"],
                                    condition=Q(end_client_id__isnull=False),
                                    name="timeentry_unique_end_client_id"),
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                                   name="timeentry_end_after_start"),
        ]
        indexes = [models.Index(fields=["member", "kind", "end"], name="timeentry_open_idx"),
                   models.Index(fields=["organization", "start"], name="timeentry_org_start_idx"),
                   # What runs now (clocked in, on a break): a few among millions ended.
                   models.Index(fields=["organization", "start"], condition=Q(end__isnull=True),
                                name="timeentry_org_open_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.member_id} {self.start:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.end is None


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class TimesheetSettings(models.Model):
    """How an organization counts its weeks: the day they start and the overtime thresholds.

    An organization without a row uses the defaults (weeks from Monday, overtime past 40 hours
    a week and no daily threshold); ``timesheets.selectors.settings_for`` returns an unsaved
    row with those values.
    """

    organization = models.OneToOneField("core.Organization", on_delete=models.CASCADE,
                                        related_name="timesheet_settings")
    weekly_overtime_hours = models.DecimalField(
        _("overtime after hours per week"), max_digits=5, decimal_places=2, default=40,
        validators=[MinValueValidator(0), MaxValueValidator(168)])
    daily_overtime_hours = models.DecimalField(
        _("overtime after hours per day"), max_digits=4, decimal_places=2, null=True,
        blank=True, validators=[MinValueValidator(0), MaxValueValidator(24)],
        help_text=_("Leave empty when only the weekly threshold applies."))
    week_start = models.PositiveSmallIntegerField(_("weeks start on"), choices=Weekday.choices,
                                                  default=Weekday.MONDAY)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("timesheet settings")
        verbose_name_plural = _("timesheet settings")

    def __str__(self) -> str:
        return f"Timesheet settings of {self.organization_id}"


class TimesheetApproval(OrgOwned):
    """The office's approval of a member's week. While it exists the week's entries are locked;
    reopening the week deletes it (the audit log keeps both)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("member"))
    week_start = models.DateField(_("week start"))
    approved_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True,
                                    related_name="+", verbose_name=_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), default=timezone.now)

    class Meta:
        ordering = ["-week_start"]
        constraints = [
            models.UniqueConstraint(fields=["member", "week_start"],
                                    name="timesheetapproval_unique_week"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} week of {self.week_start}"
