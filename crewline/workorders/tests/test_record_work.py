"""The office records parts and labor from the work order page, through the same timeline
services as the phone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from crewline.billing.services import price_item_create
from crewline.workorders import selectors, timeline
from crewline.workorders.models import EntryKind, TimelineEntry
from crewline.workorders.services import visit_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(make_wo, office, technician, soon):
    return visit_add(work_order=make_wo(), by=office, start=soon[0], end=soon[1],
                     crew=[technician], override=True)


def url(visit, name):
    return reverse(f"workorders:{name}", args=[visit.work_order.number])


def test_the_office_records_a_part_from_the_price_book_or_typed(office_client, visit, org,
                                                               owner):
    item = price_item_create(organization=org, by=owner, code="FLT-16", name="Filter 16x25",
                             unit="each", unit_price=Decimal("12.50"))
    page = office_client.get(reverse("workorders:detail", args=[visit.work_order.number]))
    assert "FLT-16 · Filter 16x25" in page.content.decode()
    response = office_client.post(url(visit, "part_add"), {
        "part-visit": visit.pk, "part-item": item.pk, "part-quantity": "2"})
    assert response.status_code == 302 and response["Location"].endswith("#work-done")
    office_client.post(url(visit, "part_add"), {
        "part-visit": visit.pk, "part-name": "Copper elbow", "part-quantity": "1.5",
        "part-unit": "m"})
    parts = [timeline.entry_data(e) for e in
             TimelineEntry.objects.filter(kind=EntryKind.PART).order_by("id")]
    assert [(p.name, p.code, p.quantity, p.unit, p.price_book_item_id) for p in parts] == [
        ("Filter 16x25", "FLT-16", Decimal("2"), "each", item.pk),
        ("Copper elbow", "", Decimal("1.5"), "m", None)]


def test_the_office_sets_a_technicians_labor_which_replaces_their_earlier(
        office_client, visit, technician, office):
    timeline.labor_set(visit=visit, by=technician, minutes=60)
    response = office_client.post(url(visit, "labor_set"), {
        "labor-visit": visit.pk, "labor-member": technician.pk, "labor-minutes": "75",
        "labor-description": "Corrected from the job sheet"})
    assert response.status_code == 302
    counted = selectors.labor_that_counts(TimelineEntry.objects.filter(kind=EntryKind.LABOR))
    assert [(timeline.entry_data(e).member_id, timeline.entry_data(e).minutes, e.author)
            for e in counted] == [(technician.pk, 75, office)]
    page = office_client.get(reverse("workorders:detail", args=[visit.work_order.number]))
    labor = page.content.decode().split('id="work-labor"', 1)[1].split("</table>", 1)[0]
    assert technician.name in labor and "1 h 15 min" in labor


@pytest.mark.parametrize(("name", "data", "error"), [
    ("part_add", {"part-quantity": "1"}, "Choose an item from the price book"),
    ("part_add", {"part-name": "Washer", "part-quantity": "0"}, "greater than or equal"),
    ("labor_set", {"labor-minutes": "2000"}, "less than or equal to 1440"),
])
def test_bad_input_comes_back_with_the_form_and_nothing_saved(office_client, visit, technician,
                                                              name, data, error):
    prefix = name.split("_")[0]
    data = {f"{prefix}-visit": visit.pk, **data}
    if prefix == "labor":
        data["labor-member"] = technician.pk
    response = office_client.post(url(visit, name), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not TimelineEntry.objects.filter(kind__in=[EntryKind.PART, EntryKind.LABOR]).exists()


def test_a_visit_of_another_work_order_is_refused(office_client, visit, make_wo, office, soon,
                                                  technician):
    other = visit_add(work_order=make_wo(), by=office, start=soon[0], end=soon[1],
                      crew=[technician], override=True)
    response = office_client.post(url(visit, "part_add"), {
        "part-visit": other.pk, "part-name": "Washer", "part-quantity": "1"})
    assert response.status_code == 400
    assert not TimelineEntry.objects.filter(kind=EntryKind.PART).exists()


def test_only_the_office_of_the_organization_records_work(tech_client, outsider_client, visit):
    data = {"part-visit": visit.pk, "part-name": "Washer", "part-quantity": "1"}
    assert tech_client.post(url(visit, "part_add"), data).status_code == 403
    assert outsider_client.post(url(visit, "part_add"), data).status_code == 404
    assert not TimelineEntry.objects.filter(kind=EntryKind.PART).exists()
