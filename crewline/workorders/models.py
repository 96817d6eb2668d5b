"""Work orders, their visits and the job timeline.

A work order's status changes only through the services in ``services.py``, one per transition.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, OrgOwned
from crewline.customers.models import Customer, Equipment, Site


class WorkOrderKind(models.TextChoices):
    REACTIVE = "reactive", _("Reactive")
    QUOTED = "quoted", _("Quoted")
    RECURRING = "recurring", _("Recurring")
    CONTRACT = "contract", _("Contract")


class Priority(models.IntegerChoices):
    # Integers so that "most urgent first" is a plain ORDER BY.
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Status(models.TextChoices):
    NEW = "new", _("New")
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    COMPLETED = "completed", _("Completed")
    INVOICED = "invoiced", _("Invoiced")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (Status.NEW, Status.SCHEDULED, Status.IN_PROGRESS, Status.ON_HOLD)


class JobType(OrgOwned):
    """An organization's own category of work: "Boiler service", "Leak repair", ..."""

    name = models.CharField(_("name"), max_length=80)
    default_kind = models.CharField(_("default kind"), max_length=16,
                                    choices=WorkOrderKind.choices, default=WorkOrderKind.REACTIVE)
    default_duration_minutes = models.PositiveIntegerField(_("usual duration (minutes)"),
                                                           default=60)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="jobtype_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Tag(OrgOwned):
    name = models.CharField(_("name"), max_length=40)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="tag_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkOrder(OrgOwned):
    number = models.PositiveIntegerField(_("number"), editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="work_orders",
                                 verbose_name=_("customer"))
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="work_orders",
                             null=True, blank=True, verbose_name=_("site"))
    equipment = models.ManyToManyField(Equipment, blank=True, related_name="work_orders",
                                       verbose_name=_("equipment"))
    kind = models.CharField(_("type"), max_length=16, choices=WorkOrderKind.choices,
                            default=WorkOrderKind.REACTIVE)
    job_type = models.ForeignKey(JobType, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("job type"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices,
                                                default=Priority.NORMAL)
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    requested_start = models.DateTimeField(_("requested from"), null=True, blank=True)
    requested_end = models.DateTimeField(_("requested until"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="work_orders",
                                  verbose_name=_("tags"))
    required_skills = models.ManyToManyField("core.Skill", blank=True, related_name="+",
                                             verbose_name=_("required skills"))
    estimated_minutes = models.PositiveIntegerField(_("estimated duration (minutes)"),
                                                    null=True, blank=True)
    # What the technician must answer on site: [{"label", "kind": yes_no|number|text|photo,
    # "required": bool}, ...]; answers are timeline entries of kind "checklist".
    checklist = models.JSONField(_("checklist"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.NEW)
    # The status a job was put on hold from, so that resuming returns to it.
    held_from = models.CharField(max_length=16, choices=Status.choices, blank=True,
                                 editable=False)
    status_reason = models.CharField(_("reason"), max_length=500, blank=True, editable=False)
    status_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="wo_unique_number"),
            models.CheckConstraint(
                condition=Q(requested_end__isnull=True) | Q(requested_start__isnull=True)
                | Q(requested_end__gt=models.F("requested_start")),
                name="wo_requested_window_order",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "-number"], name="wo_org_status_idx"),
            models.Index(fields=["organization", "customer", "-number"], name="wo_org_cust_idx"),
            models.Index(fields=["organization", "site", "-number"], name="wo_org_site_idx"),
            models.Index(fields=["organization", "due_date"], name="wo_org_due_idx"),
            # The API's sync reads: changed since, in (updated_at, id) order.
            models.Index(fields=["organization", "updated_at", "id"], name="wo_org_updated_idx"),
            models.Index(fields=["organization", "-created_at"], name="wo_org_created_idx"),
            # The API's lists in id order (keyset pagination): an organization's first page
            # without reading past every other organization's rows.
            models.Index(fields=["organization", "id"], name="wo_org_id_idx"),
            # The dashboard's "awaiting invoice": completed work, oldest completion first.
            models.Index(fields=["organization", "completed_at", "number"],
                         condition=Q(status="completed"), name="wo_org_to_invoice_idx"),
            # The dashboard's figures: work completed in the last days.
            models.Index(fields=["organization", "completed_at"],
                         condition=Q(completed_at__isnull=False), name="wo_org_completed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"WO-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class VisitStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    EN_ROUTE = "en_route", _("On the way")
    ON_SITE = "on_site", _("On site")
    DONE = "done", _("Done")
    INCOMPLETE = "incomplete", _("Could not complete")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_VISIT_STATUSES = (VisitStatus.SCHEDULED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE)


class VisitOutcome(models.TextChoices):
    """What the technician said about the job when finishing its last visit."""

    JOB_COMPLETE = "job_complete", _("Job complete")
    ANOTHER_VISIT = "another_visit", _("Needs another visit")


class Visit(OrgOwned):
    """One trip to the site: a time window, a crew, and its own dispatch status."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="visits")
    start = models.DateTimeField(_("start"), null=True, blank=True)
    end = models.DateTimeField(_("end"), null=True, blank=True)
    crew = models.ManyToManyField(Member, blank=True, related_name="visits",
                                  verbose_name=_("crew"))
    status = models.CharField(_("status"), max_length=16, choices=VisitStatus.choices,
                              default=VisitStatus.SCHEDULED)
    notes = models.TextField(_("notes for the crew"), blank=True)
    # Kept where it is when the office plans the day (a time promised to the customer, a
    # technician asked for): route planning moves it to nobody else and no other time.
    locked = models.BooleanField(_("keep in place when planning"), default=False)
    # Raised on every change of time, crew or status: calendar feeds publish it as SEQUENCE.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    arrived_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the visit is done: blank when nobody said (the office marked it, an older
    # phone); "another visit" carries the technician's reason for the office's queue.
    outcome = models.CharField(_("outcome"), max_length=16, choices=VisitOutcome.choices,
                               blank=True, editable=False)
    outcome_reason = models.CharField(_("what is left to do"), max_length=500, blank=True,
                                      editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__isnull=True, end__isnull=True)
                | Q(start__isnull=False, end__isnull=False, end__gt=models.F("start")),
                name="visit_window_complete_and_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "start"], name="visit_org_start_idx"),
            # Open visits, a few per technician among millions done: the dashboard's late
            # arrivals (by end), visits still to book (scheduled) and overruns (on site).
            models.Index(fields=["organization", "end"],
                         condition=Q(status__in=["scheduled", "en_route", "on_site"]),
                         name="visit_org_open_idx"),
            # A day's visits by what they overlap (end after the day's start: every visit
            # of the history starts before the day's end), and the figures' finished visits.
            models.Index(fields=["organization", "end"], name="visit_org_end_idx"),
            models.Index(fields=["organization", "finished_at"],
                         condition=Q(finished_at__isnull=False), name="visit_org_finished_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order.reference} visit {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_VISIT_STATUSES


class EntryKind(models.TextChoices):
    NOTE = "note", _("Note")
    STATUS = "status", _("Status change")
    VISIT_STATUS = "visit_status", _("Visit status")
    SCHEDULE = "schedule", _("Schedule change")
    FILE = "file", _("File")
    PHOTO = "photo", _("Photo")
    SIGNATURE = "signature", _("Signature")
    CHECKLIST = "checklist", _("Checklist answer")
    PART = "part", _("Part used")
    LABOR = "labor", _("Labor")
    SYSTEM = "system", _("System event")


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Internal")
    CUSTOMER = "customer", _("Visible to the customer")


def attachment_path(entry: TimelineEntry, filename: str) -> str:
    return f"org/{entry.organization_id}/wo/{entry.work_order_id}/{uuid.uuid4().hex}/{filename}"


class TimelineEntry(OrgOwned):
    """One thing that happened to a job. Append-only: entries are never deleted, and never
    edited but for who may see a note, photo or file (``services.entry_visibility_set``, which
    records the change as an entry of its own).

    ``created_at`` is server time; ``device_time`` is when a phone says it happened (offline work
    reaches the server later). ``client_id`` is made by the device and makes its upload idempotent.
    """

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="timeline")
    visit = models.ForeignKey(Visit, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="timeline")
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    author = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    body = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices,
                                  default=Visibility.INTERNAL)
    data = models.JSONField(default=dict, blank=True)
    attachment = models.FileField(upload_to=attachment_path, blank=True, max_length=300)
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_size = models.PositiveBigIntegerField(null=True, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    device_time = models.DateTimeField(null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("timeline entries")
        constraints = [
            models.UniqueConstraint(fields=["organization", "client_id"],
                                    condition=Q(client_id__isnull=False),
                                    name="timeline_unique_client_id"),
        ]
        indexes = [
            models.Index(fields=["work_order", "-created_at"], name="timeline_wo_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.work_order_id}"
