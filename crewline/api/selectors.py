"""Reads of API keys."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from crewline.api.models import ApiKey
from crewline.core.models import Member, Organization


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
