"""Calendar feeds: the private .ics URL (no login) and the page to make, remake or revoke one."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crewline.calendars import selectors, services
from crewline.calendars.ical import feed_calendar
from crewline.calendars.models import CalendarFeed
from crewline.core.access import member_required, office_required

NEW_FEED_SESSION_KEY = "calendars_new_feed"
# Fetches are counted at most this often, so that a polling calendar does not write every time.
FETCH_STAMP_EVERY = dt.timedelta(minutes=10)


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed behind ``token``: no login (calendar apps cannot log in); the token is the key."""
    calendar_feed = selectors.feed_for_token(token)
    if calendar_feed is None:
        raise Http404("No such calendar.")
    now = timezone.now()
    body = feed_calendar(feed=calendar_feed,
                         visits=selectors.feed_visits(feed=calendar_feed, now=now))
    if (calendar_feed.last_fetched_at is None
            or calendar_feed.last_fetched_at < now - FETCH_STAMP_EVERY):
        CalendarFeed.objects.filter(pk=calendar_feed.pk).update(last_fetched_at=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="crewline.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def feed_url(token: str) -> str:
    return settings.SITE_URL + reverse("calendars:feed", kwargs={"token": token})


@member_required
@require_GET
def feed_settings(request: HttpRequest) -> HttpResponse:
    feeds = selectors.live_feeds(member=request.member)
    new = request.session.pop(NEW_FEED_SESSION_KEY, None)
    return render(request, "calendars/settings.html", {
        "nav": "calendar", "feeds": feeds, "new": new,
        "new_webcal": new and "webcal://" + new["url"].split("://", 1)[1],
    })


def _made(request: HttpRequest, scope: str, token: str) -> HttpResponse:
    # Shown once on the next page: only the token's hash is kept.
    request.session[NEW_FEED_SESSION_KEY] = {"scope": scope, "url": feed_url(token)}
    return redirect("calendars:settings")


@member_required
@require_POST
def regenerate(request: HttpRequest) -> HttpResponse:
    _feed, token = services.calendar_feed_create(organization=request.organization,
                                                 member=request.member, by=request.member)
    return _made(request, "mine", token)


@member_required
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    if services.calendar_feed_revoke(organization=request.organization, member=request.member,
                                     by=request.member):
        messages.success(request, _("Your calendar link was turned off. Calendars that use it "
                                    "stop updating."))
    return redirect("calendars:settings")


@office_required
@require_POST
def office_regenerate(request: HttpRequest) -> HttpResponse:
    _feed, token = services.calendar_feed_create(organization=request.organization,
                                                 member=None, by=request.member)
    return _made(request, "office", token)


@office_required
@require_POST
def office_revoke(request: HttpRequest) -> HttpResponse:
    if services.calendar_feed_revoke(organization=request.organization, member=None,
                                     by=request.member):
        messages.success(request, _("The office calendar link was turned off."))
    return redirect("calendars:settings")
