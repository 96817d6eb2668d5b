"""``/api/v1/``: the open API (Django Ninja, OpenAPI 3 at ``/api/v1/openapi.json``, docs at
``/api/v1/docs`` from the package's own files).

Views are thin: reads go through selectors scoped to the caller's organization (another
organization's object is a 404), each checks its scope first (403), and answers with the
resource's schema (``schemas.py``).
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import NinjaAPI, Query, Schema
from ninja import Status as Answer
from ninja.openapi.docs import Swagger
from pydantic import AfterValidator, AwareDatetime, Field

from crewline.api import feed, pagination, problems
from crewline.api.auth import BearerKey, OfficeSession, need
from crewline.api.schemas import (
    ChangePage,
    CustomerOut,
    CustomerPage,
    MemberOut,
    MemberPage,
    ProblemOut,
    SiteOut,
    VisitOut,
    VisitPage,
    WorkOrderOut,
    WorkOrderPage,
)
from crewline.api.services import api_key_write_used
from crewline.core.models import Member
from crewline.customers import services as customers
from crewline.customers.models import Contact, Customer, CustomerKind, Site
from crewline.workorders import services as wo_services
from crewline.workorders.models import (
    Priority,
    Status,
    Visit,
    VisitStatus,
    WorkOrder,
    WorkOrderKind,
)

DESCRIPTION = """Crewline's open API: every install, no plan needed.

Authenticate with an API key made by an owner under Settings → API keys:
`Authorization: Bearer cl_<prefix>_<secret>`. A key acts as its organization within its scopes
(`read:<group>`/`write:<group>` for customers, work_orders, billing, team; a write scope includes
reading). The office's logged-in browser session works too, as the member's role allows.

Lists page by an opaque cursor: follow `next` until it is null; `limit` is at most 100.
`GET /changes` follows everything that changed, in order. Times are ISO 8601 with an offset.
Errors are RFC 9457 problem details (`application/problem+json`)."""

class CrewlineAPI(NinjaAPI):
    def create_response(self, request, data, *, status=None, temporal_response=None):
        response = super().create_response(request, data, status=status,
                                           temporal_response=temporal_response)
        # An organization's data: kept by no proxy or shared browser cache.
        response.setdefault("Cache-Control", "private, no-store")
        return response

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """The document, with every error answer as the problem detail it is."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content")
                    if int(status) >= 400 and content and "application/json" in content:
                        content[problems.CONTENT_TYPE] = content.pop("application/json")
        return schema


api = CrewlineAPI(
    title="Crewline API", version="1", description=DESCRIPTION, urls_namespace="api-v1",
    auth=[BearerKey(), OfficeSession()],
    # Swagger UI from django-ninja's own static files (no CDN): "ninja" is an installed app.
    docs=Swagger(settings={"persistAuthorization": False}),
)
problems.install(api)

Id = Annotated[int, Field(ge=1, le=pagination.MAX_ID)]
Limit = Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT)]
ERRORS = {400: ProblemOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 410: ProblemOut,
          422: ProblemOut}
PRIORITY = {p.value: p.name.lower() for p in Priority}


def _url(request: HttpRequest, name: str, pk: int) -> str:
    return request.build_absolute_uri(reverse(f"api-v1:{name}", args=[pk]))


def _get(qs: QuerySet, organization, pk: int):
    if not 0 < pk <= pagination.MAX_ID:
        raise Http404
    found = qs.filter(organization=organization, pk=pk).first()
    if found is None:
        raise Http404
    return found


def _since(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as exc:
        raise problems.Problem(422, "validation", "updated_since is out of range.",
                               title="Invalid input",
                               errors=[{"field": "updated_since", "message": "Out of range.",
                                        "code": "range"}]) from exc


# Customers ---------------------------------------------------------------------------------

def _customers() -> QuerySet[Customer]:
    return Customer.objects.prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.order_by("id")),
        Prefetch("sites", queryset=Site.objects.order_by("id")))


