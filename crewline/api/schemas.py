"""What the API answers: one schema per resource, as every read and write returns it."""

from __future__ import annotations

import datetime as dt

from ninja import Schema


class ContactOut(Schema):
    id: int
    name: str
    role: str
    email: str
    phone: str
    is_primary: bool
    archived_at: dt.datetime | None


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
