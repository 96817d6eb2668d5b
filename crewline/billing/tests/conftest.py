from __future__ import annotations

from decimal import Decimal

import pytest

from crewline.billing import services
from crewline.billing.models import ItemKind
from crewline.factories import SiteFactory, WorkOrderFactory
from crewline.workorders.models import EntryKind, Status, TimelineEntry


@pytest.fixture
def site(org):
    return SiteFactory(customer__organization=org, customer__name="Maple Dental",
                       customer__email="billing@maple.example")


@pytest.fixture
def filter_item(org, owner):
    return services.price_item_create(organization=org, by=owner, code="FLT-16", name="Filter",
                                      kind=ItemKind.MATERIAL, unit="each",
                                      unit_price=Decimal("12.50"), tax_rate=Decimal("8.25"))


@pytest.fixture
def call_item(org, owner):
    return services.price_item_create(organization=org, by=owner, code="CALL",
                                      name="Service call", unit="visit",
                                      unit_price=Decimal("95"))


@pytest.fixture
def completed_wo(org, site):
    return WorkOrderFactory(organization=org, customer=site.customer, site=site,
                            status=Status.COMPLETED, title="Boiler service")


def add_labor(work_order, member, minutes, description=""):
    return TimelineEntry.objects.create(
        organization=work_order.organization, work_order=work_order, kind=EntryKind.LABOR,
        author=member, data={"minutes": minutes, "member_id": member.pk,
                             "description": description})


def add_part(work_order, member, **data):
    return TimelineEntry.objects.create(
        organization=work_order.organization, work_order=work_order, kind=EntryKind.PART,
        author=member, data=data)
