"""A member's own notifications: the list, the navbar bell, marking them read."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crewline.core.access import member_required
from crewline.notifications import selectors, services

PER_PAGE = 50


@member_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = selectors.notifications_for_member(member=request.member)
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html",
                  {"nav": "notifications", "page": page,
                   "unread": selectors.unread_count(member=request.member)})


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
    if notification.url and url_has_allowed_host_and_scheme(
            notification.url, allowed_hosts={request.get_host()}):
        return redirect(notification.url)
    return redirect("notifications:list")


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
