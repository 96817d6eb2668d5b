"""Work orders with their visits and timeline, visits (schedule, reschedule, assign a crew,
cancel), notes and files on the timeline, job reports (``read:work_orders``,
``write:work_orders``), written through ``crewline.workorders.services`` and ``timeline``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import File, Form, Query, Schema
from ninja import Status as Answer
from ninja.files import UploadedFile
from pydantic import AwareDatetime, Field

from crewline.api import pagination
from crewline.api.auth import need
from crewline.api.idempotency import idempotent
from crewline.api.routes.base import (
    ERRORS,
    PRIORITY,
    PRIORITY_BY_NAME,
    WRITE_ERRORS,
    Day,
    Id,
    In,
    Limit,
    Moment,
    Text,
    _get,
    _member_of,
    _related,
    _since,
    _url,
    _write,
    api,
    check_if_match,
    patch_values,
    with_etag,
)
from crewline.api.schemas import (
    JobReportPage,
    TimelineEntryOut,
    TimelinePage,
    VisitOut,
    VisitPage,
    WorkOrderOut,
    WorkOrderPage,
)
from crewline.api.selectors import VISIT_FIELDS, WORK_ORDER_FIELDS, load_crews, load_work_orders
from crewline.core.files import file_stream
from crewline.core.models import Member
from crewline.customers.models import Customer, Site
from crewline.documents.models import JobReport
from crewline.workorders import services as wo_services
from crewline.workorders import timeline
from crewline.workorders.models import (
    EntryKind,
    Status,
    TimelineEntry,
    Visibility,
    Visit,
    VisitStatus,
    WorkOrder,
    WorkOrderKind,
)


def _visit(request: HttpRequest, v: Visit) -> dict:
    if not hasattr(v, "_api_crew"):
        load_crews([v])
    row = {name: getattr(v, name) for name in VISIT_FIELDS}
    row["crew"] = v._api_crew
    return _visit_row(request, row)


def _visit_row(request: HttpRequest, row: dict) -> dict:
    return {**row, "url": _url(request, "visit_get", row["id"])}


def _visits() -> QuerySet[Visit]:
    return Visit.objects.all()


def _work_orders() -> QuerySet[WorkOrder]:
    return WorkOrder.objects.select_related("job_type").only(*WORK_ORDER_FIELDS)


def _work_order(request: HttpRequest, w: WorkOrder) -> dict:
    if not hasattr(w, "_api_visits"):
        load_work_orders([w])
    return {"id": w.pk, "number": w.number, "reference": w.reference,
            "customer_id": w.customer_id, "site_id": w.site_id, "kind": w.kind,
            "job_type": w.job_type.name if w.job_type else None,
            "priority": PRIORITY.get(w.priority, str(w.priority)), "title": w.title,
            "instructions": w.instructions, "requested_start": w.requested_start,
            "requested_end": w.requested_end, "due_date": w.due_date, "status": w.status,
            "status_reason": w.status_reason, "estimated_minutes": w.estimated_minutes,
            "tags": w._api_tags, "completed_at": w.completed_at,
            "created_at": w.created_at, "updated_at": w.updated_at,
            "visits": [_visit_row(request, v) for v in w._api_visits],
            "timeline": _url(request, "timeline_list", w.pk),
            "reports": _url(request, "job_report_list", w.pk),
            "url": _url(request, "work_order_get", w.pk)}


def _day_start(day: dt.date, tz) -> dt.datetime | None:
    try:
        return dt.datetime.combine(day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    except OverflowError:
        return None


def _starting_between(qs: QuerySet[Visit], tz, date_from: dt.date | None,
                      date_to: dt.date | None) -> QuerySet[Visit]:
    """Visits starting on ``date_from`` .. ``date_to`` (days in the organization's zone)."""
    if date_from is not None:
        start = _day_start(date_from, tz)
        qs = qs.filter(start__gte=start) if start else qs.none()
    if date_to is not None and date_to < dt.date.max:
        end = _day_start(date_to + dt.timedelta(days=1), tz)
        qs = qs.filter(start__lt=end) if end else qs
    return qs


# Work orders -------------------------------------------------------------------------------

class WorkOrderFilters(Schema):
    status: list[Status] = Field(default_factory=list,
                                 description="Any of these statuses (repeat the parameter).")
    customer: Id | None = Field(None, description="A customer's id.")
    technician: Id | None = Field(None, description="A member's id: work orders with a "
                                  "visit they are crew of.")
    date_from: dt.date | None = Field(None, description="Work orders with a visit starting "
                                      "on or after this day (the organization's time zone).")
    date_to: dt.date | None = Field(None, description="... on or before this day.")
    updated_since: AwareDatetime | None = Field(
        None, description="Only work orders changed at or after this time; pages by "
        "(updated_at, id).")
    cursor: pagination.Cursor | None = Field(None, description=pagination.CURSOR_HELP)
    limit: Limit = pagination.DEFAULT_LIMIT


@api.get("/work-orders", response={200: WorkOrderPage, **ERRORS}, url_name="work_order_list",
         tags=["work orders"], summary="List work orders with their visits")
def work_order_list(request: HttpRequest, filters: Query[WorkOrderFilters]):
    principal = need(request, "read:work_orders")
    org = principal.organization
    qs = _work_orders().filter(organization=org)
    if filters.status:
        qs = qs.filter(status__in=[s.value for s in filters.status])
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.technician is not None or filters.date_from or filters.date_to:
        visits = Visit.objects.filter(work_order=OuterRef("pk"))
        if filters.technician is not None:
            visits = visits.filter(crew__id=filters.technician)
        visits = _starting_between(visits, org.tzinfo, filters.date_from, filters.date_to)
        qs = qs.filter(Exists(visits))
    since = _since(filters.updated_since)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=since is not None,
                                  serialize=lambda w: _work_order(request, w),
                                  prepare=load_work_orders)


