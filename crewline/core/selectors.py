"""Reads for the core pages: querysets scoped to one organization, with their relations loaded."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from crewline.core.models import AuditLog, Invitation, Member, Organization, Skill
from crewline.workorders.models import JobType


def member_list(*, organization: Organization) -> QuerySet[Member]:
    """Everyone in the organization, active first, then by name."""
    return (Member.objects.for_org(organization).select_related("user")
            .prefetch_related(Prefetch("skills", queryset=Skill.objects.order_by("name")))
            .order_by("-is_active", "user__full_name", "user__email"))


def invitation_pending_list(*, organization: Organization) -> QuerySet[Invitation]:
    return (Invitation.objects.for_org(organization)
            .filter(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())
            .select_related("invited_by__user").order_by("-created_at"))


def invitation_by_token(token: str) -> Invitation | None:
    return (Invitation.objects.select_related("organization", "invited_by__user")
            .filter(token_hash=Invitation.hash_token(token)).first())


def skill_list(*, organization: Organization) -> QuerySet[Skill]:
    return (Skill.objects.for_org(organization).annotate(member_count=Count("members"))
            .order_by("name"))


def job_type_list(*, organization: Organization) -> QuerySet[JobType]:
    return JobType.objects.for_org(organization).order_by("-is_active", "name")


def audit_log_list(*, organization: Organization, actor_id: int | None = None,
                   action: str = "", since: dt.date | None = None,
                   until: dt.date | None = None) -> QuerySet[AuditLog]:
    """The organization's audit entries, newest first; dates are in the organization's zone
    and ``until`` includes the whole day."""
    entries = AuditLog.objects.for_org(organization).order_by("-seq")
    if actor_id is not None:
        entries = entries.filter(actor_id=actor_id)
    if action:
        entries = entries.filter(action=action)
    tz = organization.tzinfo
    if since is not None:
        entries = entries.filter(created_at__gte=dt.datetime.combine(since, dt.time(), tz))
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tz)
        entries = entries.filter(created_at__lt=end)
    return entries


def audit_actions(*, organization: Organization) -> list[str]:
    return list(AuditLog.objects.for_org(organization).order_by("action")
                .values_list("action", flat=True).distinct())
