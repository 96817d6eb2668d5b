"""The customer's tracking page for one visit: who is coming, when they should arrive, and
where the van is while it is on the way.

``visit_eta`` estimates the arrival from the technician's last reported position
(``field.TravelPosition``) or, when the phone has sent none, from the site of their last visit
that day: the drive as route planning estimates it (``scheduling.travel.drive_between``: the
straight line times the organization's road factor at its average speed, or the routing server
when ``ROUTING_URL`` is set). ``tracking_url`` makes the link for the message that tells the
customer the technician is on the way.

What the page shows of the technician's whereabouts, it shows only while the visit is on the
way, and only relative to the site (a distance and a bearing, rounded), never before the van
has left where the trip started (``HOLD_NEAR_START_M``); before, the page says when the visit
is scheduled, and after arrival that the technician has arrived, with no position at all.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format, time_format
from django.utils.translation import gettext as _

from crewline.portal.models import PortalLink, TrackingLink
from crewline.scheduling import travel
from crewline.workorders.models import EntryKind, TimelineEntry, Visit, VisitStatus

# A tracking link works until this long after the visit's end (or after it is made).
TRACKING_LINK_AFTER_END = dt.timedelta(hours=12)
# The map is held back until the van is this far from where the trip started: the start (a
# home, another customer) is never shown.
HOLD_NEAR_START_M = 500
# What the page shows is rounded to this: a coarse position.
DISTANCE_STEP_M = 100
BEARING_STEP = 5
# Where a visit of the technician's that day may have been when the phone sends no position.
ARRIVED = (VisitStatus.ON_SITE, VisitStatus.DONE, VisitStatus.INCOMPLETE)


def _point(site) -> travel.Point | None:
    if site is None or not site.has_coordinates:
        return None
    return float(site.latitude), float(site.longitude)


def _position(visit: Visit):
    from crewline.field.models import TravelPosition

    return (TravelPosition.objects.filter(organization_id=visit.organization_id,
                                          visit_id=visit.pk).first())


def _departed_at(visit: Visit) -> dt.datetime | None:
    """When the visit was marked on the way (the latest status entry while it is)."""
    entry = (TimelineEntry.objects.filter(organization_id=visit.organization_id,
                                          visit_id=visit.pk, kind=EntryKind.VISIT_STATUS)
             .order_by("-id").only("device_time", "created_at").first())
    if entry is None:
        return None
    return entry.device_time or entry.created_at


def previous_site(visit: Visit, now: dt.datetime):
    """The site of the crew's last visit that day (in the organization's time zone) that they
    reached before this one, or None."""
    tz = visit.work_order.organization.tzinfo
    day = now.astimezone(tz).date()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    crew = list(visit.crew.values_list("pk", flat=True))
    if not crew:
        return None
    earlier = (Visit.objects.filter(organization_id=visit.organization_id, crew__in=crew,
                                    status__in=ARRIVED, arrived_at__gte=start,
                                    arrived_at__lte=now,
                                    work_order__site__latitude__isnull=False,
                                    work_order__site__longitude__isnull=False)
               .exclude(pk=visit.pk).select_related("work_order__site")
               .order_by("-arrived_at", "-id").first())
    return earlier.work_order.site if earlier is not None else None


def visit_eta(visit: Visit, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the technician on the way to ``visit`` should arrive (aware, UTC), or None.

    None unless the visit is on the way and its site has coordinates, and when there is
    neither a position from the phone nor an earlier site that day to start from. From a
    position: its time plus the drive from it; from the earlier site: the time the visit was
    marked on the way plus the drive; never earlier than ``now``.
    """
    now = now or timezone.now()
    if visit.status != VisitStatus.EN_ROUTE:
        return None
    site = _point(visit.work_order.site)
    if site is None:
        return None
    position = _position(visit)
    if position is not None:
        origin, since = (position.latitude, position.longitude), position.reported_at
    else:
        earlier = _point(previous_site(visit, now))
        if earlier is None:
            return None
        origin, since = earlier, _departed_at(visit) or now
    drive = travel.drive_between(origin, site,
                                 **travel.organization_travel(visit.work_order.organization))
    return max(now, since + drive).astimezone(dt.UTC)


def tracking_link_issue(visit: Visit) -> tuple[TrackingLink, str]:
    """A new link to ``visit``'s tracking page; returns the row and the token (only its hash
    is kept, as for portal links)."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    ends = max(now, visit.end or now)
    link = TrackingLink.objects.create(organization_id=visit.organization_id, visit=visit,
                                       token_hash=PortalLink.hash_token(token), created_at=now,
                                       expires_at=ends + TRACKING_LINK_AFTER_END)
    return link, token


def tracking_url(visit: Visit) -> str:
    """The full address of a new link to ``visit``'s tracking page (for a message to the
    customer): it opens that visit's page only, until 12 hours after the visit's end."""
    _link, token = tracking_link_issue(visit)
    return settings.SITE_URL + reverse("portal_public:track", args=[token])


def tracking_link_for_token(token: str) -> TrackingLink | None:
    """The live link ``token`` opens, with its visit, work order, site and organization; None
    when it is unknown, tampered with or expired."""
    if not token or len(token) > 100:
        return None
    link = (TrackingLink.objects
            .select_related("visit__work_order__site", "visit__work_order__organization",
                            "visit__work_order__customer")
            .filter(token_hash=PortalLink.hash_token(token)).first())
    if link is None or link.expires_at <= timezone.now():
        return None
    return link


def _bearing(a: travel.Point, b: travel.Point) -> float:
    """The initial bearing from ``a`` to ``b``, degrees clockwise from north."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    x = math.sin(lon2 - lon1) * math.cos(lat2)
    y = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(x, y)) % 360


