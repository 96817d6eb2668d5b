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
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
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
    return [static(name) for name in SHELL_STATIC]


@member_required
@require_GET
# Photos from the phone's camera and the position stamped on a clock in or out.
@permissions_policy_override({**settings.PERMISSIONS_POLICY, "camera": ["self"],
                              "geolocation": ["self"]})
def app(request: HttpRequest) -> HttpResponse:
    """The app shell; my day and the visits are drawn by ``app.js`` from what is on the phone."""
    return render(request, "field/app.html", {
        "field_strings": _strings(),
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
        },
    })


def _push_config() -> dict[str, str] | None:
    """Where the app keeps this phone's Web Push subscription, and the server's public key;
    None when Web Push is not configured (the app then offers no alerts)."""
    if not (settings.VAPID_PRIVATE_KEY and settings.VAPID_PUBLIC_KEY):
        return None
    return {"key": settings.VAPID_PUBLIC_KEY,
            "url": reverse("notifications:push_subscription")}


def _strings() -> dict[str, str]:
    """The app's words, translated on the server (the app draws its pages in JavaScript)."""
    units = duration_units()
    return {
        "my_day": _("My day"), "today": _("Today"), "no_visits": _("No visits today."),
        "first_sync": _("Getting your visits…"),
        "online": _("Online"), "offline": _("Offline"), "syncing": _("Sending…"),
        "unreachable": _("Cannot reach the office"),
        # The units of durations, as crewline.formats.durations writes them.
        "min": units["min"], "unit_h": units["h"],
        "login_again": _("Log in again to send your changes"), "log_in": _("Log in"),
        "not_sent": _("%(n)s not yet sent"), "all_sent": _("All sent"),
        "not_yet_sent": _("not yet sent"), "sync_now": _("Sync"),
        "clock_in": _("Clock in"), "clock_out": _("Clock out"),
        "break_start": _("Start break"), "break_end": _("End break"),
        "clocked_in_since": _("Clocked in since %(time)s"), "on_break": _("On a break"),
        "rejected_title": _("Not accepted by the office system"),
        "status_scheduled": _("Scheduled"), "status_en_route": _("On the way"),
        "status_on_site": _("On site"), "status_done": _("Done"),
        "status_incomplete": _("Could not complete"), "status_cancelled": _("Cancelled"),
        "status_paused": _("Paused"),
        "event_en_route": _("On my way"), "event_arrive": _("Arrived"), "event_pause": _("Paused"),
        "event_resume": _("Resumed"), "event_complete": _("Completed"),
        "event_incomplete": _("Could not complete"),
        "on_my_way": _("On my way"), "arrived": _("Arrived"), "pause": _("Pause"),
        "resume": _("Resume"), "completed": _("Completed"),
        "could_not_complete": _("Could not complete"), "reason": _("Why not?"),
        "call": _("Call"), "instructions": _("Instructions"),
        "visit_notes": _("Notes for the crew"),
        "access_notes": _("Site access"), "equipment": _("Equipment"), "serial": _("serial"),
        "attachments": _("Attachments"), "checklist": _("Checklist"), "yes": _("Yes"),
        "no": _("No"), "save": _("Save"), "note": _("Note"), "add_note": _("Add note"),
        "customer_visible": _("The customer may see this note"), "photos": _("Photos"),
        "photo": _("Photo"), "take_photo": _("Camera"), "from_gallery": _("Gallery"),
        "parts": _("Parts and materials"), "part": _("Part"), "part_name": _("Part or material"),
        "quantity": _("Quantity"), "unit": _("Unit"), "add": _("Add"), "labor": _("Labor"),
        "minutes": _("Minutes"), "signature": _("Customer's signature"),
        "sign_here": _("Sign here"), "signer_name": _("Signer's name"), "clear": _("Clear"),
        "save_signature": _("Save signature"), "signed_by": _("Signed by"),
        "sign_first": _("Ask the customer to sign in the box first."),
        "sign_keyboard": _("With a keyboard: type the signer's name below, then press Enter "
                           "in the signature box to sign with it."),
        "sign_typed": _("Signed with the typed name %(name)s."),
        "timeline": _("What happened"), "history": _("Earlier jobs at this site"),
        "needs_answer": _("Answer “%(label)s” first."),
        "needs_signature": _("The customer's signature is required first."),
        "push_offer": _("Get an alert on this phone when the office changes your visits."),
        "push_on": _("Turn on alerts"), "not_now": _("Not now"),
        "push_failed": _("Alerts could not be turned on. Try again when you have signal."),
        "push_denied": _("Alerts are blocked for this site in the browser's settings."),
        "job_complete": _("Job complete"), "another_visit": _("Needs another visit"),
        "left_to_do": _("What is left to do?"),
        "job_complete_hint": _("“Job complete” completes the job for the office; it can "
                               "reopen it."),
        "office_closes": _("The office completes the job after your “Job complete”."),
        "outcome_job_complete": _("job complete"),
        "outcome_another_visit": _("needs another visit"),
        "photos_customer": _("The customer may see these photos"),
        "photo_shared": _("Customer sees"), "photo_internal": _("Internal"),
        "not_in_price_book": _("not in the price book"),
        "notices": _("Notices"), "all_notices": _("All notices (%(n)s)"),
        "open_visit": _("Open the visit"), "mark_read": _("Mark read"),
        "notice_read": _("Read"), "unread": _("new"), "no_notices": _("No notices."),
    }


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
    return digest.hexdigest()[:12]
