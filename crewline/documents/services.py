"""Writes for documents: making job report versions and sending them to the customer."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crewline.core.audit import audit_record
from crewline.core.models import Member
from crewline.documents.models import JobReport
from crewline.documents.reports import render_job_report
from crewline.documents.selectors import report_recipients
from crewline.live.models import ChangeKind
from crewline.live.services import change_record
from crewline.workorders import timeline
from crewline.workorders.models import TimelineEntry, WorkOrder

# Two people (or the completion task and a person) may render at once; each retry takes the
# next number.
VERSION_ATTEMPTS = 5


def job_report_create(*, work_order: WorkOrder, by: Member | None) -> JobReport:
    """Render the work order's job report and store it as its next version (1, 2, 3, ...).

    Earlier versions are kept. ``by`` is None when the system makes it (on completion).
    Rendering takes a while, so it runs outside any transaction with the next free number; should
    another version take that number meanwhile, the unique constraint refuses the row and the
    report is rendered again with the number after it.
    """
    wo = (WorkOrder.objects.select_related("organization", "customer", "site", "job_type")
          .get(pk=work_order.pk, organization_id=work_order.organization_id))
    for _attempt in range(VERSION_ATTEMPTS):
        version = (JobReport.objects.filter(work_order=wo).aggregate(m=Max("version"))["m"]
                   or 0) + 1
        now = timezone.now()
        # The report is the customer's: in their language, whoever makes it.
        with translation.override(wo.customer.language_code):
            pdf = render_job_report(wo, version=version, generated_at=now)
        sha256 = hashlib.sha256(pdf).hexdigest()
        report = JobReport(organization_id=wo.organization_id, work_order=wo, version=version,
                           size=len(pdf), sha256=sha256, created_at=now, created_by=by)
        report.file.save(report.filename, ContentFile(pdf), save=False)
        try:
            with transaction.atomic():
                report.save(force_insert=True)
                change_record(organization_id=wo.organization_id, kind=ChangeKind.REPORT,
                              object_id=report.pk, event="report.ready")
                timeline.system_recorded(
                    work_order=wo, by=by, body=_("Job report v%(n)d created") % {"n": version},
                    event="report_created", report=report.pk, version=version)
                audit_record(organization=wo.organization, actor=by, action="job_report.create",
                             obj=report, changes={"version": [None, version],
                                                  "size": [None, len(pdf)],
                                                  "sha256": [None, sha256]})
        except IntegrityError:
            report.file.delete(save=False)
            continue
        return report
    raise RuntimeError(f"No free job report version for work order {wo.pk}.")


def job_report_email(*, report: JobReport, to: str, by: Member | None) -> None:
    """Queue ``report`` to be emailed to ``to``, one of the customer's addresses.

    The email goes out from a background task once this transaction commits; it retries when the
    mail server is unavailable and records the outcome on the timeline and in the audit log.
    """
    from crewline.documents.tasks import email_job_report

    allowed = {r.email.lower(): r.email for r in report_recipients(report.work_order)}
    address = allowed.get((to or "").strip().lower())
    if address is None:
        raise ValidationError({"recipient": _("Choose one of the customer's email addresses.")},
                              code="unknown_recipient")
    with transaction.atomic():
        audit_record(organization=report.work_order.organization, actor=by,
                     action="job_report.email_queued", obj=report, changes={"to": [None, address]})
        by_id = by.pk if by is not None else None
        transaction.on_commit(lambda: email_job_report.enqueue(report.pk, address, by_id))


def job_report_email_outcome(*, report: JobReport, to: str, by: Member | None, sent: bool,
                             attempts: int, error: str = "") -> TimelineEntry:
    """Record on the timeline and in the audit log that the email went out, or finally failed."""
    wo = report.work_order
    if sent:
        body = _("Report v%(n)d emailed to %(to)s") % {"n": report.version, "to": to}
    else:
        body = _("Report v%(n)d could not be emailed to %(to)s: %(error)s") % {
            "n": report.version, "to": to, "error": error}
    with transaction.atomic():
        entry = timeline.system_recorded(
            work_order=wo, by=None, body=body,
            event="report_emailed" if sent else "report_email_failed", report=report.pk,
            version=report.version, to=to[:320], attempts=attempts, error=error[:500])
        audit_record(organization=wo.organization, actor=by,
                     action="job_report.emailed" if sent else "job_report.email_failed",
                     obj=report, changes={"to": [None, to], "attempts": [None, attempts],
                                          **({"error": [None, error[:500]]} if error else {})})
    return entry
