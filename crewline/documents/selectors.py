"""Reads for documents: a work order's report versions and the addresses a report may be emailed
to (the timeline entries a report shows are read in ``crewline.workorders.selectors``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from crewline.customers.models import Contact
from crewline.documents.models import JobReport
from crewline.workorders.models import WorkOrder


def work_order_reports(work_order: WorkOrder) -> QuerySet[JobReport]:
    """The work order's report versions, newest first."""
    return (JobReport.objects.filter(organization_id=work_order.organization_id,
                                     work_order=work_order)
            .select_related("created_by__user").order_by("-version"))


@dataclass(frozen=True)
class Recipient:
    email: str
    label: str


def report_recipients(work_order: WorkOrder) -> list[Recipient]:
    """Whom a work order's report may be emailed to: the customer's address and those of its
    current contacts, each once, the primary contact first."""
    customer = work_order.customer
    seen: set[str] = set()
    recipients: list[Recipient] = []

    def add(email: str, label: str) -> None:
        if email and email.lower() not in seen:
            seen.add(email.lower())
            recipients.append(Recipient(email, label))

    contacts = (Contact.objects.filter(organization_id=work_order.organization_id,
                                       customer=customer, archived_at__isnull=True)
                .exclude(email="").order_by("-is_primary", "name", "id"))
    for contact in contacts:
        role = f", {contact.role}" if contact.role else ""
        add(contact.email, f"{contact.name}{role} <{contact.email}>")
    add(customer.email, _("%(name)s (customer) <%(email)s>")
        % {"name": customer.name, "email": customer.email})
    return recipients
