"""The change feed: the one change log (``crewline.live.models.Change``) read by resource,
filtered by the caller's scopes, with an opaque cursor. Each entry names its lifecycle event
(the webhook it is, with the same id) and whether it is a tombstone (deleted or archived)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.urls import reverse

from crewline.api import pagination
from crewline.api.auth import Principal
from crewline.api.problems import Problem
from crewline.live.models import Change, ChangeKind
from crewline.live.services import KEEP

# kind -> (resource, scope, URL name of the resource, or None where the API has none yet)
KINDS = {
    ChangeKind.CUSTOMER: ("customer", "read:customers", "customer_get"),
    ChangeKind.SITE: ("site", "read:customers", "site_get"),
    ChangeKind.WORK_ORDER: ("work_order", "read:work_orders", "work_order_get"),
    ChangeKind.VISIT: ("visit", "read:work_orders", "visit_get"),
    # A member's own time entries changed: object_id is the member.
    ChangeKind.MEMBER: ("time_entries", "read:team", "member_get"),
    ChangeKind.PRICE_ITEM: ("price_item", "read:billing", None),
    ChangeKind.QUOTE: ("quote", "read:billing", None),
    ChangeKind.INVOICE: ("invoice", "read:billing", None),
    ChangeKind.REPORT: ("job_report", "read:work_orders", None),
}
# Not in the feed: notifications (a member's own, for their phone) and resets (phones only).

MAX_LIMIT = 1000
# No settling delay: ``change_record`` takes each row's id under the organization's row lock,
# held until commit, so an organization's changes become visible in id order and a reader's
# cursor never passes a change still to commit (``tests/test_changes_concurrent.py``).


def _expired() -> Problem:
    days = KEEP.days
    return Problem(
        410, "cursor-expired",
        f"Changes are kept for {days} days and some after this cursor are gone. Resync: read "
        "each list endpoint again with updated_since set to when you last synced (or in full), "
        "then follow this feed again from a new cursor (GET /api/v1/changes).",
        title="Cursor expired", resync=["/api/v1/customers", "/api/v1/work-orders",
                                        "/api/v1/visits", "/api/v1/members"])


def _pruned_since(change_id: int) -> bool:
    """Were changes after ``change_id`` pruned? Rows go oldest first and a cursor is the id of
    a row that was there: once the oldest row kept is past it, some after it may be gone."""
    if change_id <= 0:
        return False
    oldest = Change.objects.order_by("id").values_list("id", flat=True).first()
    return oldest is None or oldest > change_id


def change_entry(row: Change, absolute: Callable[[str], str]) -> dict:
    """A change as the feed gives it, and a webhook carries it as its ``data``: ``absolute``
    makes a path a full URL. ``event`` is its lifecycle event (or None), ``tombstone`` says the
    resource was deleted or archived (or None)."""
    resource, _scope, url_name = KINDS[row.kind]
    url = (absolute(reverse(f"api-v1:{url_name}", args=[row.object_id]))
           if url_name and row.object_id else None)
    return {"id": row.pk, "resource": resource, "resource_id": row.object_id, "url": url,
            "event": row.event or None, "tombstone": row.tombstone or None,
            "created_at": row.created_at}


def changes_page(request: HttpRequest, principal: Principal, *, after: str | None,
                 limit: int) -> dict:
    kinds = {k: v for k, v in KINDS.items() if principal.allows(v[1])}
    if not kinds:
        raise Problem(403, "missing-scope", "The feed needs a read scope.",
                      title="Missing scope", scope="read:customers")
    after_id = 0
    if after:
        data = pagination.decode(after)
        try:
            after_id = int(data["c"])
            if not 0 <= after_id <= pagination.MAX_ID:
                raise ValueError
        except (KeyError, TypeError, ValueError) as exc:
            raise pagination.bad_cursor() from exc
        if _pruned_since(after_id):
            raise _expired()
    rows = list(Change.objects.filter(organization_id=principal.organization.pk,
                                      id__gt=after_id, kind__in=list(kinds))
                .order_by("id").only("id", "kind", "object_id", "event", "tombstone",
                                     "created_at")[:limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].pk if rows else after_id
    cursor = pagination.encode({"c": last})
    data = [change_entry(row, request.build_absolute_uri) for row in rows]
    return {"data": data, "cursor": cursor,
            "next": pagination.next_link(request, after=cursor) if more else None}
