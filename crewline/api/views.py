"""The owner's API keys page: make a key (shown once), list keys with their last use, revoke."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crewline.api import selectors, services
from crewline.api.export import export_filename, organization_export
from crewline.api.forms import ApiKeyForm, RateLimitForm
from crewline.core.access import owner_required


def _page(request: HttpRequest, form: ApiKeyForm, *, new_key: str = "", status: int = 200
          ) -> HttpResponse:
    return render(request, "api/keys.html", {
        "form": form, "tab": "api_keys", "new_key": new_key,
        "keys": selectors.api_key_list(organization=request.organization),
        "api_base": request.build_absolute_uri("/api/v1/"),
        "default_rate_limit": settings.API_RATE_LIMIT,
    }, status=status)


@owner_required
def keys(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _key, full = services.api_key_create(
                organization=request.organization, by=request.member,
                name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(), rate_limit=form.cleaned_data["rate_limit"])
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                form.add_error("expires_on" if field == "expires_at" else field, errors)
        else:
            # Shown in this answer only: the key is not stored and cannot be shown again.
            response = _page(request, ApiKeyForm(), new_key=full)
            response["Cache-Control"] = "no-store"
            return response
    return _page(request, form)


@owner_required
@require_POST
def key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = selectors.api_key_for_member(request.member, pk)
    services.api_key_revoke(api_key=key, by=request.member)
    messages.success(request, _("%(name)s is revoked: it no longer works.") % {"name": key.name})
    return redirect("api:keys")


@owner_required
@require_POST
def key_limit(request: HttpRequest, pk: int) -> HttpResponse:
    key = selectors.api_key_for_member(request.member, pk)
    form = RateLimitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a number of requests a minute between 1 and 100,000, "
                                  "or leave it empty for the default."))
        return redirect("api:keys")
    services.api_key_rate_limit_set(api_key=key, by=request.member,
                                    rate_limit=form.cleaned_data["rate_limit"])
    messages.success(request, _("%(name)s may make %(limit)s requests a minute.") % {
        "name": key.name, "limit": key.rate_limit or settings.API_RATE_LIMIT})
    return redirect("api:keys")


@owner_required
@require_POST
def data_export(request: HttpRequest) -> FileResponse:
    """Everything of the organization in one zip (``crewline.api.export``)."""
    handle = organization_export(organization=request.organization, by=request.member)
    return FileResponse(handle, as_attachment=True, content_type="application/zip",
                        filename=export_filename(request.organization))
