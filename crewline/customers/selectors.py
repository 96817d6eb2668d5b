"""Reads of customers, contacts, sites and equipment, always scoped to one organization."""

from __future__ import annotations

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from crewline.core.models import Member, Organization
from crewline.customers.models import Contact, Customer, Equipment, Site
from crewline.workorders.models import OPEN_STATUSES, WorkOrder


def customer_list(*, organization: Organization, q: str = "", include_archived: bool = False,
                  kind: str = "") -> QuerySet[Customer]:
    """The organization's customers, searched by name, email, phone and site address or city.

    The site search is an ``EXISTS`` subquery so that a customer with several matching sites
    is listed once without ``DISTINCT`` over the whole row.
    """
    qs = Customer.objects.filter(organization=organization)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    for term in q.split():
        site_match = Site.objects.filter(
            customer_id=OuterRef("pk"),
        ).filter(Q(address_line1__icontains=term) | Q(address_line2__icontains=term)
                 | Q(city__icontains=term) | Q(postal_code__icontains=term)
                 | Q(name__icontains=term))
        qs = qs.filter(Q(name__icontains=term) | Q(email__icontains=term)
                       | Q(phone__icontains=term) | Q(external_ref__iexact=term)
                       | Exists(site_match))
    return qs.order_by("name", "id")


def customer_list_annotated(*, organization: Organization, q: str = "",
                            include_archived: bool = False, kind: str = "") -> QuerySet[Customer]:
    """``customer_list`` with ``site_count`` and ``open_work_order_count`` for the list page."""
    sites = (Site.objects.filter(customer_id=OuterRef("pk"), archived_at__isnull=True)
             .order_by().values("customer_id").annotate(n=Count("pk")).values("n"))
    open_wos = (WorkOrder.objects.filter(customer_id=OuterRef("pk"), status__in=OPEN_STATUSES)
                .order_by().values("customer_id").annotate(n=Count("pk")).values("n"))
    return customer_list(organization=organization, q=q, include_archived=include_archived,
                         kind=kind).annotate(
        site_count=Coalesce(Subquery(sites, output_field=IntegerField()), 0),
        open_work_order_count=Coalesce(Subquery(open_wos, output_field=IntegerField()), 0),
    )


def customer_for_member(member: Member, pk: int) -> Customer:
    """The customer ``pk`` of the member's organization, or 404 (archived ones included)."""
    try:
        return Customer.objects.select_related("organization").get(
            organization_id=member.organization_id, pk=pk)
    except (Customer.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No customer found.") from exc


def site_for_member(member: Member, pk: int) -> Site:
    """The site ``pk`` of the member's organization, with its customer, or 404."""
    try:
        return Site.objects.select_related("customer", "organization").get(
            organization_id=member.organization_id, pk=pk)
    except (Site.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No site found.") from exc


def contact_for_member(member: Member, pk: int) -> Contact:
    try:
        return Contact.objects.select_related("customer", "organization").get(
            organization_id=member.organization_id, pk=pk)
    except (Contact.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No contact found.") from exc


def equipment_for_member(member: Member, pk: int) -> Equipment:
    try:
        return Equipment.objects.select_related("site__customer", "organization").get(
            organization_id=member.organization_id, pk=pk)
    except (Equipment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No equipment found.") from exc


def customer_contacts(*, customer: Customer, include_archived: bool = False
                      ) -> QuerySet[Contact]:
    qs = customer.contacts.filter(organization_id=customer.organization_id)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs


def customer_sites(*, customer: Customer, include_archived: bool = False) -> QuerySet[Site]:
    qs = customer.sites.filter(organization_id=customer.organization_id)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs.annotate(equipment_count=Count("equipment", filter=Q(
        equipment__archived_at__isnull=True))).order_by("name", "address_line1", "id")


def site_equipment(*, site: Site, include_archived: bool = False) -> QuerySet[Equipment]:
    qs = site.equipment.filter(organization_id=site.organization_id)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs
