"""A member's own notifications: the list, the navbar bell, marking them read."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.validators import URLValidator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crewline.core.access import member_required
from crewline.core.redirects import safe_url
from crewline.notifications import selectors, services
from crewline.notifications.forms import EmailChoicesForm

PER_PAGE = 50


@member_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = selectors.notifications_for_member(member=request.member)
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html",
                  {"nav": "notifications", "page": page,
                   "unread": selectors.unread_count(member=request.member),
                   "email_form": _email_form(request.member)})


def _email_form(member, data=None) -> EmailChoicesForm:
    choices = services.email_choices(member=member)
    return EmailChoicesForm(data, kinds=list(choices),
                            initial={"email_kinds": [k for k, on in choices.items() if on]})


@member_required
@require_POST
def email_settings(request: HttpRequest) -> HttpResponse:
    form = _email_form(request.member, request.POST)
    if form.is_valid():
        services.notification_preferences_set(email_kinds=set(form.cleaned_data["email_kinds"]),
                                              by=request.member)
        messages.success(request, _("Email choices saved."))
        return redirect("notifications:list")
    notifications = selectors.notifications_for_member(member=request.member)
    page = Paginator(notifications, PER_PAGE).get_page(1)
    return render(request, "notifications/list.html",
                  {"nav": "notifications", "page": page,
                   "unread": selectors.unread_count(member=request.member),
                   "email_form": form}, status=400)


@member_required
@require_http_methods(["GET", "POST", "DELETE"])
def push_subscription(request: HttpRequest) -> HttpResponse:
    """The browser's Web Push subscription: GET gives the server's public key, POST keeps a
    subscription (``PushSubscription.toJSON()``), DELETE forgets one (``{"endpoint": ...}``).
    JSON in and out; the CSRF token goes in the ``X-CSRFToken`` header."""
    if request.method == "GET":
        return JsonResponse({"public_key": settings.VAPID_PUBLIC_KEY,
                             "enabled": bool(settings.VAPID_PRIVATE_KEY)})
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": _("The request is not JSON.")}, status=400)
    endpoint = payload.get("endpoint") if isinstance(payload, dict) else None
    if not isinstance(endpoint, str) or len(endpoint) > 1000:
        return JsonResponse({"error": _("A subscription needs its endpoint.")}, status=400)
    try:
        URLValidator(schemes=["https", "http"])(endpoint)
    except ValidationError:
        return JsonResponse({"error": _("The endpoint is not a web address.")}, status=400)
    if request.method == "DELETE":
        deleted = services.push_subscription_delete(endpoint=endpoint, by=request.member)
        return JsonResponse({"deleted": deleted})
    keys = payload.get("keys")
    p256dh = keys.get("p256dh") if isinstance(keys, dict) else None
    auth = keys.get("auth") if isinstance(keys, dict) else None
    if not (isinstance(p256dh, str) and isinstance(auth, str) and 0 < len(p256dh) <= 200
            and 0 < len(auth) <= 100):
        return JsonResponse({"error": _("A subscription needs its keys p256dh and auth.")},
                            status=400)
    # The same answer whether it was stored or refused as someone else's.
    services.push_subscription_save(endpoint=endpoint, p256dh=p256dh, auth=auth,
                                    by=request.member)
    return JsonResponse({"endpoint": endpoint}, status=201)


@member_required
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The navbar bell alone, for htmx to refresh."""
    return render(request, "notifications/_bell.html")


@member_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link; opening it is reading it."""
    notification = selectors.notification_for_member_or_404(member=request.member, pk=pk)
    services.notification_mark_read(notification=notification, by=request.member)
    return redirect(safe_url(request, notification.url, reverse("notifications:list")))


@member_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = selectors.notification_for_member_or_404(member=request.member, pk=pk)
    services.notification_mark_read(notification=notification, by=request.member)
    if request.htmx:
        return render(request, "notifications/_item.html",
                      {"notification": notification, "oob_bell": True})
    return redirect("notifications:list")


@member_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(by=request.member)
    if count:
        messages.success(request, _("All notifications marked read."))
    return redirect("notifications:list")
