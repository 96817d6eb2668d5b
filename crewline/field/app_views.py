"""The technician app's pages: the app shell at ``/field/``, its web app manifest and its service
worker (served from ``/field/sw.js`` so that it may control every page under ``/field/``).

Everything else the app shows comes from the sync API (see PROTOCOL.md) and lives on the phone.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog
from django_permissions_policy.decorators import permissions_policy_override

from crewline.core.access import member_required
from crewline.field.selectors import phone_formats
from crewline.formats.durations import duration_units

# Files the service worker keeps for offline use (static URLs are resolved at request time, so
# the hashed names of the production storage are what gets cached).
SHELL_STATIC = [
    "vendor/bootstrap/bootstrap.min.css",
    "field/app.css",
    "field/sync.js",
    "field/app.js",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "core/crewline.js",
    "field/icon.svg",
    "field/icon-192.png",
    "field/icon-512.png",
]


def shell_assets() -> list[str]:
    """What the service worker keeps: the static files and the words of the active language."""
    return [*(static(name) for name in SHELL_STATIC), catalogue_url()]


def catalogue_url(language: str | None = None) -> str:
    """The technician app's words in ``language`` (the active one), as Django's JavaScript
    catalogue: one address per language, so that the service worker keeps the member's."""
    return reverse("field:catalogue", args=[language or get_language()])


_catalogue_view = JavaScriptCatalog.as_view(domain="djangojs", packages=["crewline.field"])


@require_GET
def catalogue(request: HttpRequest, language: str) -> HttpResponse:
    """``gettext``, ``interpolate`` and the words of ``crewline/locale/<language>/LC_MESSAGES/
    djangojs.po`` for the app's JavaScript. The same for everyone (the sign-in page's browser
    included), so no member is required; a language not offered is a 404."""
    if language not in dict(settings.LANGUAGES):
        raise Http404
    with translation.override(language):
        return _catalogue_view(request)


@member_required
@require_GET
# Photos from the phone's camera and the position stamped on a clock in or out.
@permissions_policy_override({**settings.PERMISSIONS_POLICY, "camera": ["self"],
                              "geolocation": ["self"]})
def app(request: HttpRequest) -> HttpResponse:
    """The app shell; my day and the visits are drawn by ``app.js`` from what is on the phone."""
    return render(request, "field/app.html", {
        "catalogue": catalogue_url(),
        "field_config": {
            "api": reverse("field:me").rsplit("me", 1)[0],
            "sw": reverse("field:sw"),
            "scope": reverse("field:app"),
            "login": reverse("login"),
            "member": {"id": request.member.pk, "name": request.member.name},
            # Until the first sync stores the organization's own (``me``).
            "organization": {"time_zone": request.organization.time_zone,
                             "formats": phone_formats()},
            "push": _push_config(),
            # The units of durations, as crewline.formats.durations writes them.
            "units": duration_units(),
        },
    })


def _push_config() -> dict[str, str] | None:
    """Where the app keeps this phone's Web Push subscription, and the server's public key;
    None when Web Push is not configured (the app then offers no alerts)."""
    if not (settings.VAPID_PRIVATE_KEY and settings.VAPID_PUBLIC_KEY):
        return None
    return {"key": settings.VAPID_PUBLIC_KEY,
            "url": reverse("notifications:push_subscription")}


@member_required
@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    scope = reverse("field:app")
    data = {
        "name": _("Crewline field"),
        "short_name": _("Crewline"),
        "description": _("My day's visits, offline."),
        "start_url": scope,
        "scope": scope,
        "id": scope,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b3d5c",
        "icons": [
            {"src": static("field/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("field/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("field/icon-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
            {"src": static("field/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@member_required
@never_cache
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    assets = shell_assets()
    shell = reverse("field:app")
    config = {"version": _version(assets), "assets": assets, "shell": shell,
              "api": reverse("field:me").rsplit("me", 1)[0], "sync": static("field/sync.js"),
              "static": settings.STATIC_URL, "login": reverse("login"),
              "icon": static("field/icon-192.png")}
    response = render(request, "field/sw.js", {"config_json": json.dumps(config)},
                      content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = shell
    return response


def _version(assets: list[str]) -> str:
    """Changes whenever a cached file does (hashed names in production, contents in
    development), so that phones pick up a new app shell."""
    digest = hashlib.sha256(json.dumps(assets).encode())
    for name in SHELL_STATIC:
        path = finders.find(name)
        if path:
            with open(path, "rb") as fh:
                digest.update(fh.read())
    template = Path(__file__).parent / "templates" / "field" / "sw.js"
    digest.update(template.read_bytes())
    # A translation changed: the phones fetch the words again.
    for path in sorted(Path(settings.LOCALE_PATHS[0]).glob("*/LC_MESSAGES/djangojs.mo")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
