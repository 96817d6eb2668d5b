"""Recurring maintenance plans (contracts) and the dates they have raised work for.

A plan is a customer's site, a recurrence rule, a template for the work and a horizon: the plan
keeps work orders (kind "contract") with one visit each raised for every date of the rule from
today to today + horizon. Writes go through ``services.py``; ``plan_generate`` is the one place
that raises, updates or withdraws the work.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, OrgOwned, Skill
from crewline.customers.models import Customer, Site
from crewline.plans.recurrence import humanise, validate_rrule
from crewline.workorders.models import JobType, Priority, WorkOrder

CHECKLIST_KINDS = ("yes_no", "number", "text", "photo")
MAX_HORIZON_DAYS = 730


def validate_checklist(value: object) -> None:
    """A checklist: ``[{"label": str, "kind": yes_no|number|text|photo, "required": bool}]``,
    the shape of ``WorkOrder.checklist``."""
    if not isinstance(value, list):
        raise ValidationError(_("The checklist must be a list of items."))
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) - {"label", "kind", "required"}:
            raise ValidationError(_("Checklist item %(n)d is not a label, a kind and whether it "
                                    "is required.") % {"n": number})
        label = item.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 200:
            raise ValidationError(_("Checklist item %(n)d needs a label of at most 200 "
                                    "characters.") % {"n": number})
        if item.get("kind") not in CHECKLIST_KINDS:
            raise ValidationError(_("Checklist item %(n)d: the kind must be yes/no, number, text "
                                    "or photo.") % {"n": number})
        if not isinstance(item.get("required", False), bool):
            raise ValidationError(_("Checklist item %(n)d: “required” must be true or false.")
                                  % {"n": number})


class PlanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class MaintenancePlan(OrgOwned):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT,
                                 related_name="maintenance_plans", verbose_name=_("customer"))
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="maintenance_plans",
                             verbose_name=_("site"))
    name = models.CharField(_("name"), max_length=200,
                            help_text=_("For example: Quarterly HVAC service."))
    rrule = models.CharField(_("recurrence rule"), max_length=300, validators=[validate_rrule],
                             help_text=_("An RFC 5545 rule, such as FREQ=MONTHLY;INTERVAL=3."))
    start_date = models.DateField(_("first date"))
    start_time = models.TimeField(_("preferred start time"), default=dt.time(9, 0))
    horizon_days = models.PositiveIntegerField(
        _("horizon (days)"), default=60,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_HORIZON_DAYS)],
        help_text=_("How many days ahead work orders are raised."))
    status = models.CharField(_("status"), max_length=10, choices=PlanStatus.choices,
                              default=PlanStatus.ACTIVE)
    end_date = models.DateField(_("last date"), null=True, blank=True)

    # The template of the work each date raises (always of kind "contract").
    title = models.CharField(_("work order title"), max_length=200)
    instructions = models.TextField(_("instructions for the crew"), blank=True)
    job_type = models.ForeignKey(JobType, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("job type"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices,
                                                default=Priority.NORMAL)
    checklist = models.JSONField(_("checklist"), default=list, blank=True,
                                 validators=[validate_checklist])
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), default=60,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)])
    required_skills = models.ManyToManyField(Skill, blank=True, related_name="+",
                                             verbose_name=_("required skills"))
    default_crew = models.ManyToManyField(Member, blank=True, related_name="+",
                                          verbose_name=_("default crew"))
    # In the organization's currency; kept for billing the contract.
    price = models.DecimalField(_("price per visit"), max_digits=10, decimal_places=2,
                                default=Decimal("0.00"), validators=[MinValueValidator(0)])

    created_by = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer__name", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="plan_end_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="plan_org_status_idx"),
            models.Index(fields=["organization", "customer"], name="plan_org_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rule_in_words(self) -> str:
        return humanise(self.rrule)


class PlanOccurrence(OrgOwned):
    """One date of a plan: the work order raised for it, or that it was skipped.

    ``applied`` holds exactly what the plan last wrote to the work order and its visit. While
    the work order and visit still hold those values (and nothing has started), the occurrence
    is "untouched" and follows later edits of the plan; any change by hand (a moved visit, an
    edited title, another crew) makes them differ, and the plan leaves it alone from then on.
    """

    plan = models.ForeignKey(MaintenancePlan, on_delete=models.CASCADE,
                             related_name="occurrences")
    date = models.DateField(_("date"))
    work_order = models.ForeignKey(WorkOrder, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    visit = models.ForeignKey("workorders.Visit", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    skipped = models.BooleanField(_("skipped"), default=False)
    applied = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "date"], name="plan_occurrence_unique_date"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.date.isoformat()}"
