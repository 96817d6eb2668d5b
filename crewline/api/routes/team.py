"""Members (``read:team``) and their time entries (``read:team``)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Schema
from pydantic import AwareDatetime, Field

from crewline.api import pagination
from crewline.api.auth import need
from crewline.api.routes.base import ERRORS, Id, Limit, _get, _since, _url, api, with_etag
from crewline.api.schemas import MemberOut, MemberPage, TimeEntryPage
from crewline.core.models import Member
from crewline.timesheets.models import TimeEntry


def _members() -> QuerySet[Member]:
    return Member.objects.select_related("user").prefetch_related("skills")


def _member(request: HttpRequest, m: Member) -> dict:
    return {"id": m.pk, "name": m.name, "email": m.user.email, "role": m.role,
            "phone": m.phone, "colour": m.colour,
            "skills": sorted(s.name for s in m.skills.all()), "is_active": m.is_active,
            "created_at": m.created_at, "url": _url(request, "member_get", m.pk)}


class MemberFilters(Schema):
    cursor: pagination.Cursor | None = Field(None, description=pagination.CURSOR_HELP)
    limit: Limit = pagination.DEFAULT_LIMIT


@api.get("/members", response={200: MemberPage, **ERRORS}, url_name="member_list",
         tags=["team"], summary="List members")
def member_list(request: HttpRequest, filters: Query[MemberFilters]):
    principal = need(request, "read:team")
    qs = _members().filter(organization=principal.organization)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=False, serialize=lambda m: _member(request, m))


@api.get("/members/{int:member_id}", response={200: MemberOut, 304: None, **ERRORS},
         url_name="member_get", tags=["team"], summary="A member")
def member_get(request: HttpRequest, member_id: int, response: HttpResponse):
    principal = need(request, "read:team")
    return with_etag(request, response,
                     _member(request, _get(_members(), principal.organization, member_id)))


# Time entries ------------------------------------------------------------------------------

def _time_entry(request: HttpRequest, t: TimeEntry) -> dict:
    minutes = None
    if t.end is not None:
        minutes = int((t.end - t.start).total_seconds() // 60)
    return {"id": t.pk, "member_id": t.member_id, "kind": t.kind, "start": t.start,
            "end": t.end, "minutes": minutes, "visit_id": t.visit_id, "source": t.source,
            "created_at": t.created_at, "updated_at": t.updated_at}


class TimeEntryFilters(Schema):
    technician: Id | None = Field(None, description="A member's id.")
    date_from: dt.date | None = Field(None, description="Entries starting on or after this "
                                      "day (the organization's time zone).")
    date_to: dt.date | None = Field(None, description="Entries starting on or before this day.")
    updated_since: AwareDatetime | None = None
    cursor: pagination.Cursor | None = Field(None, description=pagination.CURSOR_HELP)
    limit: Limit = pagination.DEFAULT_LIMIT


def _day_start(day: dt.date, tz) -> dt.datetime | None:
    try:
        return dt.datetime.combine(day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    except OverflowError:
        return None


@api.get("/time-entries", response={200: TimeEntryPage, **ERRORS}, url_name="time_entry_list",
         tags=["team"], summary="List time entries (clocked work and breaks)")
def time_entry_list(request: HttpRequest, filters: Query[TimeEntryFilters]):
    principal = need(request, "read:team")
    tz = principal.organization.tzinfo
    qs = TimeEntry.objects.filter(organization=principal.organization)
    if filters.technician is not None:
        qs = qs.filter(member_id=filters.technician)
    if filters.date_from is not None:
        start = _day_start(filters.date_from, tz)
        qs = qs.filter(start__gte=start) if start else qs.none()
    if filters.date_to is not None and filters.date_to < dt.date.max:
        end = _day_start(filters.date_to + dt.timedelta(days=1), tz)
        qs = qs.filter(start__lt=end) if end else qs
    since = _since(filters.updated_since)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return pagination.keyset_page(request, qs, cursor=filters.cursor, limit=filters.limit,
                                  by_updated=since is not None,
                                  serialize=lambda t: _time_entry(request, t))
