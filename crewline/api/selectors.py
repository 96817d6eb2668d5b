"""Reads of API keys, and what a page of work orders answers besides its own rows."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import QuerySet
from django.http import Http404

from crewline.api.models import ApiKey
from crewline.core.models import Member, Organization
from crewline.workorders.models import Visit, WorkOrder


def api_key_list(*, organization: Organization) -> QuerySet[ApiKey]:
    """The organization's keys, newest first, revoked ones included."""
    return (ApiKey.objects.filter(organization=organization)
            .select_related("created_by__user").order_by("-created_at", "-id"))


def api_key_for_member(member: Member, pk: int) -> ApiKey:
    """The key ``pk`` of the member's organization, or 404."""
    try:
        return ApiKey.objects.select_related("organization").get(
            organization_id=member.organization_id, pk=pk)
    except (ApiKey.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No API key found.") from exc


# The columns a work order's answer reads (not its checklist, nor what only the office uses).
WORK_ORDER_FIELDS = ("id", "number", "customer_id", "site_id", "kind", "job_type__name",
                     "priority", "title", "instructions", "requested_start", "requested_end",
                     "due_date", "status", "status_reason", "estimated_minutes", "completed_at",
                     "created_at", "updated_at", "organization_id")


def crews_of(visit_ids: list[int]) -> dict[int, list[int]]:
    """The crews' member ids of the visits, in one query of the link table."""
    crews: dict[int, list[int]] = defaultdict(list)
    pairs = Visit.crew.through.objects.filter(visit_id__in=visit_ids)
    for visit_id, member_id in pairs.values_list("visit_id", "member_id"):
        crews[visit_id].append(member_id)
    return crews


def load_crews(visits: list[Visit]) -> None:
    """Each visit's crew (member ids) as ``_api_crew``."""
    crews = crews_of([v.pk for v in visits])
    for v in visits:
        v._api_crew = sorted(crews[v.pk])


# What a visit answers, read as plain rows for a page of work orders (no model per visit).
VISIT_FIELDS = ("id", "work_order_id", "start", "end", "status", "notes", "arrived_at",
                "finished_at", "outcome", "created_at", "updated_at")


def load_work_orders(work_orders: list[WorkOrder]) -> None:
    """A page of work orders' visits (with crews) and tags: three queries, whatever its size.
    The visits are read as values, not models: a page of 50 has a hundred or more."""
    ids = [w.pk for w in work_orders]
    orgs = {w.organization_id for w in work_orders}
    visits = list(Visit.objects.filter(organization_id__in=orgs, work_order_id__in=ids)
                  .order_by("start", "id")
                  .values(*VISIT_FIELDS)) if ids else []
    crews = crews_of([v["id"] for v in visits]) if visits else {}
    tags: dict[int, list[str]] = defaultdict(list)
    links = WorkOrder.tags.through.objects.filter(workorder_id__in=ids)
    for wo_id, name in links.values_list("workorder_id", "tag__name") if ids else ():
        tags[wo_id].append(name)
    by_order: dict[int, list[dict]] = defaultdict(list)
    for v in visits:
        v["crew"] = sorted(crews.get(v["id"], ()))
        by_order[v["work_order_id"]].append(v)
    for w in work_orders:
        w._api_visits = by_order[w.pk]
        w._api_tags = sorted(tags[w.pk])
