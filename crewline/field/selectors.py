"""Reads of the technician app: field settings, devices, and the pull payload.

``pull`` answers in a fixed number of queries whatever the number of visits: visits with their
work order, customer and site in one, then one query each for crews, equipment, the jobs' open
visits, the visits' own entries, attachments, the sites' history and its notes and photos, and
the price book when it changed.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps as django_apps
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format

from crewline.core.models import Member
from crewline.field.models import Device, FieldSettings, RejectedMutation
from crewline.live.models import Change, ChangeKind
from crewline.notifications.models import Notification
from crewline.timesheets.models import TimeEntry, TimeKind
from crewline.workorders.models import (
    OPEN_VISIT_STATUSES,
    EntryKind,
    Status,
    TimelineEntry,
    Visibility,
    Visit,
    WorkOrder,
)

# Today and this many days after it are kept on the phone.
DAYS_AHEAD = 3
HISTORY_JOBS = 5
HISTORY_NOTES = 3
HISTORY_PHOTOS = 4
NOTIFICATIONS = 20
# More things changed than this since the cursor: a full snapshot is cheaper than working out
# which.
MAX_DELTA_CHANGES = 5000
# Change-log ids are handed out before their transactions commit; on PostgreSQL a lower id can
# become visible after a higher one. The cursor only moves past changes older than this, so a
# late commit is still picked up (recent changes may be sent twice, which is harmless).
SETTLE = dt.timedelta(seconds=10)
# 2: the price book comes through the pull; a phone with a cursor of 1 starts again from a full
# snapshot, which brings it the whole price book. 3: the cursor counts in the one change log
# (crewline.live.models.Change); older cursors start again from a full snapshot.
CURSOR_VERSION = "3"
FIELD_ENTRY_KINDS = (EntryKind.NOTE, EntryKind.PHOTO, EntryKind.CHECKLIST, EntryKind.PART,
                     EntryKind.LABOR, EntryKind.SIGNATURE, EntryKind.VISIT_STATUS)


# How the phone labels a day of visits ("Tuesday 3 Dec"); times and dates are the project's.
DAY_LABEL_FORMAT = "l j M"


def phone_formats() -> dict[str, str]:
    """The date and time formats of every other page (Django's format strings, in the active
    language), for the phone to write times as the office does."""
    return {"time": get_format("TIME_FORMAT"), "date": get_format("DATE_FORMAT"),
            "day": DAY_LABEL_FORMAT}


# Inside ``field_settings_held``: the settings read so far, by organization.
_held_settings: contextvars.ContextVar[dict[int, FieldSettings] | None] = (
    contextvars.ContextVar("crewline_field_settings", default=None))


def field_settings_for(organization_id: int) -> FieldSettings:
    """The organization's field settings; the defaults (unsaved) when it has none. Inside
    ``field_settings_held``, read once."""
    held = _held_settings.get()
    if held is not None and organization_id in held:
        return held[organization_id]
    settings = (FieldSettings.objects.filter(organization_id=organization_id).first()
                or FieldSettings(organization_id=organization_id))
    if held is not None:
        held[organization_id] = settings
    return settings


@contextmanager
def field_settings_held() -> Iterator[None]:
    """Read each organization's field settings once within the block (the phone's push, which
    asks for them with every photo and every completion). For a block that does not change them
    and holds the organization's lock (``organization_write_lock``), which their update takes
    too: they cannot change meanwhile."""
    token = _held_settings.set({})
    try:
        yield
    finally:
        _held_settings.reset(token)


def devices_of(member: Member) -> QuerySet[Device]:
    """The member's phones for the office: in use first, the latest sync first."""
    from django.db.models import F

    return (Device.objects.filter(organization_id=member.organization_id, member=member)
            .order_by(F("revoked_at").desc(nulls_first=True),
                      F("last_seen_at").desc(nulls_last=True), "-created_at"))