def _site(request: HttpRequest, s: Site) -> dict:
    return {"id": s.pk, "customer_id": s.customer_id, "name": s.name,
            "address_line1": s.address_line1, "address_line2": s.address_line2,
            "city": s.city, "region": s.region, "postal_code": s.postal_code,
            "country": s.country,
            "latitude": None if s.latitude is None else str(s.latitude),
            "longitude": None if s.longitude is None else str(s.longitude),
            "access_notes": s.access_notes, "archived_at": s.archived_at,
            "updated_at": s.updated_at, "url": _url(request, "site_get", s.pk)}


def _customer(request: HttpRequest, c: Customer) -> dict:
    return {"id": c.pk, "name": c.name, "kind": c.kind, "email": c.email, "phone": c.phone,
            "billing_address": c.billing_address, "notes": c.notes,
            "external_ref": c.external_ref, "archived_at": c.archived_at,
            "created_at": c.created_at, "updated_at": c.updated_at,
            "contacts": [{"id": k.pk, "name": k.name, "role": k.role, "email": k.email,
                          "phone": k.phone, "is_primary": k.is_primary,
                          "archived_at": k.archived_at} for k in c.contacts.all()],
            "sites": [_site(request, s) for s in c.sites.all()],
            "url": _url(request, "customer_get", c.pk)}


class CustomerFilters(Schema):
    updated_since: AwareDatetime | None = Field(
        None, description="Only customers changed at or after this time; pages by "
        "(updated_at, id).")
    include_archived: bool = True
    cursor: str | None = None
    limit: Limit = pagination.DEFAULT_LIMIT


@api.get("/customers", response={200: CustomerPage, **ERRORS}, url_name="customer_list",
         tags=["customers"], summary="List customers with their contacts and sites")
def customer_list(request: HttpRequest, filters: Query[CustomerFilters]):
    principal = need(request, "read:customers")
    qs = _customers().filter(organization=principal.organization)
    since = _since(filters.updated_since)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    if not filters.include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=since is not None,
                                  serialize=lambda c: _customer(request, c))


@api.get("/customers/{int:customer_id}", response={200: CustomerOut, **ERRORS},
         url_name="customer_get", tags=["customers"], summary="A customer")
def customer_get(request: HttpRequest, customer_id: int):
    principal = need(request, "read:customers")
    return _customer(request, _get(_customers(), principal.organization, customer_id))


@api.get("/sites/{int:site_id}", response={200: SiteOut, **ERRORS}, url_name="site_get",
         tags=["customers"], summary="A site")
def site_get(request: HttpRequest, site_id: int):
    principal = need(request, "read:customers")
    return _site(request, _get(Site.objects.all(), principal.organization, site_id))


# Work orders and visits ------------------------------------------------------------------

def _visit(request: HttpRequest, v: Visit) -> dict:
    return {"id": v.pk, "work_order_id": v.work_order_id, "start": v.start, "end": v.end,
            "status": v.status, "crew": sorted(m.pk for m in v.crew.all()), "notes": v.notes,
            "arrived_at": v.arrived_at, "finished_at": v.finished_at, "outcome": v.outcome,
            "created_at": v.created_at, "updated_at": v.updated_at,
            "url": _url(request, "visit_get", v.pk)}


def _visits() -> QuerySet[Visit]:
    return Visit.objects.prefetch_related(Prefetch("crew", queryset=Member.objects.only("id")))


def _work_orders() -> QuerySet[WorkOrder]:
    return WorkOrder.objects.select_related("job_type").prefetch_related(
        "tags", Prefetch("visits", queryset=_visits().order_by("start", "id")))