@api.get("/work-orders/{int:work_order_id}", response={200: WorkOrderOut, 304: None, **ERRORS},
         url_name="work_order_get", tags=["work orders"], summary="A work order")
def work_order_get(request: HttpRequest, work_order_id: int, response: HttpResponse):
    principal = need(request, "read:work_orders")
    return with_etag(request, response, _work_order(
        request, _get(_work_orders(), principal.organization, work_order_id)))


Priority = Literal["low", "normal", "high", "urgent"]


class WorkOrderIn(In):
    customer_id: Id
    site_id: Id | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)]
    kind: WorkOrderKind = WorkOrderKind.REACTIVE
    priority: Priority = "normal"
    instructions: Text = ""
    requested_start: Moment = None
    requested_end: Moment = None
    due_date: Day = None


class WorkOrderPatch(In):
    site_id: Id | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)] = None
    kind: WorkOrderKind = None
    priority: Priority = None
    instructions: Text = None
    requested_start: Moment = None
    requested_end: Moment = None
    due_date: Day = None


WO_RENAMES = {"site": "site_id", "customer": "customer_id"}


@api.post("/work-orders", response={201: WorkOrderOut, **WRITE_ERRORS},
          url_name="work_order_create", tags=["work orders"], summary="Raise a work order")
@idempotent
def work_order_create(request: HttpRequest, payload: WorkOrderIn, response: HttpResponse):
    with _write(request, "write:work_orders", WO_RENAMES) as principal:
        values = payload.model_dump()
        customer = _related(principal, Customer, values.pop("customer_id"), "customer_id")
        site = _related(principal, Site, values.pop("site_id"), "site_id")
        values["priority"] = PRIORITY_BY_NAME[values["priority"]]
        wo = wo_services.work_order_create(organization=principal.organization,
                                           by=_member_of(principal), customer=customer,
                                           site=site, **values)
    data = _work_order(request, _get(_work_orders(), principal.organization, wo.pk))
    return Answer(201, with_etag(request, response, data))


@api.patch("/work-orders/{int:work_order_id}", response={200: WorkOrderOut, **WRITE_ERRORS},
           url_name="work_order_update", tags=["work orders"],
           summary="Change a work order's fields (status changes have their own actions)")
@idempotent
def work_order_update(request: HttpRequest, work_order_id: int, payload: WorkOrderPatch,
                      response: HttpResponse):
    changes = patch_values(payload, nullable=("site_id", "requested_start", "requested_end",
                                              "due_date"))
    with _write(request, "write:work_orders", WO_RENAMES) as principal:
        org = principal.organization
        wo = _get(WorkOrder.objects.select_related("organization"), org, work_order_id)
        check_if_match(request, org.pk, lambda: _work_order(
            request, _get(_work_orders(), org, work_order_id)))
        if "site_id" in changes:
            changes["site"] = _related(principal, Site, changes.pop("site_id"), "site_id")
        if "priority" in changes:
            changes["priority"] = PRIORITY_BY_NAME[changes["priority"]]
        if changes:
            wo_services.work_order_update(work_order=wo, by=_member_of(principal), **changes)
    return with_etag(request, response,
                     _work_order(request, _get(_work_orders(), org, work_order_id)))


