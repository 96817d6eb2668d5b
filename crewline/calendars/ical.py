"""RFC 5545 calendars of visits, made with ``icalendar``.

Each visit is one event whose UID never changes (``visit-<id>@<host>``) and whose SEQUENCE is
``Visit.sequence``, raised by every change of time, crew or status; so Google, Apple and
Outlook update the event they already have rather than add another. Cancelled visits stay in the
feed with STATUS:CANCELLED so that calendars take them off. Times are in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vDuration, vText

from crewline.calendars.models import CalendarFeed
from crewline.field.links import app_visit_path
from crewline.workorders.models import Visit, VisitStatus

PRODID = "-//Crewline//Crewline field service//EN"
# How often subscribed calendars are asked to fetch again (most clients decide for themselves).
REFRESH = dt.timedelta(minutes=15)


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "crewline.invalid"


def visit_uid(visit: Visit, host: str | None = None) -> str:
    return f"visit-{visit.pk}@{host or site_host()}"


def job_url(visit: Visit, *, for_office: bool = True) -> str:
    """Where the event's link goes: the work order page for the office; for a technician,
    the visit in their app (the office page is closed to them)."""
    if for_office:
        return settings.SITE_URL + reverse("workorders:detail",
                                           kwargs={"number": visit.work_order.number})
    return settings.SITE_URL + app_visit_path(visit.pk)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def visit_event(visit: Visit, *, host: str, with_crew_in_summary: bool,
                for_office: bool = True) -> Event:
    wo = visit.work_order
    site = wo.site
    crew = [m.name for m in visit.crew.all()]
    summary = f"{wo.reference} {wo.title} — {wo.customer.name}"
    if with_crew_in_summary and crew:
        summary += f" ({', '.join(crew)})"
    cancelled = visit.status == VisitStatus.CANCELLED
    if cancelled:
        summary = _("Cancelled: %(summary)s") % {"summary": summary}

    lines = []
    if wo.customer.phone:
        lines.append(_("Customer phone: %(phone)s") % {"phone": wo.customer.phone})
    if crew:
        lines.append(_("Crew: %(names)s") % {"names": ", ".join(crew)})
    if site is not None and site.access_notes:
        lines += ["", _("Access: %(notes)s") % {"notes": site.access_notes}]
    if wo.instructions:
        lines += ["", _("Instructions:"), wo.instructions]
    if visit.notes:
        lines += ["", _("Notes for the crew:"), visit.notes]
    url = job_url(visit, for_office=for_office)
    lines += ["", _("Job: %(url)s") % {"url": url}]

    event = Event()
    event.add("uid", visit_uid(visit, host))
    event.add("summary", summary)
    event.add("dtstart", _utc(visit.start))
    event.add("dtend", _utc(visit.end))
    event.add("dtstamp", _utc(visit.updated_at))
    event.add("last-modified", _utc(visit.updated_at))
    event.add("created", _utc(visit.created_at))
    event.add("sequence", visit.sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    event.add("description", "\n".join(lines).strip())
    event.add("url", url)
    if site is not None:
        event.add("location", vText(site.one_line_address))
        if site.has_coordinates:
            event.add("geo", (float(site.latitude), float(site.longitude)))
    return event


def feed_calendar(*, feed: CalendarFeed, visits: Iterable[Visit]) -> bytes:
    """The feed as an iCalendar document."""
    org = feed.organization
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    name = (f"{org.name} — {feed.member.name}" if feed.member is not None
            else _("%(org)s — all visits") % {"org": org.name})
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", org.time_zone)
    # icalendar does not know these two properties and would write a timedelta as text
    # ("0:15:00"), which calendar apps ignore; as durations they read PT15M.
    cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    host = site_host()
    for_office = feed.member is None or feed.member.is_office
    for visit in visits:
        cal.add_component(visit_event(visit, host=host,
                                      with_crew_in_summary=feed.member_id is None,
                                      for_office=for_office))
    return cal.to_ical()