def rejected_for_office(*, organization, unresolved_only: bool = True
                        ) -> QuerySet[RejectedMutation]:
    qs = (RejectedMutation.objects.filter(organization=organization)
          .select_related("device__member__user", "work_order"))
    if unresolved_only:
        qs = qs.filter(resolved_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def rejected_for_work_order(work_order: WorkOrder) -> QuerySet[RejectedMutation]:
    return (RejectedMutation.objects.filter(organization_id=work_order.organization_id,
                                            work_order=work_order, resolved_at__isnull=True)
            .select_related("device__member__user").order_by("created_at", "id"))


@dataclass(frozen=True)
class Cursor:
    change_id: int
    window_end: dt.date

    def encode(self) -> str:
        return f"{CURSOR_VERSION}.{self.change_id}.{self.window_end.isoformat()}"

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """None for no cursor or one this server does not understand (a full snapshot)."""
        if not value:
            return None
        try:
            version, change_id, window_end = value.split(".")
            if version != CURSOR_VERSION:
                return None
            cursor = cls(int(change_id), dt.date.fromisoformat(window_end))
        except ValueError:
            return None
        # Within what the database and the organization's time zone can hold.
        if not (0 <= cursor.change_id < 2**63 and 2000 <= cursor.window_end.year < 2200):
            return None
        return cursor


def _window(today: dt.date) -> tuple[dt.datetime, dt.datetime, dt.date]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
    end_day = today + dt.timedelta(days=DAYS_AHEAD + 1)
    return start, dt.datetime.combine(end_day, dt.time.min, tzinfo=tz), end_day


def visible_visits(member: Member, settings: FieldSettings, today: dt.date) -> QuerySet[Visit]:
    """The visits ``member`` keeps on the phone: today and the next ``DAYS_AHEAD`` days, the
    ones they are on (every visit for the office, or when the organization lets technicians see
    all). Cancelled visits stay, so that the phone shows them as cancelled."""
    start, end, _ = _window(today)
    qs = Visit.objects.filter(organization_id=member.organization_id, start__gte=start,
                              start__lt=end)
    if not (member.is_office or settings.technicians_see_all):
        qs = qs.filter(crew=member)
    return qs


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _file_url(entry_id: int) -> str:
    # Reversed once and filled in: a pull names a few hundred files.
    return f"{_file_url_prefix()}{entry_id}/"


@functools.cache
def _file_url_prefix() -> str:
    return reverse("field:file", args=[0]).removesuffix("0/")


def _entry(entry: TimelineEntry) -> dict:
    out: dict = {"id": entry.pk, "kind": entry.kind, "at": _iso(entry.created_at)}
    if entry.client_id:
        out["client_id"] = str(entry.client_id)
    if entry.device_time:
        out["device_time"] = _iso(entry.device_time)
    if entry.body:
        out["body"] = entry.body
    if entry.data:
        out["data"] = entry.data
    if entry.author_id:
        out["author"] = entry.author_id
    if entry.attachment:
        out["url"] = _file_url(entry.pk)
    if entry.visibility != Visibility.INTERNAL:
        out["visibility"] = entry.visibility
    return out


def _site(site) -> dict:
    return {
        "id": site.pk, "name": site.name, "address": site.one_line_address,
        "lat": float(site.latitude) if site.latitude is not None else None,
        "lng": float(site.longitude) if site.longitude is not None else None,
        "access_notes": site.access_notes, "history": [],
    }


def _history_entries(organization_id: int, job_ids: list[int]) -> list[tuple]:
    """The newest customer-visible notes and photos of each of these jobs (at most
    ``max(HISTORY_NOTES, HISTORY_PHOTOS)`` of each kind), newest first, as ``(id,
    work_order_id, kind, body)``.

    Written out: the ORM took twice as long to build this query and its rows as the database
    takes to run it, in every pull (ids and text need no conversion). Only placeholders and the
    quoted table name are put into the text."""
    if not job_ids:
        return []
    table = connection.ops.quote_name(TimelineEntry._meta.db_table)
    placeholders = ", ".join(["%s"] * len(job_ids))
    sql = ("SELECT id, work_order_id, kind, body FROM ("  # noqa: S608 - see the docstring
           " SELECT id, work_order_id, kind, body, created_at, ROW_NUMBER() OVER ("
           "  PARTITION BY work_order_id, kind ORDER BY id DESC) AS place"
           f" FROM {table} WHERE organization_id = %s AND work_order_id IN ({placeholders})"
           "  AND visibility = %s AND kind IN (%s, %s)"
           ") ranked WHERE place <= %s ORDER BY created_at DESC, id DESC")
    with connection.cursor() as cursor:
        cursor.execute(sql, [organization_id, *job_ids, Visibility.CUSTOMER, EntryKind.NOTE,
                             EntryKind.PHOTO, max(HISTORY_NOTES, HISTORY_PHOTOS)])
        return cursor.fetchall()


def _site_history(organization_id: int, site_ids: Iterable[int],
                  exclude_work_orders: set[int]) -> dict[int, list]:
    """The last ``HISTORY_JOBS`` completed jobs at each site with their customer-visible notes
    and photos (two queries)."""
    site_ids = list(site_ids)
    if not site_ids:
        return {}
    jobs = list(
        WorkOrder.objects.filter(organization_id=organization_id, site_id__in=site_ids,
                                 status__in=[Status.COMPLETED, Status.INVOICED])
        .exclude(pk__in=exclude_work_orders)
        .annotate(row=Window(RowNumber(), partition_by=[F("site_id")],
                             order_by=[F("completed_at").desc(nulls_last=True), F("id").desc()]))
        .filter(row__lte=HISTORY_JOBS)
        .values("id", "site_id", "number", "title", "completed_at")
    )
    notes: dict[int, list] = defaultdict(list)
    photos: dict[int, list] = defaultdict(list)
    for pk, work_order_id, kind, body in _history_entries(organization_id,
                                                          [j["id"] for j in jobs]):
        if kind == EntryKind.NOTE and len(notes[work_order_id]) < HISTORY_NOTES:
            notes[work_order_id].append(body[:500])
        elif kind == EntryKind.PHOTO and len(photos[work_order_id]) < HISTORY_PHOTOS:
            photos[work_order_id].append(_file_url(pk))
    history: dict[int, list] = defaultdict(list)
    for job in sorted(jobs, key=lambda j: (j["completed_at"] is None, j["completed_at"]),
                      reverse=True):
        history[job["site_id"]].append({
            "number": job["number"], "title": job["title"],
            "completed_at": _iso(job["completed_at"]),
            **({"notes": notes[job["id"]]} if notes[job["id"]] else {}),
            **({"photos": photos[job["id"]]} if photos[job["id"]] else {}),
        })
    return history


# What the payload reads of a visit, its work order, customer and site (and the keys that join
# them): a pull reads only the columns it sends.
VISIT_COLUMNS = (
    "id", "work_order", "start", "end", "status", "sequence", "notes", "arrived_at",
    "finished_at",
    *(f"work_order__{name}" for name in ("number", "title", "kind", "priority", "status",
                                         "instructions", "checklist", "customer", "site")),
    "work_order__customer__name", "work_order__customer__phone",
    *(f"work_order__site__{name}" for name in ("name", "address_line1", "address_line2", "city",
                                               "region", "postal_code", "latitude",
                                               "longitude", "access_notes")),
)


def visits_payload(organization_id: int,
                   visit_ids: list[int]) -> tuple[list[dict], dict[str, dict]]:
    """The organization's visits with these ids (by start) and their sites, as the phone
    stores them."""
    if not visit_ids:
        return [], {}
    visits = list(
        Visit.objects.filter(organization_id=organization_id, pk__in=visit_ids)
        .select_related("work_order__customer", "work_order__site")
        .only(*VISIT_COLUMNS)
        .order_by("start", "id")
    )
    crew: dict[int, list] = defaultdict(list)
    for row in (Visit.crew.through.objects.filter(visit_id__in=visit_ids)
                .values("visit_id", "member_id", "member__user__full_name")
                .order_by("member__user__full_name")):
        crew[row["visit_id"]].append({"id": row["member_id"],
                                      "name": row["member__user__full_name"]})
    wo_ids = {v.work_order_id for v in visits}
    equipment: dict[int, list] = defaultdict(list)
    for row in (WorkOrder.equipment.through.objects.filter(workorder_id__in=wo_ids)
                .values("workorder_id", "equipment_id", "equipment__name",
                        "equipment__manufacturer", "equipment__model",
                        "equipment__serial_number")):
        equipment[row["workorder_id"]].append({
            "id": row["equipment_id"], "name": row["equipment__name"],
            **{k: row[f"equipment__{k}"] for k in ("manufacturer", "model", "serial_number")
               if row[f"equipment__{k}"]},
        })
    entries: dict[int, list] = defaultdict(list)
    for entry in (TimelineEntry.objects.filter(organization_id=organization_id,
                                               visit_id__in=visit_ids,
                                               kind__in=FIELD_ENTRY_KINDS)
                  .only("id", "visit_id", "kind", "created_at", "client_id", "device_time",
                        "body", "data", "author_id", "attachment", "visibility")
                  .order_by("id")):
        entries[entry.visit_id].append(entry)
    # How many visits of each job are still open: on the last one, the technician says whether
    # the job is complete or needs another visit.
    open_visits = dict(Visit.objects.filter(organization_id=organization_id,
                                            work_order_id__in=wo_ids,
                                            status__in=OPEN_VISIT_STATUSES)
                       .order_by().values("work_order_id").annotate(n=Count("id"))
                       .values_list("work_order_id", "n"))
    attachments: dict[int, list] = defaultdict(list)
    for row in (TimelineEntry.objects.filter(organization_id=organization_id,
                                             work_order_id__in=wo_ids, visit__isnull=True,
                                             kind__in=[EntryKind.FILE, EntryKind.PHOTO])
                .exclude(attachment="")
                .values("id", "work_order_id", "attachment_name", "attachment_size",
                        "attachment_type").order_by("id")):
        attachments[row["work_order_id"]].append({
            "id": row["id"], "name": row["attachment_name"], "size": row["attachment_size"],
            "type": row["attachment_type"], "url": _file_url(row["id"])})

    sites: dict[str, dict] = {}
    out = []
    for visit in visits:
        wo = visit.work_order
        own = entries.get(visit.pk, [])
        pauses = [e.data.get("event") for e in own if e.kind == EntryKind.VISIT_STATUS
                  and e.data.get("event") in ("pause", "resume")]
        if wo.site_id and str(wo.site_id) not in sites:
            sites[str(wo.site_id)] = _site(wo.site)
        out.append({
            "id": visit.pk, "start": _iso(visit.start), "end": _iso(visit.end),
            "status": visit.status,
            "paused": visit.status == "on_site" and bool(pauses) and pauses[-1] == "pause",
            "sequence": visit.sequence, "notes": visit.notes, "crew": crew.get(visit.pk, []),
            "arrived_at": _iso(visit.arrived_at), "finished_at": _iso(visit.finished_at),
            "site_id": wo.site_id,
            "work_order": {
                "id": wo.pk, "number": wo.number, "reference": wo.reference,
                "title": wo.title, "kind": wo.kind, "priority": wo.priority,
                "status": wo.status, "instructions": wo.instructions,
                "checklist": wo.checklist,
                "customer": {"id": wo.customer_id, "name": wo.customer.name,
                             "phone": wo.customer.phone},
                "equipment": equipment.get(wo.pk, []),
                "attachments": attachments.get(wo.pk, []),
                "open_visits": open_visits.get(wo.pk, 0),
            },
            "entries": [_entry(e) for e in own],
        })
    history = _site_history(organization_id, [int(pk) for pk in sites],
                            exclude_work_orders=wo_ids)
    for pk, site in sites.items():
        site["history"] = history.get(int(pk), [])
    return out, sites


PRICE_BOOK_FIELDS = ("id", "code", "name", "unit")


def _price_book(organization_id: int, changed: set[int] | None) -> dict | None:
    """The price book items a phone offers for parts: all active ones (``changed`` None, a full
    snapshot), or those of ``changed`` that are active, and the ids of the others (archived or
    deleted) under ``removed``. None without the billing app."""
    if not django_apps.is_installed("crewline.billing"):
        return None
    items = django_apps.get_model("billing", "PriceBookItem").objects.filter(
        organization_id=organization_id)
    if changed is None:
        return {"full": True, "items": list(items.filter(is_active=True)
                                            .order_by("name", "id").values(*PRICE_BOOK_FIELDS))}
    rows = list(items.filter(pk__in=changed, is_active=True).values(*PRICE_BOOK_FIELDS))
    return {"full": False, "items": rows,
            "removed": sorted(changed - {row["id"] for row in rows})}


def _notifications(member: Member) -> list[dict]:
    return [
        {"id": n.pk, "kind": n.kind, "title": n.title, "body": n.body,
         "visit": n.data.get("visit"), "at": _iso(n.updated_at), "read": n.read_at is not None}
        for n in Notification.objects.filter(organization_id=member.organization_id,
                                             recipient=member)
        .only("id", "kind", "title", "body", "data", "updated_at", "read_at")
        .order_by("-updated_at", "-id")[:NOTIFICATIONS]
    ]


def _clock(member: Member) -> dict:
    state: dict = {"shift": None, "break": None}
    for entry in (TimeEntry.objects.filter(organization_id=member.organization_id,
                                           member=member, end__isnull=True,
                                           kind__in=[TimeKind.SHIFT, TimeKind.BREAK])
                  .order_by("start", "id")):
        state[entry.kind] = {"id": entry.pk, "start": _iso(entry.start),
                             "client_id": str(entry.client_id) if entry.client_id else None}
    return state


def _rejected(device: Device) -> list[dict]:
    return [
        {"seq": r.seq, "name": r.name, "args": _small_args(r.args), "reason": r.reason,
         "at": _iso(r.created_at)}
        for r in RejectedMutation.objects.filter(organization_id=device.organization_id,
                                                 device=device, resolved_at__isnull=True)
        .order_by("seq")
    ]


def _small_args(args: dict) -> dict:
    # The phone still has photos and signatures; echoing them back would only cost bytes.
    return {k: v for k, v in args.items() if k not in ("data", "png")}


def _pruned_since(change_id: int) -> bool:
    """Were changes after ``change_id`` pruned (``crewline.live.services.KEEP``)? Rows go
    oldest first, and a cursor is the id of a row that was there: once the oldest row kept is
    past it, the cursor's row is gone and some after it may be. (A cursor of 0, from a pull
    before the organization had any change, cannot tell.)"""
    if change_id <= 0:
        return False
    oldest = Change.objects.order_by("id").values_list("id", flat=True).first()
    return oldest is None or oldest > change_id


def pull(*, member: Member, device: Device, cursor: str | None,
         now: dt.datetime | None = None) -> dict:
    """What changed for ``member`` since ``cursor`` (everything when there is none).

    ``visit_ids`` always lists every visit the phone should keep (it drops the others);
    ``visits`` holds those that changed (all of them in a full snapshot), ``sites`` their
    sites with history. ``notifications`` appears when they changed, ``price_book`` when it
    did (all of it in a full snapshot). ``clock``, ``last_seq`` and ``rejected`` are always
    current.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    settings = field_settings_for(member.organization_id)
    previous = Cursor.decode(cursor)
    settled = (Change.objects.filter(organization_id=member.organization_id,
                                     created_at__lte=now - SETTLE)
               .order_by("-id").values_list("id", flat=True).first()) or 0
    _, _, window_end = _window(today)
    full = previous is None
    changes: list[tuple[str, int | None]] = []
    if previous is not None:
        # Each thing that changed once, however often (the log has a row for each change).
        changes = list(Change.objects.filter(organization_id=member.organization_id,
                                             id__gt=previous.change_id)
                       .order_by().values_list("kind", "object_id").distinct()
                       [:MAX_DELTA_CHANGES + 1])
        if (len(changes) > MAX_DELTA_CHANGES or any(k == ChangeKind.RESET for k, _ in changes)
                or _pruned_since(previous.change_id)):
            full = True
    visible = visible_visits(member, settings, today)
    visible_ids = list(visible.order_by("start", "id").values_list("id", flat=True))
    if full:
        changed_ids = visible_ids
        notifications_changed = True
        price_book = _price_book(member.organization_id, None)
        new_cursor = settled
    else:
        by_kind: dict[str, set] = defaultdict(set)
        for kind, object_id in changes:
            by_kind[kind].add(object_id)
        wo_ids = by_kind[ChangeKind.WORK_ORDER]
        site_ids = set(by_kind[ChangeKind.SITE])
        if wo_ids:
            # A changed finished job at a site changes that site's history.
            site_ids |= set(WorkOrder.objects.filter(
                pk__in=wo_ids, site__isnull=False,
                status__in=[Status.COMPLETED, Status.INVOICED]).values_list("site_id", flat=True))
        condition = Q(pk__in=by_kind[ChangeKind.VISIT]) | Q(work_order_id__in=wo_ids) \
            | Q(work_order__site_id__in=site_ids) \
            | Q(work_order__customer_id__in=by_kind[ChangeKind.CUSTOMER])
        if window_end > previous.window_end:
            condition |= Q(start__gte=dt.datetime.combine(previous.window_end, dt.time.min,
                                                          tzinfo=timezone.get_current_timezone()))
        changed_ids = (list(visible.filter(condition).values_list("id", flat=True))
                       if changes or window_end > previous.window_end else [])
        notifications_changed = member.pk in by_kind[ChangeKind.NOTIFICATION]
        price_items = {pk for pk in by_kind[ChangeKind.PRICE_ITEM] if pk is not None}
        price_book = _price_book(member.organization_id, price_items) if price_items else None
        new_cursor = max(previous.change_id, settled)
    visits, sites = visits_payload(member.organization_id, changed_ids)
    payload = {
        "cursor": Cursor(new_cursor, window_end).encode(),
        "full": full,
        "server_time": _iso(now),
        "window": {"from": today.isoformat(),
                   "to": (window_end - dt.timedelta(days=1)).isoformat()},
        "last_seq": device.last_seq,
        "visit_ids": visible_ids,
        "visits": visits,
        "sites": sites,
        "clock": _clock(member),
        "rejected": _rejected(device),
        "settings": {"require_signature": settings.require_signature,
                     "technicians_see_all": settings.technicians_see_all,
                     "photo_visibility": settings.photo_visibility,
                     "jobs_closed_by": settings.jobs_closed_by},
        "member": {"id": member.pk, "name": member.name, "role": member.role},
    }
    if notifications_changed:
        payload["notifications"] = _notifications(member)
    if price_book is not None:
        payload["price_book"] = price_book
    return payload