class TransitionIn(In):
    action: Literal["schedule", "start", "hold", "resume", "complete", "cancel", "reopen",
                    "invoice"]
    reason: Annotated[str, Field(max_length=500)] = ""


@api.post("/work-orders/{int:work_order_id}/transitions",
          response={200: WorkOrderOut, **WRITE_ERRORS}, url_name="work_order_transition",
          tags=["work orders"], summary="Move a work order on: schedule, start, hold, resume, "
          "complete, cancel, reopen, invoice")
@idempotent
def work_order_transition(request: HttpRequest, work_order_id: int, payload: TransitionIn,
                          response: HttpResponse):
    """Hold and cancel need a `reason`. A transition the work order's status does not allow
    is a 409."""
    with _write(request, "write:work_orders") as principal:
        org = principal.organization
        wo = _get(WorkOrder.objects.select_related("organization"), org, work_order_id)
        check_if_match(request, org.pk, lambda: _work_order(
            request, _get(_work_orders(), org, work_order_id)))
        wo_services.work_order_transition(work_order=wo, action=payload.action,
                                          by=_member_of(principal), reason=payload.reason)
    return with_etag(request, response,
                     _work_order(request, _get(_work_orders(), org, work_order_id)))


# Visits ------------------------------------------------------------------------------------

class VisitFilters(Schema):
    work_order: Id | None = Field(None, description="A work order's id.")
    technician: Id | None = Field(None, description="A member's id: visits they are crew of.")
    date_from: dt.date | None = Field(
        None, description="Visits starting on or after this day (the organization's time "
        "zone).")
    date_to: dt.date | None = Field(None, description="Visits starting on or before this day.")
    status: list[VisitStatus] = Field(default_factory=list)
    updated_since: AwareDatetime | None = None
    cursor: pagination.Cursor | None = Field(None, description=pagination.CURSOR_HELP)
    limit: Limit = pagination.DEFAULT_LIMIT


@api.get("/visits", response={200: VisitPage, **ERRORS}, url_name="visit_list",
         tags=["visits"], summary="List visits")
def visit_list(request: HttpRequest, filters: Query[VisitFilters]):
    principal = need(request, "read:work_orders")
    tz = principal.organization.tzinfo
    qs = _visits().filter(organization=principal.organization)
    if filters.work_order is not None:
        qs = qs.filter(work_order_id=filters.work_order)
    if filters.technician is not None:
        qs = qs.filter(crew__id=filters.technician)
    qs = _starting_between(qs, tz, filters.date_from, filters.date_to)
    if filters.status:
        qs = qs.filter(status__in=[s.value for s in filters.status])
    since = _since(filters.updated_since)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=since is not None,
                                  serialize=lambda v: _visit(request, v),
                                  prepare=load_crews)


@api.get("/visits/{int:visit_id}", response={200: VisitOut, 304: None, **ERRORS},
         url_name="visit_get", tags=["visits"], summary="A visit")
def visit_get(request: HttpRequest, visit_id: int, response: HttpResponse):
    principal = need(request, "read:work_orders")
    return with_etag(request, response,
                     _visit(request, _get(_visits(), principal.organization, visit_id)))


Crew = Annotated[list[Id], Field(max_length=50)]
OVERRIDE = Field(False, description="Go ahead despite scheduling conflicts (double booking, "
                 "time off, hours, skills, travel); without it they are a 409 listing them.")


class VisitIn(In):
    start: Moment = None
    end: Moment = None
    crew: Crew = Field(default_factory=list, description="Members' ids.")
    notes: Text = ""
    override: bool = OVERRIDE


class RescheduleIn(In):
    start: Annotated[AwareDatetime, Field()]
    end: Annotated[AwareDatetime, Field()]
    override: bool = OVERRIDE


class AssignIn(In):
    crew: Crew
    start: Moment = Field(None, description="Needed if the visit has no time yet.")
    end: Moment = None
    override: bool = OVERRIDE


