"""Office pages for job reports: make a new version, download one, email one to the customer.

Reports are served through ``report_download`` only, never from a public media URL.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crewline.core.access import get_for_org_or_404, office_required
from crewline.core.files import file_download
from crewline.core.forms import errors_to_form
from crewline.documents import selectors, services
from crewline.documents.forms import ReportEmailForm
from crewline.documents.models import JobReport
from crewline.documents.rendering import RenderError
from crewline.workorders.selectors import work_order_for_member


def _reports_url(number: int) -> str:
    return reverse("workorders:detail", args=[number]) + "#job-reports"


@office_required
@require_GET
def report_list(request: HttpRequest, number: int) -> HttpResponse:
    """The work order's report versions: rows for the work order page's card (htmx), or a page."""
    wo = work_order_for_member(request.member, number)
    context = {"nav": "workorders", "wo": wo, "reports": selectors.work_order_reports(wo)}
    if request.htmx:
        return render(request, "documents/_report_rows.html", context)
    return render(request, "documents/report_list.html", context)


@office_required
@require_POST
def report_generate(request: HttpRequest, number: int) -> HttpResponse:
    wo = work_order_for_member(request.member, number)
    try:
        report = services.job_report_create(work_order=wo, by=request.member)
    except RenderError:
        messages.error(request, _("The job report could not be made. Please try again later."))
    else:
        messages.success(request, _("Job report version %(n)d is ready.") % {"n": report.version})
    return redirect(_reports_url(wo.number))


@office_required
@require_GET
def report_download(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_for_org_or_404(JobReport.objects.select_related("work_order"),
                                request.organization, pk=pk)
    # Inline: browsers open the PDF in a tab; the file name still comes with it when saved.
    # No Cache-Control of its own: PrivatePagesMiddleware makes it "private, no-store", so a
    # customer's report is not kept on a shared computer after the office member logs out.
    return file_download(report.file, filename=report.filename, content_type="application/pdf",
                         as_attachment=request.GET.get("inline") != "1")


@office_required
@require_http_methods(["GET", "POST"])
def report_email(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_for_org_or_404(
        JobReport.objects.select_related("work_order__customer", "work_order__organization"),
        request.organization, pk=pk)
    wo = report.work_order
    recipients = selectors.report_recipients(wo)
    form = ReportEmailForm(request.POST or None, recipients=recipients)
    if request.method == "POST" and form.is_valid():
        to = form.cleaned_data["recipient"]
        try:
            services.job_report_email(report=report, to=to, by=request.member)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Report v%(n)d is on its way to %(to)s.")
                             % {"n": report.version, "to": to})
            return redirect(_reports_url(wo.number))
    return render(request, "documents/report_email.html", {
        "nav": "workorders", "report": report, "wo": wo, "form": form,
        "recipients": recipients,
    }, status=400 if form.is_bound and form.errors else 200)