def _work_order(request: HttpRequest, w: WorkOrder) -> dict:
    return {"id": w.pk, "number": w.number, "reference": w.reference,
            "customer_id": w.customer_id, "site_id": w.site_id, "kind": w.kind,
            "job_type": w.job_type.name if w.job_type else None,
            "priority": PRIORITY.get(w.priority, str(w.priority)), "title": w.title,
            "instructions": w.instructions, "requested_start": w.requested_start,
            "requested_end": w.requested_end, "due_date": w.due_date, "status": w.status,
            "status_reason": w.status_reason, "estimated_minutes": w.estimated_minutes,
            "tags": sorted(t.name for t in w.tags.all()), "completed_at": w.completed_at,
            "created_at": w.created_at, "updated_at": w.updated_at,
            "visits": [_visit(request, v) for v in w.visits.all()],
            "url": _url(request, "work_order_get", w.pk)}


class WorkOrderFilters(Schema):
    status: list[Status] = Field(default_factory=list,
                                 description="Any of these statuses (repeat the parameter).")
    customer: Id | None = Field(None, description="A customer's id.")
    updated_since: AwareDatetime | None = Field(
        None, description="Only work orders changed at or after this time; pages by "
        "(updated_at, id).")
    cursor: str | None = None
    limit: Limit = pagination.DEFAULT_LIMIT


@api.get("/work-orders", response={200: WorkOrderPage, **ERRORS}, url_name="work_order_list",
         tags=["work orders"], summary="List work orders with their visits")
def work_order_list(request: HttpRequest, filters: Query[WorkOrderFilters]):
    principal = need(request, "read:work_orders")
    qs = _work_orders().filter(organization=principal.organization)
    if filters.status:
        qs = qs.filter(status__in=[s.value for s in filters.status])
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    since = _since(filters.updated_since)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=since is not None,
                                  serialize=lambda w: _work_order(request, w))


@api.get("/work-orders/{int:work_order_id}", response={200: WorkOrderOut, **ERRORS},
         url_name="work_order_get", tags=["work orders"], summary="A work order")
def work_order_get(request: HttpRequest, work_order_id: int):
    principal = need(request, "read:work_orders")
    return _work_order(request, _get(_work_orders(), principal.organization, work_order_id))


class VisitFilters(Schema):
    technician: Id | None = Field(None, description="A member's id: visits they are crew of.")
    date_from: dt.date | None = Field(
        None, description="Visits starting on or after this day (the organization's time "
        "zone).")
    date_to: dt.date | None = Field(None, description="Visits starting on or before this day.")
    status: list[VisitStatus] = Field(default_factory=list)
    updated_since: AwareDatetime | None = None
    cursor: str | None = None
    limit: Limit = pagination.DEFAULT_LIMIT


def _day_start(day: dt.date, tz) -> dt.datetime | None:
    try:
        return dt.datetime.combine(day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    except OverflowError:
        return None


@api.get("/visits", response={200: VisitPage, **ERRORS}, url_name="visit_list",
         tags=["work orders"], summary="List visits")
def visit_list(request: HttpRequest, filters: Query[VisitFilters]):
    principal = need(request, "read:work_orders")
    tz = principal.organization.tzinfo
    qs = _visits().filter(organization=principal.organization)
    if filters.technician is not None:
        qs = qs.filter(crew__id=filters.technician)
    if filters.date_from is not None:
        start = _day_start(filters.date_from, tz)
        qs = qs.filter(start__gte=start) if start else qs.none()
    if filters.date_to is not None and filters.date_to < dt.date.max:
        end = _day_start(filters.date_to + dt.timedelta(days=1), tz)
        qs = qs.filter(start__lt=end) if end else qs
    if filters.status:
        qs = qs.filter(status__in=[s.value for s in filters.status])
    since = _since(filters.updated_since)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=since is not None,
                                  serialize=lambda v: _visit(request, v))


@api.get("/visits/{int:visit_id}", response={200: VisitOut, **ERRORS}, url_name="visit_get",
         tags=["work orders"], summary="A visit")
def visit_get(request: HttpRequest, visit_id: int):
    principal = need(request, "read:work_orders")
    return _visit(request, _get(_visits(), principal.organization, visit_id))


# Members ----------------------------------------------------------------------------------

