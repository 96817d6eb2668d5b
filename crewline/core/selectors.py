"""Reads for the core pages: querysets scoped to one organization, with their relations loaded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core.models import (
    AuditLog,
    Invitation,
    Member,
    Organization,
    Skill,
    default_business_hours,
)
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


@dataclass(frozen=True)
class SetupStep:
    """One line of the getting-started list."""

    key: str
    title: str
    help: str
    url: str
    done: bool


def getting_started_steps(*, organization: Organization) -> list[SetupStep]:
    """What a new company sets up first, each with where to do it and whether it is done."""
    from crewline.billing.models import PriceBookItem
    from crewline.billing.services import LABOR_CODE, labor_rate_is_set
    from crewline.customers.models import Customer
    from crewline.scheduling.models import TimeOff, WorkingHours

    org = organization
    org_id = org.pk
    team = (Member.objects.filter(organization_id=org_id).count() > 1
            or Invitation.objects.filter(organization_id=org_id).exists())
    hours = (WorkingHours.objects.filter(organization_id=org_id).exists()
             or TimeOff.objects.filter(organization_id=org_id).exists()
             or org.business_hours != default_business_hours())
    return [
        SetupStep("company", _("Company details"),
                  _("Address, phone and the reply-to email printed on quotes and invoices."),
                  reverse("core:settings"), bool(org.address and org.phone and org.email)),
        SetupStep("labor_rate", _("Labor rate"),
                  _("What an hour of labor is billed at; a rate per technician if they "
                    "differ."),
                  reverse("billing:settings") + "#labor-rates", labor_rate_is_set(org)),
        SetupStep("customers", _("Import your customers"),
                  _("From a spreadsheet (CSV): customers, their sites and contacts."),
                  reverse("customers:import"),
                  Customer.objects.filter(organization_id=org_id).exists()),
        SetupStep("team", _("Invite your team"),
                  _("Office staff and technicians get an email to join."),
                  reverse("core:member_invite"), team),
        SetupStep("hours", _("Working hours"),
                  _("When each technician works, and their time off, so that visits are "
                    "booked when they are there."),
                  reverse("scheduling:availability_summary"), hours),
        SetupStep("price_book", _("Price book"),
                  _("The services and parts you sell, with their prices."),
                  reverse("billing:price_book"),
                  PriceBookItem.objects.filter(organization_id=org_id)
                  .exclude(code__iexact=LABOR_CODE).exists()),
    ]
