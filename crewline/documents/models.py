"""Documents made from a job: PDF job reports, and the downscaled images they embed."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, OrgOwned
from crewline.workorders.models import TimelineEntry, WorkOrder


def report_path(report: JobReport, filename: str) -> str:
    # A random folder: the name alone never lets anyone guess another report's path.
    return (f"org/{report.organization_id}/wo/{report.work_order_id}/reports/"
            f"{uuid.uuid4().hex}/{filename}")


def rendition_path(rendition: Rendition, filename: str) -> str:
    return f"org/{rendition.organization_id}/renditions/{uuid.uuid4().hex}/{filename}"


class JobReport(OrgOwned):
    """One rendered version of a work order's job report. Versions are kept, never replaced."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE,
                                   related_name="job_reports", verbose_name=_("work order"))
    version = models.PositiveIntegerField(_("version"))
    file = models.FileField(_("file"), upload_to=report_path, max_length=300)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Empty when the system made it (on completion).
    created_by = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("made by"))

    class Meta:
        ordering = ["-version"]
        verbose_name = _("job report")
        verbose_name_plural = _("job reports")
        constraints = [
            models.UniqueConstraint(fields=["work_order", "version"],
                                    name="jobreport_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order.reference} job report v{self.version}"

    @property
    def filename(self) -> str:
        return f"{self.work_order.reference}-job-report-v{self.version}.pdf"


class Rendition(OrgOwned):
    """A photo or signature scaled down for documents, made once per timeline entry.

    Timeline entries are never edited, so a rendition keyed by its entry never goes stale.
    """

    entry = models.OneToOneField(TimelineEntry, on_delete=models.CASCADE,
                                 related_name="rendition")
    file = models.FileField(upload_to=rendition_path, max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"rendition of entry {self.entry_id}"
