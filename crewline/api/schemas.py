"""What the API answers: one schema per resource, as every read and write returns it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class Schema(BaseModel):
    """What the API answers: plain pydantic models, validated from the dicts the routes build
    (faster than Ninja's Schema, which reads attributes through a getter)."""


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    role: str
    email: str
    phone: str
    is_primary: bool
    archived_at: dt.datetime | None
    updated_at: dt.datetime
    url: str


class SiteOut(Schema):
    id: int
    customer_id: int
    name: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    country: str
    latitude: str | None
    longitude: str | None
    access_notes: str
    time_zone: str = Field(description="An IANA zone when the site is outside the "
                           "organization's; empty otherwise.")
    archived_at: dt.datetime | None
    updated_at: dt.datetime
    url: str


class CustomerOut(Schema):
    id: int
    name: str
    kind: str
    email: str
    phone: str
    billing_address: str
    notes: str
    external_ref: str
    archived_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    contacts: list[ContactOut]
    sites: list[SiteOut]
    url: str


class VisitOut(Schema):
    id: int
    work_order_id: int
    start: dt.datetime | None
    end: dt.datetime | None
    status: str
    crew: list[int]
    notes: str
    arrived_at: dt.datetime | None
    finished_at: dt.datetime | None
    outcome: str
    created_at: dt.datetime
    updated_at: dt.datetime
    url: str


class WorkOrderOut(Schema):
    id: int
    number: int
    reference: str
    customer_id: int
    site_id: int | None
    kind: str
    job_type: str | None
    priority: str
    title: str
    instructions: str
    requested_start: dt.datetime | None
    requested_end: dt.datetime | None
    due_date: dt.date | None
    status: str
    status_reason: str
    estimated_minutes: int | None
    tags: list[str]
    completed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    visits: list[VisitOut]
    timeline: str
    reports: str
    url: str


class MemberOut(Schema):
    id: int
    name: str
    email: str
    role: str
    phone: str
    colour: str
    skills: list[str]
    is_active: bool
    created_at: dt.datetime
    url: str


class EquipmentOut(Schema):
    id: int
    site_id: int
    name: str
    manufacturer: str
    model: str
    serial_number: str
    installed_on: dt.date | None
    notes: str
    archived_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    url: str


class FileOut(Schema):
    name: str
    size: int | None
    content_type: str
    url: str


class TimelineEntryOut(Schema):
    id: int
    work_order_id: int
    visit_id: int | None
    kind: str
    author_id: int | None
    body: str
    visibility: str
    data: dict[str, Any]
    file: FileOut | None
    created_at: dt.datetime
    device_time: dt.datetime | None


class JobReportOut(Schema):
    id: int
    work_order_id: int
    version: int
    size: int
    sha256: str
    created_at: dt.datetime
    pdf: str


class TimeEntryOut(Schema):
    id: int
    member_id: int
    kind: str
    start: dt.datetime
    end: dt.datetime | None
    minutes: int | None
    visit_id: int | None
    source: str
    created_at: dt.datetime
    updated_at: dt.datetime


class Money(Schema):
    amount: str
    currency: str


class PriceItemOut(Schema):
    id: int
    code: str
    name: str
    description: str
    kind: str
    unit: str
    unit_price: Money
    unit_cost: Money
    tax_rate: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    url: str


class LineOut(Schema):
    id: int
    position: int
    item_id: int | None
    description: str
    quantity: str
    unit: str
    unit_price: Money
    discount: Money
    tax_rate: str
    net_amount: Money
    tax_amount: Money
    is_optional: bool | None = None
    is_selected: bool | None = None


class QuoteOut(Schema):
    id: int
    number: int
    reference: str
    customer_id: int
    site_id: int | None
    title: str
    status: str
    valid_until: dt.date
    notes: str
    currency: str
    subtotal: Money
    tax_total: Money
    total: Money
    sent_at: dt.datetime | None
    approved_at: dt.datetime | None
    approved_by_name: str
    declined_at: dt.datetime | None
    work_order_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    lines: list[LineOut]
    url: str


class InvoiceOut(Schema):
    id: int
    number: int | None
    reference: str
    customer_id: int
    work_order_id: int | None
    status: str
    issue_date: dt.date | None
    due_date: dt.date | None
    currency: str
    notes: str
    subtotal: Money
    tax_total: Money
    total: Money
    paid_on: dt.date | None
    payment_method: str
    payment_reference: str
    sent_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    lines: list[LineOut]
    url: str


class ContactPage(Schema):
    data: list[ContactOut]
    next: str | None


class SitePage(Schema):
    data: list[SiteOut]
    next: str | None


class EquipmentPage(Schema):
    data: list[EquipmentOut]
    next: str | None


class TimelinePage(Schema):
    data: list[TimelineEntryOut]
    next: str | None


class JobReportPage(Schema):
    data: list[JobReportOut]
    next: str | None


class TimeEntryPage(Schema):
    data: list[TimeEntryOut]
    next: str | None


class PriceItemPage(Schema):
    data: list[PriceItemOut]
    next: str | None


class QuotePage(Schema):
    data: list[QuoteOut]
    next: str | None


class InvoicePage(Schema):
    data: list[InvoiceOut]
    next: str | None


class CustomerPage(Schema):
    data: list[CustomerOut]
    next: str | None


class WorkOrderPage(Schema):
    data: list[WorkOrderOut]
    next: str | None


class VisitPage(Schema):
    data: list[VisitOut]
    next: str | None


class MemberPage(Schema):
    data: list[MemberOut]
    next: str | None


class ChangeOut(Schema):
    id: int
    resource: str
    resource_id: int | None
    url: str | None
    # The lifecycle event (work_order.completed, ...; a webhook's type), None for other changes.
    event: str | None = None
    # "deleted" or "archived" when the resource is gone from the lists; None otherwise.
    tombstone: str | None = None
    created_at: dt.datetime


class ChangePage(Schema):
    data: list[ChangeOut]
    cursor: str
    next: str | None


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict] | None = None
