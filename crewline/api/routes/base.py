"""The API object, its error answers and the helpers every group of endpoints uses: look-ups
in the caller's organization, times, the write's transaction, ETags."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from contextlib import contextmanager
from typing import Annotated

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, reverse
from ninja import NinjaAPI, Query, Schema
from ninja.errors import HttpError, ValidationError
from ninja.openapi.docs import Swagger
from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field, field_validator

from crewline.api import feed, limits, pagination, problems
from crewline.api.auth import BearerKey, OfficeSession, need
from crewline.api.export import export_filename, organization_export
from crewline.api.schemas import ChangePage, ProblemOut
from crewline.api.services import api_key_write_used
from crewline.core import storable
from crewline.core.audit import organization_write_lock
from crewline.core.models import Member
from crewline.workorders.models import Priority
from crewline.workorders.services.visits import ConflictError
from crewline.workorders.services.work_orders import TransitionError

DESCRIPTION = """Crewline's open API: every install, no plan needed.

Authenticate with an API key made by an owner under Settings → API keys:
`Authorization: Bearer cl_<prefix>_<secret>`. A key acts as its organization within its scopes
(`read:<group>`/`write:<group>` for customers, work_orders, billing, team; a write scope includes
reading). The office's logged-in browser session works too, as the member's role allows.

Lists page by an opaque cursor: follow `next` until it is null; `limit` is at most 100.
`GET /changes` follows everything that changed, in order. Times are ISO 8601 with an offset;
money is a decimal string with its currency. Errors are RFC 9457 problem details
(`application/problem+json`) with `errors` per field.

Send `Idempotency-Key: <uuid>` with a `POST` or `PATCH`: its first answer is kept 24 hours and
replayed for the same key (`Idempotent-Replayed: true`); the same key with another body is a
422. Reads answer an `ETag`; send it as `If-Match` and a change made meanwhile is a 412.

