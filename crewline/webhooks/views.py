"""The owner's webhooks pages: endpoints (add, change, turn off, delete), each with its secret
(rotated with a day's overlap), a test event, replays and the log of deliveries."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crewline.core.access import owner_required
from crewline.live.models import EVENTS
from crewline.webhooks import selectors, services
from crewline.webhooks.forms import EndpointForm, ReplayForm
from crewline.webhooks.models import WebhookEndpoint


def _errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _values(form: EndpointForm) -> dict:
    data = form.cleaned_data
    return {"url": data["url"], "description": data["description"], "events": data["events"],
            "enabled": data["enabled"]}


@owner_required
def endpoints(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None, initial={"events": list(EVENTS)})
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(organization=request.organization,
                                                by=request.member, **_values(form))
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Endpoint added. Copy its signing secret below."))
            return redirect("webhooks:detail", endpoint.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "webhooks/endpoints.html", {
        "form": form, "tab": "webhooks",
        "endpoints": selectors.endpoint_list(organization=request.organization),
    }, status=status)


def _detail_page(request: HttpRequest, endpoint: WebhookEndpoint, *, form=None,
                 replay_form=None, status: int = 200) -> HttpResponse:
    form = form or EndpointForm(initial={
        "url": endpoint.url, "description": endpoint.description, "events": endpoint.events,
        "enabled": endpoint.enabled})
    response = render(request, "webhooks/detail.html", {
        "endpoint": endpoint, "form": form, "replay_form": replay_form or ReplayForm(),
        "tab": "webhooks", "log": selectors.attempt_log(endpoint=endpoint),
        "pending": selectors.pending_count(endpoint=endpoint),
    }, status=status)
    # The page shows the signing secret.
    response["Cache-Control"] = "no-store"
    return response


@owner_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for_member(request.member, pk)
    if request.method != "POST":
        return _detail_page(request, endpoint)
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, by=request.member, **_values(form))
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("webhooks:detail", endpoint.pk)
    return _detail_page(request, endpoint, form=form, status=400)


@owner_required
@require_POST
def rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for_member(request.member, pk)
    services.endpoint_secret_rotate(endpoint=endpoint, by=request.member)
    messages.success(request, _("New secret made. For 24 hours events are signed with both the "
                                "new and the previous one."))
    return redirect("webhooks:detail", endpoint.pk)


@owner_required
@require_POST
def test_send(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for_member(request.member, pk)
    services.webhook_test_send(endpoint=endpoint, by=request.member)
    messages.success(request, _("Test event queued: it shows in the log below once sent."))
    return redirect("webhooks:detail", endpoint.pk)


@owner_required
@require_POST
def replay(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for_member(request.member, pk)
    form = ReplayForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            count = services.webhook_replay(
                endpoint=endpoint, by=request.member, change_id=data.get("event_id"),
                since=None if data.get("event_id") else data.get("since"),
                until=None if data.get("event_id") else data.get("until"))
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("%(n)d events queued to be sent again.") % {"n": count})
            return redirect("webhooks:detail", endpoint.pk)
    return _detail_page(request, endpoint, replay_form=form, status=400)


@owner_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for_member(request.member, pk)
    services.endpoint_delete(endpoint=endpoint, by=request.member)
    messages.success(request, _("Endpoint deleted."))
    return redirect("webhooks:list")
