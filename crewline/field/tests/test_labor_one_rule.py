"""Labor has one rule everywhere: a member's latest labor entry on a visit is their labor there.
Set twice from the phone (60, then 90 minutes), it reads 90 once on the timesheet, in the job
report's data, on the invoice draft, on the work order page and on the phone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from crewline.billing.services import default_labor_rate_set, invoice_draft_from_work_order
from crewline.documents.reports import job_report_data
from crewline.field.tests.conftest import new_id
from crewline.timesheets.selectors import labor_in
from crewline.workorders.selectors import work_done
from crewline.workorders.services import work_order_complete

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_labor_set_twice_is_one_figure_everywhere(phone, visit, technician, office, owner,
                                                  org, office_client):
    default_labor_rate_set(organization=org, hourly_rate=Decimal("80"), by=owner)
    for minutes in (60, 90):
        result = phone.send("labor_set", visit_id=visit.pk, client_id=new_id(),
                            minutes=minutes, description="Replaced the pump")
        assert result["status"] == "applied"
    wo = visit.work_order

    day = visit.start.replace(hour=0, minute=0)
    timesheet = labor_in(org, day - dt.timedelta(days=1), day + dt.timedelta(days=2),
                         member=technician)
    assert [labor.minutes for _member, labor in timesheet] == [90]

    page = work_done(wo)
    assert (page.labor_minutes, [e.labor_member for e in page.labor]) == (90, [technician])
    html = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    labor_table = html.split('id="work-labor"', 1)[1].split("</table>", 1)[0]
    assert "1 h 30 min" in labor_table and "1 h</td>" not in labor_table

    work_order_complete(work_order=wo, by=office)
    data, _files = job_report_data(wo, version=1, generated_at=visit.end)
    assert [(row["member"], row["duration"]) for row in data["labor"]] == [
        (technician.name, "1 h 30 min")]

    invoice = invoice_draft_from_work_order(work_order=wo, by=office)
    labor = [(line.quantity, line.unit_price) for line in invoice.lines.all()
             if line.source == "labor"]
    assert labor == [(Decimal("1.5000"), Decimal("80.00"))]

    # The phone gets both entries and shows its member's latest (app.js ``laborMinutes``, the
    # same rule): the pull's entries carry whose labor each is.
    pulled = phone.pull().json()
    [mine] = [v for v in pulled["visits"] if v["id"] == visit.pk]
    labor_entries = [e for e in mine["entries"] if e["kind"] == "labor"]
    assert [(e["data"]["member_id"], e["data"]["minutes"]) for e in labor_entries] == [
        (technician.pk, 60), (technician.pk, 90)]