class CancelIn(In):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def _crew(principal, ids: list[int]) -> list[Member]:
    found = list(Member.objects.filter(organization=principal.organization, pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationError({"crew": ValidationError(
            "No such member in your organization.", code="not_found")})
    return found


def _visit_answer(request: HttpRequest, response: HttpResponse, org, pk: int, status=200):
    data = with_etag(request, response, _visit(request, _get(_visits(), org, pk)))
    return Answer(status, data) if status != 200 else data


@api.post("/work-orders/{int:work_order_id}/visits", response={201: VisitOut, **WRITE_ERRORS},
          url_name="visit_create", tags=["visits"],
          summary="Add a visit to a work order (scheduled if it has a time)")
@idempotent
def visit_create(request: HttpRequest, work_order_id: int, payload: VisitIn,
                 response: HttpResponse):
    with _write(request, "write:work_orders") as principal:
        org = principal.organization
        wo = _get(WorkOrder.objects.select_related("organization"), org, work_order_id)
        visit = wo_services.visit_add(work_order=wo, by=_member_of(principal),
                                      start=payload.start, end=payload.end,
                                      crew=_crew(principal, payload.crew), notes=payload.notes,
                                      override=payload.override)
    return _visit_answer(request, response, org, visit.pk, status=201)


def _visit_write(request: HttpRequest, visit_id: int):
    principal = request.auth
    org = principal.organization
    visit = _get(Visit.objects.select_related("organization", "work_order"), org, visit_id)
    check_if_match(request, org.pk, lambda: _visit(request, _get(_visits(), org, visit_id)))
    return visit


@api.post("/visits/{int:visit_id}/reschedule", response={200: VisitOut, **WRITE_ERRORS},
          url_name="visit_reschedule", tags=["visits"],
          summary="Give a visit a new time (its crew stays)")
@idempotent
def visit_reschedule(request: HttpRequest, visit_id: int, payload: RescheduleIn,
                     response: HttpResponse):
    with _write(request, "write:work_orders") as principal:
        visit = _visit_write(request, visit_id)
        wo_services.visit_schedule(visit=visit, start=payload.start, end=payload.end,
                                   by=_member_of(principal), override=payload.override)
    return _visit_answer(request, response, principal.organization, visit_id)


@api.post("/visits/{int:visit_id}/assign", response={200: VisitOut, **WRITE_ERRORS},
          url_name="visit_assign", tags=["visits"], summary="Set a visit's crew")
@idempotent
def visit_assign(request: HttpRequest, visit_id: int, payload: AssignIn,
                 response: HttpResponse):
    with _write(request, "write:work_orders") as principal:
        visit = _visit_write(request, visit_id)
        wo_services.visit_schedule(visit=visit, start=payload.start or visit.start,
                                   end=payload.end or visit.end,
                                   crew=_crew(principal, payload.crew),
                                   by=_member_of(principal), override=payload.override)
    return _visit_answer(request, response, principal.organization, visit_id)


@api.post("/visits/{int:visit_id}/cancel", response={200: VisitOut, **WRITE_ERRORS},
          url_name="visit_cancel", tags=["visits"], summary="Cancel a visit, with a reason")
@idempotent
def visit_cancel(request: HttpRequest, visit_id: int, payload: CancelIn,
                 response: HttpResponse):
    with _write(request, "write:work_orders") as principal:
        visit = _visit_write(request, visit_id)
        wo_services.visit_cancel(visit=visit, by=_member_of(principal), reason=payload.reason)
    return _visit_answer(request, response, principal.organization, visit_id)


# The timeline ------------------------------------------------------------------------------

def _entry(request: HttpRequest, e: TimelineEntry) -> dict:
    try:
        data = timeline.entry_data(e).model_dump(mode="json")
    except ValueError:
        data = {}
    file = None
    if e.attachment:
        file = {"name": e.attachment_name, "size": e.attachment_size,
                "content_type": e.attachment_type,
                "url": _url(request, "timeline_file", e.pk)}
    return {"id": e.pk, "work_order_id": e.work_order_id, "visit_id": e.visit_id,
            "kind": e.kind, "author_id": e.author_id, "body": e.body,
            "visibility": e.visibility, "data": data, "file": file,
            "created_at": e.created_at, "device_time": e.device_time}


class TimelineFilters(Schema):
    kind: list[EntryKind] = Field(default_factory=list)
    cursor: pagination.Cursor | None = Field(None, description=pagination.CURSOR_HELP)
    limit: Limit = pagination.DEFAULT_LIMIT


@api.get("/work-orders/{int:work_order_id}/timeline", response={200: TimelinePage, **ERRORS},
         url_name="timeline_list", tags=["timeline"],
         summary="A work order's timeline, oldest first")
def timeline_list(request: HttpRequest, work_order_id: int, filters: Query[TimelineFilters]):
    """Notes, photos, files, signatures, checklist answers, parts, labor, status and schedule
    changes: `kind` says which, `data` holds what that kind records."""
    principal = need(request, "read:work_orders")
    wo = _get(WorkOrder.objects.all(), principal.organization, work_order_id)
    qs = TimelineEntry.objects.filter(organization=principal.organization, work_order=wo)
    if filters.kind:
        qs = qs.filter(kind__in=[k.value for k in filters.kind])
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=False, serialize=lambda e: _entry(request, e))


class NoteIn(In):
    body: Annotated[str, Field(min_length=1, max_length=10_000)]
    visibility: Visibility = Visibility.INTERNAL
    visit_id: Id | None = None


@api.post("/work-orders/{int:work_order_id}/notes", response={201: TimelineEntryOut,
                                                              **WRITE_ERRORS},
          url_name="note_create", tags=["timeline"], summary="Add a note to a work order")
@idempotent
def note_create(request: HttpRequest, work_order_id: int, payload: NoteIn):
    with _write(request, "write:work_orders", {"visit": "visit_id"}) as principal:
        org = principal.organization
        wo = _get(WorkOrder.objects.select_related("organization"), org, work_order_id)
        visit = None
        if payload.visit_id is not None:
            visit = Visit.objects.filter(work_order=wo, pk=payload.visit_id).first()
            if visit is None:
                        raise ValidationError({"visit_id": ValidationError(
                    "No such visit on this work order.", code="not_found")})
        entry = timeline.note_add(work_order=wo, by=_member_of(principal), body=payload.body,
                                  visibility=payload.visibility, visit=visit)
    return Answer(201, _entry(request, entry))


class FileIn(In):
    visibility: Visibility = Visibility.INTERNAL
    caption: Annotated[str, Field(max_length=500)] = ""


@api.post("/work-orders/{int:work_order_id}/files", response={201: TimelineEntryOut,
                                                              **WRITE_ERRORS},
          url_name="file_create", tags=["timeline"],
          summary="Attach a file to a work order (multipart; an image becomes a photo)")
@idempotent
def file_create(request: HttpRequest, work_order_id: int, file: File[UploadedFile],
                details: Form[FileIn]):
    with _write(request, "write:work_orders") as principal:
        org = principal.organization
        wo = _get(WorkOrder.objects.select_related("organization"), org, work_order_id)
        entry = timeline.attachment_add(work_order=wo, by=_member_of(principal), file=file,
                                        visibility=details.visibility, caption=details.caption)
    return Answer(201, _entry(request, entry))


@api.get("/timeline/{int:entry_id}/file", response={200: None, **ERRORS},
         url_name="timeline_file", tags=["timeline"], summary="A timeline entry's file")
def timeline_file(request: HttpRequest, entry_id: int):
    principal = need(request, "read:work_orders")
    entry = _get(TimelineEntry.objects.all(), principal.organization, entry_id)
    if not entry.attachment:
        raise Http404
    # Streamed from a bucket too: the API answers 200 with the bytes, whatever the storage.
    return file_stream(entry.attachment, filename=entry.attachment_name, as_attachment=True,
                       content_type=entry.attachment_type or "application/octet-stream",
                       cache_control="private, no-store")


# Job reports -------------------------------------------------------------------------------

def _report(request: HttpRequest, r: JobReport) -> dict:
    return {"id": r.pk, "work_order_id": r.work_order_id, "version": r.version,
            "size": r.size, "sha256": r.sha256, "created_at": r.created_at,
            "pdf": _url(request, "job_report_pdf", r.pk)}


class ReportFilters(Schema):
    cursor: pagination.Cursor | None = Field(None, description=pagination.CURSOR_HELP)
    limit: Limit = pagination.DEFAULT_LIMIT


@api.get("/work-orders/{int:work_order_id}/reports", response={200: JobReportPage, **ERRORS},
         url_name="job_report_list", tags=["work orders"],
         summary="A work order's job reports, each version")
def job_report_list(request: HttpRequest, work_order_id: int, filters: Query[ReportFilters]):
    principal = need(request, "read:work_orders")
    wo = _get(WorkOrder.objects.all(), principal.organization, work_order_id)
    return pagination.keyset_page(request, JobReport.objects.filter(
        organization=principal.organization, work_order=wo),
                                  cursor=filters.cursor, limit=filters.limit, by_updated=False,
                                  serialize=lambda r: _report(request, r))


@api.get("/job-reports/{int:report_id}/pdf", response={200: None, **ERRORS},
         url_name="job_report_pdf", tags=["work orders"], summary="A job report as PDF")
def job_report_pdf(request: HttpRequest, report_id: int):
    principal = need(request, "read:work_orders")
    report = _get(JobReport.objects.select_related("work_order"), principal.organization,
                  report_id)
    return file_stream(report.file, filename=report.filename, as_attachment=True,
                       content_type="application/pdf", cache_control="private, no-store")