def _technician(visit: Visit, position):
    if position is not None:
        return position.member
    return visit.crew.select_related("user").order_by("pk").first()


def _window(visit: Visit) -> str:
    if visit.start is None:
        return ""
    start, end = timezone.localtime(visit.start), timezone.localtime(visit.end)
    day = date_format(start, "l") + " " + date_format(start, "DATE_FORMAT")
    return f"{day}, {time_format(start, 'TIME_FORMAT')}–{time_format(end, 'TIME_FORMAT')}"


# The map's outer ring is the first of these (metres) the van is inside.
RINGS_M = (1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000)
MAP_RADIUS = 100  # the outer ring's radius in the SVG's units (the site is at 0, 0)


def map_view(position: dict) -> dict:
    """Where the van goes on the page's map: the site at the centre, north up, the outer ring
    the first of ``RINGS_M`` the van is inside (a van further off sits on that ring)."""
    distance, bearing = position["distance_m"], math.radians(position["bearing"])
    ring = next((r for r in RINGS_M if distance <= r), RINGS_M[-1])
    scale = min(distance, ring) / ring * MAP_RADIUS
    km = ring / 1000
    return {"x": round(math.sin(bearing) * scale, 1), "y": round(-math.cos(bearing) * scale, 1),
            "ring_m": ring, "ring_label": _("%(km)s km") % {"km": number_format(km, 0)},
            "distance_text": _("%(km)s km away") % {
                "km": number_format(distance / 1000, 1)}}


def tracking_state(visit: Visit, now: dt.datetime | None = None) -> dict:
    """What the tracking page and its JSON show of ``visit`` now, in the active language and
    time zone: ``phase`` (scheduled, en_route, arrived, finished, cancelled), ``title``,
    ``first_name``, ``initial``, ``window``, ``eta`` (ISO, en route only), ``eta_text``,
    ``minutes`` and ``position``: ``{"distance_m", "bearing"}`` of the van from the site,
    rounded, only while on the way and once the van has left where the trip started; else
    None."""
    now = now or timezone.now()
    status = visit.status
    position = _position(visit) if status == VisitStatus.EN_ROUTE else None
    member = _technician(visit, position)
    name = member.user.get_short_name() if member is not None else ""
    phase = {VisitStatus.SCHEDULED: "scheduled", VisitStatus.EN_ROUTE: "en_route",
             VisitStatus.ON_SITE: "arrived", VisitStatus.DONE: "finished",
             VisitStatus.INCOMPLETE: "finished"}.get(status, "cancelled")
    window = _window(visit)
    state = {"phase": phase, "first_name": name, "initial": name[:1].upper(),
             "window": window, "eta": None, "eta_text": "", "minutes": None,
             "position": None, "map": None}
    someone = name or _("Your technician")
    if phase == "scheduled":
        state["title"] = (_("Your visit is scheduled for %(window)s.") % {"window": window}
                          if window else _("Your visit is not scheduled yet."))
    elif phase == "en_route":
        state["title"] = _("%(name)s is on the way.") % {"name": someone}
        eta = visit_eta(visit, now)
        if eta is not None:
            minutes = max(0, math.ceil((eta - now).total_seconds() / 60))
            # A position gone stale (the phone lost its signal) leaves the estimate at now.
            words = (_("Arriving any minute now.") if minutes <= 1 else
                     _("Arriving at about %(time)s (in about %(minutes)d min).")
                     % {"time": time_format(timezone.localtime(eta), "TIME_FORMAT"),
                        "minutes": minutes})
            state.update(eta=eta.isoformat(), minutes=minutes, eta_text=words)
        else:
            state["eta_text"] = _("Arriving soon.")
        site = _point(visit.work_order.site)
        if position is not None and site is not None:
            here = (position.latitude, position.longitude)
            start = (position.start_latitude, position.start_longitude)
            if travel.haversine_km(start, here) * 1000 >= HOLD_NEAR_START_M:
                metres = travel.haversine_km(here, site) * 1000
                state["position"] = {
                    "distance_m": int(round(metres / DISTANCE_STEP_M) * DISTANCE_STEP_M),
                    "bearing": int(round(_bearing(site, here) / BEARING_STEP)
                                   * BEARING_STEP) % 360}
                state["map"] = map_view(state["position"])
    elif phase == "arrived":
        state["title"] = _("%(name)s has arrived.") % {"name": someone}
    elif phase == "finished":
        state["title"] = _("The visit is over.")
    else:
        state["title"] = _("This visit was cancelled.")
    return state
