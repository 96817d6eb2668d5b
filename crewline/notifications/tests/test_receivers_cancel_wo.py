import datetime as dt

import pytest
from django.utils import timezone

from crewline.factories import SiteFactory
from crewline.notifications.models import Notification
from crewline.workorders.models import VisitStatus
from crewline.workorders.services import visit_add, work_order_cancel, work_order_create


@pytest.mark.django_db
def test_it_tells_the_crew_when_the_whole_work_order_is_cancelled(org, office, technician):
    site = SiteFactory(customer__organization=org)
    wo = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                           title="Boiler service")
    start = timezone.now() + dt.timedelta(days=2)
    visit = visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(hours=1),
                      crew=[technician], override=True)
    Notification.objects.all().delete()
    work_order_cancel(work_order=wo, by=office, reason="Customer sold the house")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CANCELLED
    assert visit.sequence >= 1
    told = Notification.objects.get(recipient=technician)
    assert "cancel" in told.kind
