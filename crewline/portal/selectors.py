"""Reads for the customer's portal: what one customer may see of their own records, and the
office's view of a customer's links. Every read is scoped to the link's organization and
customer."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from crewline.billing.models import Invoice, InvoiceStatus, Quote, QuoteStatus
from crewline.customers.models import Customer, Site
from crewline.documents.models import JobReport
from crewline.portal.models import PortalLink
from crewline.workorders.models import (
    OPEN_STATUSES,
    OPEN_VISIT_STATUSES,
    Status,
    Visit,
    WorkOrder,
)

PAST_JOBS = 20


def _scope(link: PortalLink) -> dict:
    return {"organization_id": link.organization_id, "customer_id": link.customer_id}


def portal_upcoming_visits(link: PortalLink) -> QuerySet[Visit]:
    """The customer's visits still to come (or under way), soonest first, with their crews."""
    return (Visit.objects.filter(organization_id=link.organization_id,
                                 work_order__customer_id=link.customer_id,
                                 status__in=OPEN_VISIT_STATUSES, start__isnull=False,
                                 end__gte=timezone.now())
            .exclude(work_order__status=Status.CANCELLED)
            .select_related("work_order__site")
            .prefetch_related("crew__user").order_by("start", "id"))


def portal_visit(link: PortalLink, pk: int) -> Visit:
    """One of the customer's upcoming visits (``portal_upcoming_visits``), for its tracking
    page; 404 otherwise."""
    visit = (portal_upcoming_visits(link).select_related("work_order__organization",
                                                         "work_order__customer")
             .filter(pk=pk).first())
    if visit is None:
        raise Http404("No such visit.")
    return visit


def portal_past_jobs(link: PortalLink) -> QuerySet[WorkOrder]:
    """The customer's finished jobs, newest first, each with its report versions (newest
    first; the page offers the newest)."""
    return (WorkOrder.objects.filter(**_scope(link),
                                     status__in=(Status.COMPLETED, Status.INVOICED))
            .select_related("site")
            .prefetch_related(Prefetch("job_reports",
                                       queryset=JobReport.objects.order_by("-version")))
            .order_by("-completed_at", "-number")[:PAST_JOBS])


def portal_quotes(link: PortalLink) -> QuerySet[Quote]:
    """Quotes the customer has been sent: drafts are the office's own."""
    return (Quote.objects.filter(**_scope(link)).exclude(status=QuoteStatus.DRAFT)
            .select_related("site").order_by("-number"))


def portal_invoices(link: PortalLink) -> QuerySet[Invoice]:
    """Invoices issued to the customer: drafts are the office's own."""
    return (Invoice.objects.filter(**_scope(link)).exclude(status=InvoiceStatus.DRAFT)
            .select_related("work_order").order_by("-issue_date", "-number"))


def portal_sites(link: PortalLink) -> QuerySet[Site]:
    return Site.objects.filter(**_scope(link), archived_at__isnull=True).order_by("name", "id")


def portal_quote(link: PortalLink, pk: int) -> Quote:
    quote = (portal_quotes(link).select_related("organization", "customer", "site")
             .filter(pk=pk).first())
    if quote is None:
        raise Http404("No such quote.")
    return quote


def portal_invoice(link: PortalLink, pk: int) -> Invoice:
    invoice = (portal_invoices(link)
               .select_related("organization", "customer", "work_order__site")
               .filter(pk=pk).first())
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def portal_report(link: PortalLink, pk: int) -> JobReport:
    """A job report of one of the customer's finished jobs."""
    report = (JobReport.objects.filter(
        organization_id=link.organization_id, pk=pk, work_order__customer_id=link.customer_id,
        work_order__status__in=(Status.COMPLETED, Status.INVOICED))
        .select_related("work_order").first())
    if report is None:
        raise Http404("No such report.")
    return report


@dataclass(frozen=True)
class LinkState:
    live: int
    last_sent_at: object
    last_sent_to: str
    last_used_at: object


def customer_link_state(customer: Customer) -> LinkState:
    """For the office: how many links to the customer's portal work, and the latest one."""
    links = PortalLink.objects.filter(organization_id=customer.organization_id,
                                      customer=customer)
    live = links.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
    latest = links.order_by("-created_at", "-id").first()
    used = links.exclude(last_used_at=None).order_by("-last_used_at").first()
    return LinkState(live=live.count(), last_sent_at=latest.created_at if latest else None,
                     last_sent_to=latest.sent_to if latest else "",
                     last_used_at=used.last_used_at if used else None)


def portal_window_offers(link: PortalLink) -> list[tuple[WorkOrder, list]]:
    """The times offered to the customer, live ones only (not picked, withdrawn or passed),
    by work order (soonest first), for the jobs still waiting for a time."""
    from django.db.models import Exists, OuterRef

    from crewline.portal.models import WindowOffer

    scheduled = Visit.objects.filter(organization_id=link.organization_id,
                                     work_order_id=OuterRef("work_order_id"),
                                     status__in=OPEN_VISIT_STATUSES, start__isnull=False)
    offers = (WindowOffer.objects.filter(organization_id=link.organization_id,
                                         work_order__customer_id=link.customer_id,
                                         picked_at__isnull=True, withdrawn_at__isnull=True,
                                         start__gt=timezone.now(),
                                         work_order__status__in=OPEN_STATUSES)
              .exclude(Exists(scheduled))
              .select_related("work_order__site", "crew__user").order_by("start", "id"))
    grouped: dict[int, tuple[WorkOrder, list]] = {}
    for offer in offers:
        grouped.setdefault(offer.work_order_id, (offer.work_order, []))[1].append(offer)
    return list(grouped.values())


def work_order_window_offers(work_order: WorkOrder) -> dict:
    """For the office's work order page: the live offers, and the one the customer picked
    (the latest)."""
    from crewline.portal.models import WindowOffer

    offers = list(WindowOffer.objects.filter(organization_id=work_order.organization_id,
                                             work_order_id=work_order.pk)
                  .select_related("crew__user").order_by("-offered_at", "start", "id")[:12])
    live = sorted((o for o in offers if o.is_live), key=lambda o: o.start)
    picked = next((o for o in offers if o.picked_at is not None), None)
    return {"live": live, "picked": picked}
