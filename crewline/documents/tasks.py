"""Background work for documents: reports on completion, scaled photos, and emailing reports."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from crewline.core.models import Member
from crewline.customers.models import Contact
from crewline.documents.models import JobReport
from crewline.workorders.models import Status, TimelineEntry, WorkOrder

logger = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 5
FIRST_RETRY = dt.timedelta(minutes=1)


def retry_delay(attempt: int) -> dt.timedelta:
    """How long to wait after failed attempt ``attempt``: 1, 2, 4, 8 minutes."""
    return FIRST_RETRY * 2 ** (attempt - 1)


@task()
def job_report_on_completion(work_order_id: int) -> str:
    """Make a job report version for a work order that has just been completed."""
    from crewline.documents.services import job_report_create

    wo = WorkOrder.objects.filter(pk=work_order_id).first()
    if wo is None:
        return "gone"
    if wo.status not in (Status.COMPLETED, Status.INVOICED):
        return "no longer completed"
    report = job_report_create(work_order=wo, by=None)
    return f"version {report.version}"


@task()
def job_report_refresh(work_order_id: int, requested_at: str, by_id: int | None = None) -> str:
    """A new report version after a change to what the customer may see.

    Several changes in a row queue several of these; a version made after the change was asked
    for already shows it, so the later ones make none.
    """
    from crewline.documents.services import job_report_create

    wo = WorkOrder.objects.filter(pk=work_order_id).first()
    if wo is None:
        return "gone"
    if JobReport.objects.filter(work_order=wo,
                                created_at__gt=dt.datetime.fromisoformat(requested_at)).exists():
        return "already up to date"
    by = Member.objects.filter(pk=by_id, organization_id=wo.organization_id).first()
    report = job_report_create(work_order=wo, by=by)
    return f"version {report.version}"


@task()
def make_rendition(entry_id: int) -> str:
    """Scale a new photo or signature down for documents, so reports need not."""
    from crewline.documents.images import rendition_for

    entry = TimelineEntry.objects.select_related("rendition").filter(pk=entry_id).first()
    if entry is None or not entry.attachment:
        return "gone"
    return "made" if rendition_for(entry) is not None else "unreadable"


def is_permanent(exc: BaseException) -> bool:
    """True for the mail server's definite refusals (5xx), which retrying cannot fix.

    Connection failures, timeouts and 4xx ("try again later") replies are worth retrying.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                         for code, msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error
        return f"{exc.smtp_code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
    return str(exc) or type(exc).__name__


def job_report_message(report: JobReport, to: str) -> EmailMessage:
    """The email carrying ``report`` as a PDF attachment, from the organization's name."""
    wo = report.work_order
    org = wo.organization
    contact = (Contact.objects.filter(organization_id=org.pk, customer_id=wo.customer_id,
                                      email__iexact=to, archived_at__isnull=True)
               .order_by("-is_primary", "id").first())
    context = {"report": report, "wo": wo, "organization": org,
               "greeting_name": contact.name if contact else wo.customer.name,
               "completed_at": wo.completed_at and wo.completed_at.astimezone(org.tzinfo)}
    subject = _("Job report %(ref)s from %(org)s") % {"ref": wo.reference, "org": org.name}
    body = render_to_string("documents/email/job_report.txt", context)
    sender = formataddr((org.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
    message = EmailMessage(subject=subject, body=body, from_email=sender, to=[to],
                           reply_to=[org.email] if org.email else None)
    with report.file.open("rb") as handle:
        message.attach(report.filename, handle.read(), "application/pdf")
    return message


@task()
def email_job_report(report_id: int, to: str, requested_by: int | None = None,
                     attempt: int = 1) -> str:
    """Email a job report; on a failure worth retrying, queue itself again with a back-off.

    After ``MAX_EMAIL_ATTEMPTS`` attempts, or at once on a definite refusal, the failure is
    recorded on the work order's timeline and in the audit log; so is a success.
    """
    from crewline.documents.services import job_report_email_outcome

    report = (JobReport.objects.select_related("work_order__organization",
                                               "work_order__customer")
              .filter(pk=report_id).first())
    if report is None:
        return "gone"
    by = Member.objects.filter(pk=requested_by).first() if requested_by else None
    # The email is the customer's, in their language; what the office is told of it (the
    # timeline, the log) stays in the site's.
    with translation.override(report.work_order.customer.language_code):
        message = job_report_message(report, to)
    with translation.override(settings.LANGUAGE_CODE):
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            error = _describe(exc)
            if attempt < MAX_EMAIL_ATTEMPTS and not is_permanent(exc):
                logger.warning("Emailing job report %s to %s failed (attempt %d): %s",
                               report_id, to, attempt, error)
                retry = email_job_report
                if retry.get_backend().supports_defer:
                    retry = retry.using(run_after=timezone.now() + retry_delay(attempt))
                retry.enqueue(report_id, to, requested_by, attempt + 1)
                return f"attempt {attempt} failed; retrying"
            logger.error("Emailing job report %s to %s failed for good: %s", report_id, to,
                         error)
            job_report_email_outcome(report=report, to=to, by=by, sent=False, attempts=attempt,
                                     error=error)
            return "failed"
        job_report_email_outcome(report=report, to=to, by=by, sent=True, attempts=attempt)
    return "sent"
