"""The technician app's JSON endpoints (see PROTOCOL.md) and the office's list of changes from
phones that were not applied.

Endpoints take the session login and Django's CSRF token (``X-CSRFToken``) like every other
form; a device is always looked up within the logged-in member's own devices, so another
member's or organization's device is a 404.
"""

from __future__ import annotations

import json
import mimetypes
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from crewline.core.access import (
    get_for_org_or_404,
    member_required,
    office_required,
    owner_required,
)
from crewline.core.files import file_stream
from crewline.field import selectors, services
from crewline.field.forms import FieldSettingsForm
from crewline.field.models import RejectedMutation
from crewline.workorders.models import TimelineEntry, Visibility, Visit

MAX_PUSH_BYTES = 10 * 1024 * 1024


def _error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _json_body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError) as exc:  # numbers past Python's digit limit, nesting
        raise ValueError(_("The request is not valid JSON.")) from exc
    if not isinstance(body, dict):
        raise ValueError(_("The request must be a JSON object."))
    return body


@member_required
@require_GET
@ensure_csrf_cookie
def me(request: HttpRequest) -> JsonResponse:
    """Who is logged in; also sets the CSRF cookie the app sends back as ``X-CSRFToken``."""
    from django.middleware.csrf import get_token

    member = request.member
    return JsonResponse({"member": {"id": member.pk, "name": member.name, "role": member.role},
                         "organization": {"name": request.organization.name,
                                          "time_zone": request.organization.time_zone,
                                          "formats": selectors.phone_formats()},
                         "csrf_token": get_token(request)})


@member_required
@require_POST
def device_register(request: HttpRequest) -> JsonResponse:
    try:
        body = _json_body(request)
        device_id = uuid.UUID(str(body.get("device_id")))
    except (ValueError, TypeError) as exc:
        return _error(400, str(exc) if isinstance(exc, ValueError) and "JSON" in str(exc)
                      else _("“device_id” must be a UUID."))
    name = body.get("name") or request.META.get("HTTP_USER_AGENT", "")
    try:
        device = services.device_register(member=request.member, device_id=device_id,
                                          name=str(name)[:200])
    except PermissionDenied as exc:
        raise Http404("No such device.") from exc
    services.device_seen(device=device, session_key=request.session.session_key)
    return JsonResponse({"device_id": str(device.pk), "last_seq": device.last_seq,
                         "name": device.name}, status=201)


def _check_mutations(value: Any) -> list[dict] | str:
    if not isinstance(value, list):
        return _("“mutations” must be a list.")
    if len(value) > services.MAX_BATCH:
        return _("Send at most %(n)d changes at a time.") % {"n": services.MAX_BATCH}
    previous = None
    for item in value:
        if not isinstance(item, dict):
            return _("Each change must be an object.")
        seq = item.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            return _("Each change needs a positive whole “seq”.")
        if previous is not None and seq != previous + 1:
            return _("Changes must be sent in order, numbered one after the other.")
        previous = seq
    return value


@member_required
@require_POST
def push(request: HttpRequest) -> JsonResponse:
    if len(request.body) > MAX_PUSH_BYTES:
        return _error(413, _("Send fewer changes at a time."))
    try:
        body = _json_body(request)
    except ValueError as exc:
        return _error(400, str(exc))
    mutations = _check_mutations(body.get("mutations"))
    if isinstance(mutations, str):
        return _error(400, mutations)
    result = services.push_apply(member=request.member, device_id=body.get("device_id"),
                                 session_key=request.session.session_key, mutations=mutations)
    payload = {"last_seq": result.last_seq, "results": result.results}
    if result.expected_seq is not None:
        return _error(409, _("Changes are missing before these; send from %(seq)d.")
                      % {"seq": result.expected_seq}, expected_seq=result.expected_seq,
                      **payload)
    return JsonResponse(payload)


@member_required
@require_GET
def pull(request: HttpRequest) -> JsonResponse:
    device = services.device_check_in(member=request.member,
                                      device_id=request.GET.get("device_id"),
                                      session_key=request.session.session_key)
    payload = selectors.pull(member=request.member, device=device,
                             cursor=request.GET.get("cursor"))
    return JsonResponse(payload, json_dumps_params={"separators": (",", ":")})