def _members() -> QuerySet[Member]:
    return Member.objects.select_related("user").prefetch_related("skills")


def _member(request: HttpRequest, m: Member) -> dict:
    return {"id": m.pk, "name": m.name, "email": m.user.email, "role": m.role,
            "phone": m.phone, "colour": m.colour,
            "skills": sorted(s.name for s in m.skills.all()), "is_active": m.is_active,
            "created_at": m.created_at, "url": _url(request, "member_get", m.pk)}


class MemberFilters(Schema):
    cursor: str | None = None
    limit: Limit = pagination.DEFAULT_LIMIT


@api.get("/members", response={200: MemberPage, **ERRORS}, url_name="member_list",
         tags=["team"], summary="List members")
def member_list(request: HttpRequest, filters: Query[MemberFilters]):
    principal = need(request, "read:team")
    qs = _members().filter(organization=principal.organization)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=False, serialize=lambda m: _member(request, m))


@api.get("/members/{int:member_id}", response={200: MemberOut, **ERRORS}, url_name="member_get",
         tags=["team"], summary="A member")
def member_get(request: HttpRequest, member_id: int):
    principal = need(request, "read:team")
    return _member(request, _get(_members(), principal.organization, member_id))


# Change feed -----------------------------------------------------------------------------

class ChangeFilters(Schema):
    after: str | None = Field(None, description="The cursor of the last page read; without "
                              "it the feed starts from the oldest change kept.")
    limit: Annotated[int, Field(ge=1, le=feed.MAX_LIMIT)] = 100


@api.get("/changes", response={200: ChangePage, **ERRORS}, url_name="change_list",
         tags=["changes"], summary="What changed, in order, since a cursor")
def change_list(request: HttpRequest, filters: Query[ChangeFilters]):
    """Every change your scopes let you see, oldest first: the resource and its id, and a
    link to read it fresh. Keep `cursor` and ask again with `after=<cursor>`. A cursor older
    than the log keeps (30 days) is answered 410: resync through the lists' `updated_since`."""
    return feed.changes_page(request, request.auth, after=filters.after, limit=filters.limit)


# Writes: through the same services as the office's pages ----------------------------------

def _moment(value: dt.datetime | None) -> dt.datetime | None:
    """A time the database can hold (years 1900 to 2200, in UTC)."""
    if value is None:
        return None
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:
        utc = None
    if utc is None or not 1900 <= utc.year <= 2200:
        raise ValueError("Give a time between the years 1900 and 2200.")
    return utc


def _day(value: dt.date | None) -> dt.date | None:
    if value is not None and not 1900 <= value.year <= 2200:
        raise ValueError("Give a date between the years 1900 and 2200.")
    return value


Moment = Annotated[AwareDatetime | None, AfterValidator(_moment)]
Day = Annotated[dt.date | None, AfterValidator(_day)]
Text = Annotated[str, Field(max_length=10_000)]
PRIORITY_BY_NAME = {name: value for value, name in PRIORITY.items()}


@contextmanager
def _write(request: HttpRequest, scope: str, renames: dict[str, str] | None = None):
    """The write's transaction, in which a key's use of ``scope`` is audited; the services'
    field errors come back under the API's field names."""
    principal = need(request, scope)
    try:
        with transaction.atomic():
            yield principal
            if principal.api_key is not None:
                api_key_write_used(api_key=principal.api_key, scope=scope,
                                   method=request.method, path=request.path)
    except DjangoValidationError as exc:
        if renames and hasattr(exc, "error_dict"):
            raise DjangoValidationError({renames.get(k, k): v for k, v in exc.error_dict.items()}
                                        ) from exc
        raise


def _member_of(principal) -> Member | None:
    return principal.member


class CustomerIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: CustomerKind = CustomerKind.RESIDENTIAL
    email: Annotated[str, Field(max_length=254)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    billing_address: Text = ""
    notes: Text = ""
    external_ref: Annotated[str, Field(max_length=80)] = ""


@api.post("/customers", response={201: CustomerOut, **ERRORS}, url_name="customer_create",
          tags=["customers"], summary="Add a customer")
def customer_create(request: HttpRequest, payload: CustomerIn):
    with _write(request, "write:customers") as principal:
        customer = customers.customer_create(organization=principal.organization,
                                             by=_member_of(principal),
                                             **payload.model_dump())
    return Answer(201, _customer(request, _get(_customers(), principal.organization,
                                                customer.pk)))


class WorkOrderIn(Schema):
    customer_id: Id
    site_id: Id | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)]
    kind: WorkOrderKind = WorkOrderKind.REACTIVE
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    instructions: Text = ""
    requested_start: Moment = None
    requested_end: Moment = None
    due_date: Day = None


class WorkOrderPatch(Schema):
    site_id: Id | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)] = None
    kind: WorkOrderKind = None
    priority: Literal["low", "normal", "high", "urgent"] = None
    instructions: Text = None
    requested_start: Moment = None
    requested_end: Moment = None
    due_date: Day = None


def _related(principal, model, pk: int | None, field: str):
    """The organization's row ``pk`` named by a body's ``field``; a field error if none."""
    if pk is None:
        return None
    found = model.objects.filter(organization=principal.organization, pk=pk).first()
    if found is None:
        raise DjangoValidationError({field: DjangoValidationError(
            "No such %(thing)s in your organization.", code="not_found",
            params={"thing": model._meta.verbose_name})})
    return found


WO_RENAMES = {"site": "site_id", "customer": "customer_id"}


@api.post("/work-orders", response={201: WorkOrderOut, **ERRORS}, url_name="work_order_create",
          tags=["work orders"], summary="Raise a work order")
def work_order_create(request: HttpRequest, payload: WorkOrderIn):
    with _write(request, "write:work_orders", WO_RENAMES) as principal:
        values = payload.model_dump()
        customer = _related(principal, Customer, values.pop("customer_id"), "customer_id")
        site = _related(principal, Site, values.pop("site_id"), "site_id")
        values["priority"] = PRIORITY_BY_NAME[values["priority"]]
        wo = wo_services.work_order_create(organization=principal.organization,
                                           by=_member_of(principal), customer=customer,
                                           site=site, **values)
    return Answer(201, _work_order(request, _get(_work_orders(), principal.organization,
                                                  wo.pk)))


@api.patch("/work-orders/{int:work_order_id}", response={200: WorkOrderOut, **ERRORS},
           url_name="work_order_update", tags=["work orders"],
           summary="Change a work order's fields (status changes have their own actions)")
def work_order_update(request: HttpRequest, work_order_id: int, payload: WorkOrderPatch):
    changes = payload.model_dump(exclude_unset=True)
    nulls = [k for k in ("title", "kind", "priority", "instructions") if k in changes
             and changes[k] is None]
    if nulls:
        raise DjangoValidationError({k: DjangoValidationError("May not be null.", code="null")
                                     for k in nulls})
    with _write(request, "write:work_orders", WO_RENAMES) as principal:
        wo = _get(WorkOrder.objects.select_related("organization"), principal.organization,
                  work_order_id)
        if "site_id" in changes:
            changes["site"] = _related(principal, Site, changes.pop("site_id"), "site_id")
        if "priority" in changes:
            changes["priority"] = PRIORITY_BY_NAME[changes["priority"]]
        if changes:
            wo_services.work_order_update(work_order=wo, by=_member_of(principal), **changes)
    return _work_order(request, _get(_work_orders(), principal.organization, wo.pk))


@api.get("/", auth=None, include_in_schema=False, url_name="index")
def index(request: HttpRequest):
    """Where to start: the document, the docs and the lists (public, like the document)."""
    base = request.build_absolute_uri("/api/v1/")
    return {"openapi": base + "openapi.json", "docs": base + "docs",
            "resources": {name: base + name for name in
                          ("customers", "work-orders", "visits", "members", "changes")}}
