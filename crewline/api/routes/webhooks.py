"""Webhook endpoints, their deliveries and attempts, replays and test events (the ``webhooks``
scope), through ``crewline.webhooks.services`` like the owner's page. An endpoint's secret is
answered once, when it is made or rotated."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Schema
from ninja import Status as Answer
from pydantic import Field

from crewline.api import pagination
from crewline.api.auth import need
from crewline.api.idempotency import idempotent
from crewline.api.routes.base import (
    ERRORS,
    WRITE_ERRORS,
    Id,
    In,
    Limit,
    Moment,
    _get,
    _member_of,
    _url,
    _write,
    api,
    check_if_match,
    patch_values,
    with_etag,
)
from crewline.live.models import EVENTS
from crewline.webhooks import services
from crewline.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint

SCOPE = "webhooks"
TAGS = ["webhooks"]
Event = Enum("Event", {e.replace(".", "_").upper(): e for e in EVENTS}, type=str)


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str
    disabled_at: dt.datetime | None
    pending: int = Field(description="Deliveries waiting to go out.")
    previous_secret_until: dt.datetime | None = Field(
        description="After a rotation, the previous secret signs too until then.")
    created_at: dt.datetime
    updated_at: dt.datetime
    links: dict[str, str]


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="The `whsec_` secret that signs deliveries: shown once.")


class EndpointPage(Schema):
    data: list[EndpointOut]
    next: str | None


class DeliveryOut(Schema):
    id: int
    webhook_id: str = Field(description="The `webhook-id` header: the change feed entry's id.")
    event: str
    state: DeliveryState
    attempts: int
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    last_status: int | None
    last_error: str


class DeliveryPage(Schema):
    data: list[DeliveryOut]
    next: str | None


class AttemptOut(Schema):
    id: int
    delivery_id: int
    webhook_id: str
    started_at: dt.datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str
    error: str


class AttemptPage(Schema):
    data: list[AttemptOut]
    next: str | None


class Queued(Schema):
    queued: int = Field(description="How many deliveries were queued.")
    webhook_id: str | None = Field(None, description="A test event's `webhook-id`.")


URL = Annotated[str, Field(min_length=1, max_length=500)]
Description = Annotated[str, Field(max_length=200)]
Events = Annotated[list[Event], Field(min_length=1, max_length=len(EVENTS))]


class EndpointIn(In):
    url: URL
    events: Events
    description: Description = ""
    enabled: bool = True


class EndpointPatch(In):
    url: URL = None
    events: Events = None
    description: Description = None
    enabled: bool = None


class ReplayIn(In):
    event_id: Id | None = Field(None, description="One event again: its `webhook-id`.")
    since: Moment = Field(None, description="Or every event of the endpoint from this time...")
    until: Moment = Field(None, description="... to this one (not included).")


def _endpoints() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING)))


def _endpoint(request: HttpRequest, e: WebhookEndpoint) -> dict:
    own = _url(request, "webhook_endpoint_get", e.pk)
    return {"id": e.pk, "url": e.url, "description": e.description, "events": e.events,
            "enabled": e.enabled, "disabled_reason": e.disabled_reason,
            "disabled_at": e.disabled_at, "pending": e.pending,
            "previous_secret_until": e.previous_secret_until if e.previous_secret else None,
            "created_at": e.created_at, "updated_at": e.updated_at,
            "links": {"self": own, "deliveries": f"{own}/deliveries",
                      "attempts": f"{own}/attempts"}}


def _read(request: HttpRequest, org, pk: int) -> dict:
    return _endpoint(request, _get(_endpoints(), org, pk))


def _delivery(d: WebhookDelivery) -> dict:
    return {"id": d.pk, "webhook_id": d.msg_id, "event": d.event, "state": d.state,
            "attempts": d.attempts,
            "next_attempt_at": d.next_attempt_at if d.state == DeliveryState.PENDING else None,
            "created_at": d.created_at, "delivered_at": d.delivered_at,
            "last_status": d.last_status, "last_error": d.last_error}


def _attempt(a: WebhookAttempt) -> dict:
    return {"id": a.pk, "delivery_id": a.delivery_id, "webhook_id": a.delivery.msg_id,
            "started_at": a.started_at, "status_code": a.status_code,
            "latency_ms": a.latency_ms, "response_excerpt": a.response_excerpt,
            "error": a.error}


class Page(Schema):
    cursor: pagination.Cursor | None = Field(None, description=pagination.CURSOR_HELP)
    limit: Limit = pagination.DEFAULT_LIMIT


class DeliveryFilters(Page):
    state: DeliveryState | None = None


@api.get("/webhooks/endpoints", response={200: EndpointPage, **ERRORS}, tags=TAGS,
         url_name="webhook_endpoint_list", summary="List webhook endpoints")
def endpoint_list(request: HttpRequest, filters: Query[Page]):
    principal = need(request, SCOPE)
    qs = _endpoints().filter(organization=principal.organization)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=False, serialize=lambda e: _endpoint(request, e))


@api.post("/webhooks/endpoints", response={201: EndpointWithSecret, **WRITE_ERRORS},
          tags=TAGS, url_name="webhook_endpoint_create", summary="Add a webhook endpoint")
@idempotent
def endpoint_create(request: HttpRequest, payload: EndpointIn, response: HttpResponse):
    """The answer carries the endpoint's secret, the only time it is shown: keep it to
    verify the `webhook-signature` of what is sent (Standard Webhooks)."""
    with _write(request, SCOPE) as principal:
        endpoint = services.endpoint_create(
            organization=principal.organization, by=_member_of(principal), url=payload.url,
            events=[e.value for e in payload.events], description=payload.description,
            enabled=payload.enabled)
    data = _read(request, principal.organization, endpoint.pk)
    return Answer(201, {**with_etag(request, response, data), "secret": endpoint.secret})


@api.get("/webhooks/endpoints/{int:endpoint_id}",
         response={200: EndpointOut, 304: None, **ERRORS}, tags=TAGS,
         url_name="webhook_endpoint_get", summary="A webhook endpoint")
def endpoint_get(request: HttpRequest, endpoint_id: int, response: HttpResponse):
    principal = need(request, SCOPE)
    return with_etag(request, response, _read(request, principal.organization, endpoint_id))


@api.patch("/webhooks/endpoints/{int:endpoint_id}", response={200: EndpointOut, **WRITE_ERRORS},
           tags=TAGS, url_name="webhook_endpoint_update", summary="Change a webhook endpoint")
@idempotent
def endpoint_update(request: HttpRequest, endpoint_id: int, payload: EndpointPatch,
                    response: HttpResponse):
    """Turning an endpoint on again sends the events from then on; replay those missed."""
    changes = patch_values(payload)
    with _write(request, SCOPE) as principal:
        org = principal.organization
        endpoint = _get(WebhookEndpoint.objects.all(), org, endpoint_id)
        check_if_match(request, org.pk, lambda: _read(request, org, endpoint_id))
        if changes:
            events = changes.get("events")
            services.endpoint_update(
                endpoint=endpoint, by=_member_of(principal),
                url=changes.get("url", endpoint.url),
                events=endpoint.events if events is None else [e.value for e in events],
                description=changes.get("description", endpoint.description),
                enabled=changes.get("enabled", endpoint.enabled))
    return with_etag(request, response, _read(request, org, endpoint_id))


@api.delete("/webhooks/endpoints/{int:endpoint_id}", response={204: None, **WRITE_ERRORS},
            tags=TAGS, url_name="webhook_endpoint_delete",
            summary="Delete a webhook endpoint with its deliveries and log")
def endpoint_delete(request: HttpRequest, endpoint_id: int):
    with _write(request, SCOPE) as principal:
        org = principal.organization
        endpoint = _get(WebhookEndpoint.objects.select_related("organization"), org,
                        endpoint_id)
        check_if_match(request, org.pk, lambda: _read(request, org, endpoint_id))
        services.endpoint_delete(endpoint=endpoint, by=_member_of(principal))
    return Answer(204, None)


@api.post("/webhooks/endpoints/{int:endpoint_id}/rotate-secret",
          response={200: EndpointWithSecret, **WRITE_ERRORS}, tags=TAGS,
          url_name="webhook_endpoint_rotate", summary="Give an endpoint a new secret")
@idempotent
def endpoint_rotate(request: HttpRequest, endpoint_id: int, response: HttpResponse):
    """The new secret signs from now on, the previous one too for 24 hours (each delivery
    carries both signatures meanwhile). The new secret is shown this once."""
    with _write(request, SCOPE) as principal:
        org = principal.organization
        endpoint = _get(WebhookEndpoint.objects.all(), org, endpoint_id)
        check_if_match(request, org.pk, lambda: _read(request, org, endpoint_id))
        endpoint = services.endpoint_secret_rotate(endpoint=endpoint, by=_member_of(principal))
    data = _read(request, org, endpoint_id)
    return {**with_etag(request, response, data), "secret": endpoint.secret}


@api.get("/webhooks/endpoints/{int:endpoint_id}/deliveries",
         response={200: DeliveryPage, **ERRORS}, tags=TAGS, url_name="webhook_delivery_list",
         summary="An endpoint's deliveries, oldest first")
def delivery_list(request: HttpRequest, endpoint_id: int, filters: Query[DeliveryFilters]):
    principal = need(request, SCOPE)
    endpoint = _get(WebhookEndpoint.objects.all(), principal.organization, endpoint_id)
    qs = WebhookDelivery.objects.filter(endpoint=endpoint)
    if filters.state is not None:
        qs = qs.filter(state=filters.state)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=False, serialize=_delivery)


@api.get("/webhooks/endpoints/{int:endpoint_id}/attempts",
         response={200: AttemptPage, **ERRORS}, tags=TAGS, url_name="webhook_attempt_list",
         summary="An endpoint's delivery log: every request, its answer and latency")
def attempt_list(request: HttpRequest, endpoint_id: int, filters: Query[Page]):
    principal = need(request, SCOPE)
    endpoint = _get(WebhookEndpoint.objects.all(), principal.organization, endpoint_id)
    qs = WebhookAttempt.objects.filter(endpoint=endpoint).select_related("delivery")
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=False, serialize=_attempt)


@api.post("/webhooks/endpoints/{int:endpoint_id}/replay", response={202: Queued, **WRITE_ERRORS},
          tags=TAGS, url_name="webhook_replay", summary="Send events again")
@idempotent
def replay(request: HttpRequest, endpoint_id: int, payload: ReplayIn):
    """One event (`event_id`, its `webhook-id`) or the endpoint's events from `since` to
    `until`, in order, with their own ids: a receiver that has one already may skip it."""
    with _write(request, SCOPE) as principal:
        endpoint = _get(WebhookEndpoint.objects.select_related("organization"),
                        principal.organization, endpoint_id)
        queued = services.webhook_replay(endpoint=endpoint, by=_member_of(principal),
                                         change_id=payload.event_id, since=payload.since,
                                         until=payload.until)
    return Answer(202, {"queued": queued})


@api.post("/webhooks/endpoints/{int:endpoint_id}/test", response={202: Queued, **WRITE_ERRORS},
          tags=TAGS, url_name="webhook_test", summary="Send a test event")
@idempotent
def test_event(request: HttpRequest, endpoint_id: int):
    """A `webhook.test` event, signed and sent like any other (while the endpoint is on)."""
    with _write(request, SCOPE) as principal:
        endpoint = _get(WebhookEndpoint.objects.all(), principal.organization, endpoint_id)
        delivery = services.webhook_test_send(endpoint=endpoint, by=_member_of(principal))
    return Answer(202, {"queued": 1, "webhook_id": delivery.msg_id})
