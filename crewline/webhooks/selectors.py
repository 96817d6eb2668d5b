"""Reads of webhooks: an organization's endpoints, one of them, its delivery log."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from crewline.core.models import Member, Organization
from crewline.webhooks.models import DeliveryState, WebhookAttempt, WebhookEndpoint

LOG_SIZE = 50


def endpoint_list(*, organization: Organization) -> QuerySet[WebhookEndpoint]:
    """The organization's endpoints, oldest first, with how many deliveries wait."""
    return (WebhookEndpoint.objects.filter(organization=organization)
            .annotate(pending=Count("deliveries",
                                    filter=Q(deliveries__state=DeliveryState.PENDING)))
            .order_by("created_at", "id"))


def endpoint_for_member(member: Member, pk: int) -> WebhookEndpoint:
    """The endpoint ``pk`` of the member's organization, or 404."""
    try:
        return WebhookEndpoint.objects.select_related("organization").get(
            organization_id=member.organization_id, pk=pk)
    except (WebhookEndpoint.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No webhook endpoint found.") from exc


def attempt_log(*, endpoint: WebhookEndpoint, limit: int = LOG_SIZE) -> list[WebhookAttempt]:
    """The endpoint's latest attempts, newest first, with their delivery."""
    return list(WebhookAttempt.objects.filter(endpoint=endpoint)
                .select_related("delivery").order_by("-id")[:limit])


def pending_count(*, endpoint: WebhookEndpoint) -> int:
    return endpoint.deliveries.filter(state=DeliveryState.PENDING).count()