Each key may make 600 requests a minute unless an owner sets its own limit; every answer has
`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and `RateLimit-Policy`, and a 429
has `Retry-After` (nothing of that request was done)."""

class CrewlineAPI(NinjaAPI):
    def create_response(self, request, data, *, status=None, temporal_response=None):
        response = super().create_response(request, data, status=status,
                                           temporal_response=temporal_response)
        # An organization's data: kept by no proxy or shared browser cache.
        response.setdefault("Cache-Control", "private, no-store")
        return response

    @property
    def urls(self):
        """The API's URL patterns, each answer with the caller's rate limit headers."""
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = limits.with_headers(pattern.callback)
        return patterns, app_name, namespace

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """The document, with every error answer as the problem detail it is."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content")
                    if int(status) >= 400 and content and "application/json" in content:
                        content[problems.CONTENT_TYPE] = content.pop("application/json")
        _add_links(schema)
        return schema


V1 = "/api/v1"
# OpenAPI links: what an answer's ids lead to (made, then read, changed or acted on; listed,
# then read). (method, path, status) -> [(method, path, parameter, where in the answer)].
_MADE = "$response.body#/id"
_FIRST = "$response.body#/data/0/id"
LINKS = {
    ("post", "/customers", "201"): [
        ("get", "/customers/{customer_id}", "customer_id", _MADE),
        ("patch", "/customers/{customer_id}", "customer_id", _MADE),
        ("post", "/customers/{customer_id}/contacts", "customer_id", _MADE),
        ("post", "/customers/{customer_id}/sites", "customer_id", _MADE)],
    ("post", "/customers/{customer_id}/contacts", "201"): [
        ("get", "/contacts/{contact_id}", "contact_id", _MADE),
        ("patch", "/contacts/{contact_id}", "contact_id", _MADE)],
    ("post", "/customers/{customer_id}/sites", "201"): [
        ("get", "/sites/{site_id}", "site_id", _MADE),
        ("patch", "/sites/{site_id}", "site_id", _MADE),
        ("post", "/sites/{site_id}/equipment", "site_id", _MADE)],
    ("post", "/sites/{site_id}/equipment", "201"): [
        ("get", "/equipment/{equipment_id}", "equipment_id", _MADE),
        ("patch", "/equipment/{equipment_id}", "equipment_id", _MADE)],
    ("post", "/work-orders", "201"): [
        ("get", "/work-orders/{work_order_id}", "work_order_id", _MADE),
        ("patch", "/work-orders/{work_order_id}", "work_order_id", _MADE),
        ("post", "/work-orders/{work_order_id}/visits", "work_order_id", _MADE),
        ("post", "/work-orders/{work_order_id}/notes", "work_order_id", _MADE),
        ("post", "/work-orders/{work_order_id}/transitions", "work_order_id", _MADE),
        ("get", "/work-orders/{work_order_id}/timeline", "work_order_id", _MADE),
        ("post", "/work-orders/{work_order_id}/invoice", "work_order_id", _MADE)],
    ("post", "/work-orders/{work_order_id}/visits", "201"): [
        ("get", "/visits/{visit_id}", "visit_id", _MADE),
        ("post", "/visits/{visit_id}/reschedule", "visit_id", _MADE),
        ("post", "/visits/{visit_id}/assign", "visit_id", _MADE),
        ("post", "/visits/{visit_id}/cancel", "visit_id", _MADE)],
    ("post", "/price-book", "201"): [
        ("get", "/price-book/{item_id}", "item_id", _MADE),
        ("patch", "/price-book/{item_id}", "item_id", _MADE)],
    ("post", "/quotes", "201"): [("get", "/quotes/{quote_id}", "quote_id", _MADE)],
    ("post", "/work-orders/{work_order_id}/invoice", "201"): [
        ("get", "/invoices/{invoice_id}", "invoice_id", _MADE),
        ("post", "/invoices/{invoice_id}/mark-paid", "invoice_id", _MADE)],
    ("get", "/customers", "200"): [
        ("get", "/customers/{customer_id}", "customer_id", _FIRST),
        ("get", "/customers/{customer_id}/contacts", "customer_id", _FIRST)],
    ("get", "/work-orders", "200"): [
        ("get", "/work-orders/{work_order_id}", "work_order_id", _FIRST),
        ("get", "/work-orders/{work_order_id}/timeline", "work_order_id", _FIRST),
        ("get", "/work-orders/{work_order_id}/reports", "work_order_id", _FIRST)],
    ("get", "/visits", "200"): [("get", "/visits/{visit_id}", "visit_id", _FIRST)],
    ("get", "/invoices", "200"): [("get", "/invoices/{invoice_id}", "invoice_id", _FIRST)],
    ("get", "/quotes", "200"): [("get", "/quotes/{quote_id}", "quote_id", _FIRST)],
    ("get", "/members", "200"): [("get", "/members/{member_id}", "member_id", _FIRST)],
}


def _add_links(schema: dict) -> None:
    paths = schema.get("paths", {})
    for (method, path, status), targets in LINKS.items():
        responses = paths.get(V1 + path, {}).get(method, {}).get("responses", {})
        answer = responses.get(int(status), responses.get(status))
        if answer is None:
            continue
        links = answer.setdefault("links", {})
        for t_method, t_path, parameter, where in targets:
            target = paths.get(V1 + t_path, {}).get(t_method)
            if target is None:
                continue
            links[target["operationId"]] = {"operationId": target["operationId"],
                                            "parameters": {parameter: where}}


api = CrewlineAPI(
    title="Crewline API", version="1", description=DESCRIPTION, urls_namespace="api-v1",
    auth=[BearerKey(), OfficeSession()], throttle=[limits.PerKeyLimit()],
    # Swagger UI from django-ninja's own static files (no CDN): "ninja" is an installed app.
    docs=Swagger(settings={"persistAuthorization": False}),
)
problems.install(api)


def _path_objects() -> dict:
    from crewline.billing.models import Invoice, PriceBookItem, Quote
    from crewline.customers.models import Contact, Customer, Equipment, Site
    from crewline.documents.models import JobReport
    from crewline.webhooks.models import WebhookEndpoint
    from crewline.workorders.models import TimelineEntry, Visit, WorkOrder

    return {"customer_id": Customer, "contact_id": Contact, "site_id": Site,
            "equipment_id": Equipment, "work_order_id": WorkOrder, "visit_id": Visit,
            "entry_id": TimelineEntry, "report_id": JobReport, "member_id": Member,
            "item_id": PriceBookItem, "quote_id": Quote, "invoice_id": Invoice,
            "endpoint_id": WebhookEndpoint}


def _names_anothers_object(request: HttpRequest) -> bool:
    """Whether the path names an object that is not the caller's organization's."""
    principal = getattr(request, "auth", None)
    match = getattr(request, "resolver_match", None)
    if principal is None or match is None:
        return False
    models = _path_objects()
    for name, value in match.kwargs.items():
        model = models.get(name)
        if model is not None and not model.objects.filter(
                organization=principal.organization, pk=value).exists():
            return True
    return False


def _objects_first(handler, statuses=(400, 422)):
    """A body or query that does not validate, for another organization's object: the 404
    that object is, not what is wrong with the input."""

    def handle(request: HttpRequest, exc):
        status = getattr(exc, "status_code", 422)
        if status in statuses and _names_anothers_object(request):
            return problems.not_found(request, exc)
        return handler(request, exc)

    return handle


api.add_exception_handler(ValidationError, _objects_first(problems.validation))
api.add_exception_handler(HttpError, _objects_first(problems.http_error))

Id = Annotated[int, Field(ge=1, le=pagination.MAX_ID)]
Limit = Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT)]
ERRORS = {400: ProblemOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 410: ProblemOut,
          422: ProblemOut, 429: ProblemOut}
WRITE_ERRORS = {**ERRORS, 409: ProblemOut, 412: ProblemOut}
PRIORITY = {p.value: p.name.lower() for p in Priority}


_PLACEHOLDER = 987654321


def _url(request: HttpRequest, name: str, pk: int) -> str:
    """The absolute URL of ``name`` for ``pk``; reversed once per request and name (a list
    page links hundreds of objects)."""
    bases = getattr(request, "_api_url_bases", None)
    if bases is None:
        bases = request._api_url_bases = {}
    base = bases.get(name)
    if base is None:
        full = request.build_absolute_uri(reverse(f"api-v1:{name}", args=[_PLACEHOLDER]))
        base = bases[name] = tuple(full.split(str(_PLACEHOLDER), 1))
    return f"{base[0]}{pk}{base[1]}"


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



# Writes: through the same services as the office's pages ----------------------------------

def _moment(value: dt.datetime | None) -> dt.datetime | None:
    """A time the database can hold (years 1900 to 2200 as written), in UTC."""
    if value is None:
        return None
    if not 1900 <= value.year <= 2200:
        raise ValueError("Give a time between the years 1900 and 2200.")
    return value.astimezone(dt.UTC)


def _day(value: dt.date | None) -> dt.date | None:
    if value is not None and not 1900 <= value.year <= 2200:
        raise ValueError("Give a date between the years 1900 and 2200.")
    return value


# The years 1900 to 2200, said in the document too (the check after it says it in words).
_YEARS = {"pattern": r"^(?:19\d\d|2[01]\d\d|2200)-"}
Moment = Annotated[Annotated[AwareDatetime, Field(json_schema_extra=_YEARS)] | None,
                   AfterValidator(_moment)]
Day = Annotated[Annotated[dt.date, Field(json_schema_extra=_YEARS)] | None,
                AfterValidator(_day)]
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
    except (ConflictError, TransitionError) as exc:
        raise problems.Problem(
            409, "conflict", " ".join(exc.messages), title="Conflict",
            errors=[{"field": "", "message": m, "code": getattr(exc, "code", None) or "conflict"}
                    for m in exc.messages]) from exc
    except DjangoValidationError as exc:
        if renames and hasattr(exc, "error_dict"):
            raise DjangoValidationError({renames.get(k, k): v for k, v in exc.error_dict.items()}
                                        ) from exc
        raise


NO_NUL = r"^[^\x00]*$"


def _no_nul_in_document(schema: dict) -> None:
    """Say in the document what ``In`` checks: a text without a pattern of its own holds no NUL
    (the patterns of the others exclude it already)."""
    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and not {"pattern", "format", "enum"} & set(node):
                node["pattern"] = NO_NUL
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema.get("properties", {}))


class In(Schema):
    """A request body: what the database cannot store (``core.storable``: text with a NUL
    character or a lone surrogate, anywhere in the body) is a field error."""

    model_config = ConfigDict(json_schema_extra=_no_nul_in_document)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value, info):
        storable.check_value(value, info.field_name)
        return value


def patch_values(payload: Schema, nullable: tuple[str, ...] = ()) -> dict:
    """The fields a PATCH sent; null only for those that may be empty (a 422 otherwise)."""
    changes = payload.model_dump(exclude_unset=True)
    nulls = [k for k, v in changes.items() if v is None and k not in nullable]
    if nulls:
        raise DjangoValidationError({k: DjangoValidationError("May not be null.", code="null")
                                     for k in nulls})
    return changes


def _member_of(principal) -> Member | None:
    return principal.member



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



# ETags: a read's ETag is a hash of what it answers; PATCH with If-Match of a stale one is 412.

def etag_of(data: dict) -> str:
    """A strong ETag of a resource as a read answers it."""
    plain = json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"),
                       default=str)
    return '"' + hashlib.sha256(plain.encode()).hexdigest()[:32] + '"'


def _tags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def with_etag(request: HttpRequest, response: HttpResponse, data: dict) -> dict | HttpResponse:
    """``data`` with its ETag on ``response``; a GET whose If-None-Match names it is a 304."""
    tag = etag_of(_relative(request, data))
    response["ETag"] = tag
    wanted = request.headers.get("If-None-Match")
    if request.method == "GET" and wanted and (wanted.strip() == "*" or tag in _tags(wanted)):
        not_modified = HttpResponse(status=304)
        not_modified["ETag"] = tag
        not_modified["Cache-Control"] = "private, no-store"
        return not_modified
    return data


def _relative(request: HttpRequest, data):
    """``data`` with its links made relative: the same resource has one ETag whichever host
    name it was read through."""
    base = request.build_absolute_uri("/")
    if isinstance(data, dict):
        return {k: _relative(request, v) for k, v in data.items()}
    if isinstance(data, list):
        return [_relative(request, v) for v in data]
    if isinstance(data, str) and data.startswith(base):
        return data[len(base) - 1:]
    return data


def check_if_match(request: HttpRequest, organization_id: int, current) -> None:
    """In the write's transaction, before it changes anything: a 412 if the request's
    If-Match names no longer what ``current()`` (the resource as a read answers it) is. The
    organization's write lock is taken first, so no other write slips in between."""
    wanted = request.headers.get("If-Match")
    if wanted is None:
        return
    organization_write_lock(organization_id)
    tag = etag_of(_relative(request, current()))
    if wanted.strip() != "*" and tag not in _tags(wanted):
        raise problems.Problem(412, "stale", "It has changed since you read it (If-Match no "
                               "longer matches its ETag); read it again and send your change "
                               "with the new ETag.", title="Precondition failed",
                               headers={"ETag": tag})


# Change feed -----------------------------------------------------------------------------

class ChangeFilters(Schema):
    after: pagination.ChangeCursor | None = Field(
        None, description="The cursor of the last page read; without it the feed starts "
        "from the oldest change kept.")
    limit: Annotated[int, Field(ge=1, le=feed.MAX_LIMIT)] = 100


@api.get("/changes", response={200: ChangePage, **ERRORS}, url_name="change_list",
         tags=["changes"], summary="What changed, in order, since a cursor")
def change_list(request: HttpRequest, filters: Query[ChangeFilters]):
    """Every change your scopes let you see, oldest first: the resource and its id, and a
    link to read it fresh. Keep `cursor` and ask again with `after=<cursor>`. A cursor older
    than the log keeps (30 days) is answered 410: resync through the lists' `updated_since`."""
    return feed.changes_page(request, request.auth, after=filters.after, limit=filters.limit)



@api.get("/", auth=None, include_in_schema=False, url_name="index")
def index(request: HttpRequest):
    """Where to start: the document, the docs and the lists (public, like the document)."""
    base = request.build_absolute_uri("/api/v1/")
    return {"openapi": base + "openapi.json", "docs": base + "docs",
            "resources": {name: base + name for name in
                          ("customers", "sites", "equipment", "work-orders", "visits",
                           "members", "time-entries", "price-book", "quotes", "invoices",
                           "changes")}}


# Full export -------------------------------------------------------------------------------

@api.get("/export", response={200: None, **ERRORS}, url_name="export", tags=["export"],
         summary="Everything of the organization in one zip")
def export(request: HttpRequest):
    """A zip with every table of the organization as JSON Lines (`<app>.<model>.jsonl`), its
    files under `files/` and `manifest.json`. Needs the `export` scope; owners also have a
    button for it under Settings → API keys."""
    principal = need(request, "export")
    org = principal.organization
    handle = organization_export(organization=org, by=principal.member, label=principal.label)
    response = FileResponse(handle, as_attachment=True, filename=export_filename(org),
                            content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    return response