@member_required
@require_POST
def upload(request: HttpRequest) -> JsonResponse:
    """A photo ahead of its ``photo_add``: multipart ``client_id``, ``sha256``, ``file``."""
    try:
        client_id = uuid.UUID(request.POST.get("client_id", ""))
    except ValueError:
        return _error(400, _("“client_id” must be a UUID."))
    file = request.FILES.get("file")
    if file is None:
        return _error(400, _("Attach the photo as “file”."))
    if file.size > services.MAX_PHOTO_BYTES:
        return _error(413, _("The photo is too large."))
    try:
        stored = services.upload_store(member=request.member, client_id=client_id,
                                       content=file.read(),
                                       sha256=request.POST.get("sha256", ""))
    except ValidationError as exc:
        status = 409 if getattr(exc, "code", "") == "client_id_taken" else 400
        return _error(status, " ".join(exc.messages))
    return JsonResponse({"upload_id": str(stored.client_id), "size": stored.size,
                         "sha256": stored.sha256}, status=201)


def _may_see_entry(request: HttpRequest, entry: TimelineEntry) -> bool:
    member = request.member
    if member.is_office:
        return True
    settings = selectors.field_settings_for(member.organization_id)
    if settings.technicians_see_all:
        return True
    mine = Visit.objects.filter(organization_id=member.organization_id, crew=member)
    if mine.filter(work_order_id=entry.work_order_id).exists():
        return True
    # The service history of a site they are going to: customer-visible files only.
    return (entry.visibility == Visibility.CUSTOMER and entry.work_order.site_id is not None
            and mine.filter(work_order__site_id=entry.work_order.site_id).exists())


@member_required
@require_GET
def file(request: HttpRequest, pk: int) -> FileResponse:
    """A job's photo or file for the app: the technician's own jobs, and customer-visible ones
    of the sites they visit. Never a public media URL."""
    entry = get_for_org_or_404(TimelineEntry.objects.exclude(attachment="")
                               .select_related("work_order"), request.organization, pk=pk)
    if not _may_see_entry(request, entry):
        raise Http404("No such file.")
    content_type = (entry.attachment_type or mimetypes.guess_type(entry.attachment_name)[0]
                    or "application/octet-stream")
    # Streamed, never a redirect to the bucket: the app's service worker keeps it for offline
    # use, which it can only do for an answer from this site.
    return file_stream(entry.attachment, filename=entry.attachment_name, content_type=content_type,
                       cache_control="private, max-age=86400")


@office_required
@require_GET
def rejected_list(request: HttpRequest) -> HttpResponse:
    """Changes from phones that were not applied, with the reason, for the office to follow
    up; unresolved first."""
    show_all = request.GET.get("show") == "all"
    qs = selectors.rejected_for_office(organization=request.organization,
                                       unresolved_only=not show_all)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "field/rejected_list.html",
                  {"nav": "workorders", "page": page, "show_all": show_all})


@office_required
@require_POST
def device_revoke(request: HttpRequest, pk) -> HttpResponse:
    """The office revokes a member's lost phone (from the member's page): it can no longer
    sync, and the login session it used ends."""
    from django.contrib import messages
    from django.urls import reverse

    from crewline.core.redirects import next_url
    from crewline.field.models import Device

    device = get_for_org_or_404(Device.objects.select_related("member__user"),
                                request.organization, pk=pk)
    was_revoked, signed_in = device.revoked_at is not None, bool(device.session_key)
    services.device_revoke(device=device, by=request.member, sign_out=True)
    if not was_revoked:
        from crewline.core.useragent import short_user_agent

        what = {"device": short_user_agent(device.name) or _("The phone"),
                "name": device.member.name}
        messages.success(request, (_("“%(device)s” can no longer sync and is signed out of "
                                     "%(name)s's account.") if signed_in
                                   else _("“%(device)s” can no longer sync.")) % what)
    return redirect(next_url(request, reverse("core:members")))


@office_required
@require_POST
def rejected_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    rejected = get_for_org_or_404(RejectedMutation, request.organization, pk=pk)
    services.rejected_resolve(rejected=rejected, by=request.member)
    return redirect("field:rejected_list")




@owner_required
def settings(request: HttpRequest) -> HttpResponse:
    """The organization's rules for the technician app."""
    org = request.organization
    form = FieldSettingsForm(request.POST or None,
                             instance=selectors.field_settings_for(org.pk))
    if request.method == "POST" and form.is_valid():
        services.field_settings_update(organization_id=org.pk, by=request.member,
                                       **{name: form.cleaned_data[name]
                                          for name in FieldSettingsForm.Meta.fields})
        messages.success(request, _("Settings saved."))
        return redirect("field:settings")
    return render(request, "field/settings.html", {"form": form, "tab": "field"},
                  status=400 if form.is_bound else 200)
