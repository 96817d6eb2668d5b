"""The job report: what it shows, gathered from a work order and its timeline, and rendered.

``job_report_data`` turns the work order into plain strings (translated labels, dates in the
organization's time zone) and image files; ``render_job_report`` lays them out with
``typst/job_report.typ``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from crewline.core.models import Member
from crewline.documents.images import rendition_for, scale_image
from crewline.documents.rendering import render_pdf
from crewline.formats.durations import format_duration
from crewline.workorders.models import EntryKind, VisitStatus, WorkOrder
from crewline.workorders.selectors import labor_that_counts, report_entries, work_order_visits
from crewline.workorders.templatetags.workorders import quantity_label
from crewline.workorders.timeline import entry_data

logger = logging.getLogger(__name__)

LOGO_MAX_SIDE = 600


def _labels() -> dict[str, str]:
    return {
        "customer": _("Customer"), "site": _("Site"), "job": _("Job"),
        "work": _("Work carried out"), "notes": _("Notes"),
        "visits": _("Visits"), "date": _("Date"), "scheduled": _("Scheduled"),
        "on_site": _("On site"), "technicians": _("Technicians"),
        "labor": _("Labor"), "technician": _("Technician"), "description": _("Description"),
        "time": _("Time"), "total": _("Total"), "parts": _("Parts and materials"),
        "part": _("Part"), "code": _("Code"), "quantity": _("Quantity"), "unit": _("Unit"),
        "checklist": _("Checklist"), "item": _("Item"), "answer": _("Answer"),
        "photos": _("Photos"), "signature": _("Customer signature"),
        # {page} and {pages} are filled in by the template.
        "page_of": _("Page {page} of {pages}"),
    }


def _local(value: dt.datetime, tz) -> dt.datetime:
    return value.astimezone(tz)


def _day(value: dt.datetime | dt.date) -> str:
    return date_format(value, "D j M Y")


def _moment(value: dt.datetime, tz) -> str:
    local = _local(value, tz)
    return f"{date_format(local, 'j M Y')}, {local:%H:%M}"


def _answer(value: Any) -> str:
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if value is None or value == "":
        return "—"
    if isinstance(value, str) and value.lower() in ("yes", "no"):
        return _("Yes") if value.lower() == "yes" else _("No")
    if isinstance(value, int | float):
        return number_format(value)  # "1,5" in Spanish
    return str(value)


def _address_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def job_report_data(work_order: WorkOrder, *, version: int,
                    generated_at: dt.datetime) -> tuple[dict, dict[str, bytes]]:
    """The report's data (for ``data.json``) and its image files by relative path."""
    org = work_order.organization
    tz = org.tzinfo
    customer, site = work_order.customer, work_order.site
    files: dict[str, bytes] = {}

    logo = None
    if org.logo:
        try:
            with org.logo.open("rb") as handle:
                content, ext, _w, _h = scale_image(handle.read(), max_side=LOGO_MAX_SIDE,
                                                   keep_alpha=True)
            logo = f"logo.{ext}"
            files[logo] = content
        except (ValueError, FileNotFoundError) as exc:
            logger.warning("Organization %s: cannot use its logo: %s", org.pk, exc)

    reference = work_order.reference
    entries = list(report_entries(work_order))
    counted_labor = labor_that_counts(entries)
    names = {m.pk: m.name for m in Member.objects.filter(
        organization_id=org.pk, pk__in={entry_data(e).member_id for e in counted_labor})
        .select_related("user")}
    counted_labor = {e.pk for e in counted_labor}

    notes, labor, parts, checklist, photos = [], [], [], [], []
    signature = None
    labor_minutes = 0
    for entry in entries:
        if entry.kind == EntryKind.LABOR and entry.pk not in counted_labor:
            continue  # corrected by a later entry of the same member on the same visit
        data = entry_data(entry)
        when = entry.device_time or entry.created_at
        author = entry.author.name if entry.author else ""
        if entry.kind == EntryKind.NOTE:
            meta = _moment(when, tz) + (f" · {author}" if author else "")
            notes.append({"text": entry.body, "meta": meta})
        elif entry.kind == EntryKind.LABOR:
            labor_minutes += data.minutes
            labor.append({"member": names.get(data.member_id) or author,
                          "description": entry.body,
                          "duration": format_duration(data.minutes)})
        elif entry.kind == EntryKind.PART:
            parts.append({"name": data.name, "code": data.code,
                          "quantity": quantity_label(data.quantity), "unit": data.unit})
        elif entry.kind == EntryKind.CHECKLIST:
            checklist.append({"label": data.label, "answer": _answer(data.answer)})
        elif entry.kind in (EntryKind.PHOTO, EntryKind.SIGNATURE) and entry.attachment:
            rendition = rendition_for(entry)
            if rendition is None:
                continue
            ext = rendition.file.name.rsplit(".", 1)[-1]
            with rendition.file.open("rb") as handle:
                content = handle.read()
            if entry.kind == EntryKind.PHOTO:
                path = f"photos/{len(photos) + 1}.{ext}"
                photos.append({"file": path, "caption": entry.body,
                               "time": _moment(when, tz) + (f" · {author}" if author else "")})
            else:
                path = f"signature.{ext}"
                # The latest signature is the one that counts.
                signature = {"file": path, "time": _moment(when, tz),
                             "signer": data.signer_name}
            files[path] = content

    visits = []
    for visit in work_order_visits(work_order):
        if visit.status == VisitStatus.CANCELLED:
            continue
        window, day, on_site = "—", "—", "—"
        scheduled = None
        if visit.start and visit.end:
            scheduled, end = _local(visit.start, tz), _local(visit.end, tz)
            window = f"{scheduled:%H:%M}–{end:%H:%M}"
        # The day the work happened; the slot it was booked for, when that was another day.
        worked = visit.arrived_at or visit.finished_at
        if worked is not None:
            worked = _local(worked, tz)
            day = _day(worked)
            if scheduled is not None and scheduled.date() != worked.date():
                window = f"{date_format(scheduled, 'D j M')} {window}"
        elif scheduled is not None:
            day = _day(scheduled)
        if visit.arrived_at:
            arrived = _local(visit.arrived_at, tz)
            on_site = f"{arrived:%H:%M}–"
            if visit.finished_at:
                finished = _local(visit.finished_at, tz)
                if finished.date() != arrived.date():
                    on_site += f"{date_format(finished, 'D j M')} "
                on_site += f"{finished:%H:%M}"
        visits.append({"date": day, "window": window, "on_site": on_site,
                       "technicians": ", ".join(m.name for m in visit.crew.all()) or "—"})

    company_lines = _address_lines(org.address)
    contact = " · ".join(v for v in (org.phone, org.email) if v)
    if contact:
        company_lines.append(contact)

    site_lines = [_("No site")]
    if site is not None:
        site_lines = [site.name or site.address_line1]
        region = " ".join(p for p in (site.region, site.postal_code) if p)
        site_lines += [line for line in (site.address_line1 if site.name else "",
                                         site.address_line2,
                                         ", ".join(p for p in (site.city, region) if p))
                       if line]
    customer_lines = [customer.name, *_address_lines(customer.billing_address)]
    customer_lines += [v for v in (customer.phone, customer.email) if v]

    job_facts = [reference]
    if work_order.job_type:
        job_facts.append(work_order.job_type.name)
    if work_order.completed_at:
        job_facts.append(_("Completed %(date)s") % {"date": _day(_local(work_order.completed_at,
                                                                         tz))})
    else:
        job_facts.append(str(work_order.get_status_display()))

    version_label = _("Version %(n)d") % {"n": version}
    data = {
        "lang": translation.get_language() or settings.LANGUAGE_CODE,
        "labels": _labels(),
        "title": _("Job report %(ref)s") % {"ref": reference},
        "subtitle": _("%(version)s · issued %(when)s")
        % {"version": version_label, "when": _moment(generated_at, tz)},
        "version": version,
        "version_label": version_label,
        "company": {"name": org.name, "lines": company_lines, "logo": logo},
        "customer": customer_lines,
        "site": site_lines,
        "job_facts": job_facts,
        # The work order's instructions are for the crew (access codes, what to bring, what
        # the office knows of the customer): never on the customer's report.
        "work": {"title": work_order.title},
        "notes": notes,
        "visits": visits,
        "labor": labor,
        "labor_total": format_duration(labor_minutes),
        "parts": parts,
        "checklist": checklist,
        "photos": photos,
        "signature": signature,
    }
    return data, files


def render_job_report(work_order: WorkOrder, *, version: int,
                      generated_at: dt.datetime | None = None) -> bytes:
    """The job report as PDF bytes."""
    generated_at = generated_at or timezone.now()
    data, files = job_report_data(work_order, version=version, generated_at=generated_at)
    return render_pdf("job_report.typ", data, files, paper=work_order.organization.paper,
                      timestamp=generated_at)
