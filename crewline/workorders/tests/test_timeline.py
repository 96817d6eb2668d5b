"""The job timeline's one write path: every kind of entry is written by its service in its
kind's schema, and nothing that does not fit is stored."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image

from crewline.billing.services import price_item_create
from crewline.core.models import Role
from crewline.factories import MemberFactory
from crewline.workorders import selectors, timeline
from crewline.workorders.models import EntryKind, TimelineEntry, Visibility
from crewline.workorders.services import (
    visit_add,
    visit_arrive,
    visit_cancel,
    visit_schedule,
    work_order_start,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(make_wo, office, technician, soon):
    wo = make_wo()
    wo.checklist = [{"label": "Filter replaced", "kind": "yes_no", "required": True}]
    wo.save(update_fields=["checklist"])
    return visit_add(work_order=wo, by=office, start=soon[0], end=soon[1], crew=[technician],
                     override=True)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (60, 20), (0, 0, 0, 0)).save(out, "PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def test_it_writes_every_kind_in_its_schema(visit, office, technician, owner, org):
    item = price_item_create(organization=org, by=owner, code="ZV-34", name="Zone valve",
                             unit="each", unit_price=Decimal("38"))
    wo = visit.work_order
    work_order_start(work_order=wo, by=office)
    visit_arrive(visit=visit, by=technician)
    timeline.note_add(work_order=wo, by=technician, visit=visit, body="Boiler OK",
                      client_id=uuid.uuid4())
    timeline.photo_add(visit=visit, by=technician, client_id=uuid.uuid4(), jpeg=jpeg(),
                       visibility=Visibility.CUSTOMER, caption="After")
    timeline.signature_add(visit=visit, by=technician, client_id=uuid.uuid4(),
                           signer_name="Rosa Diaz", png=png())
    timeline.checklist_answer_add(visit=visit, by=technician, client_id=uuid.uuid4(), index=0,
                                  answer=True)
    timeline.part_add(visit=visit, by=technician, quantity=Decimal("2.50"),
                      price_book_item_id=item.pk)
    timeline.part_add(visit=visit, by=technician, quantity=Decimal(1), name="Copper elbow")
    timeline.labor_set(visit=visit, by=technician, minutes=75, description="Replaced valve")
    visit_schedule(visit=visit, start=visit.start, end=visit.end + (visit.end - visit.start),
                   by=office, override=True)

    entries = list(TimelineEntry.objects.filter(work_order=wo).order_by("id"))
    assert {e.kind for e in entries} >= {
        EntryKind.SYSTEM, EntryKind.SCHEDULE, EntryKind.STATUS, EntryKind.VISIT_STATUS,
        EntryKind.NOTE, EntryKind.PHOTO, EntryKind.SIGNATURE, EntryKind.CHECKLIST,
        EntryKind.PART, EntryKind.LABOR}
    for entry in entries:  # every row reads back as its kind's schema, as stored
        parsed = timeline.SCHEMAS[entry.kind].model_validate(entry.data)
        assert parsed.dump() == entry.data, entry.kind
    by_kind = {e.kind: timeline.entry_data(e) for e in entries}
    assert by_kind[EntryKind.LABOR] == timeline.LaborData(minutes=75, member_id=technician.pk)
    assert [e.body for e in entries if e.kind == EntryKind.LABOR] == ["Replaced valve"]
    parts = [e.data for e in entries if e.kind == EntryKind.PART]
    assert parts == [
        {"name": "Zone valve", "quantity": "2.5", "unit": "each", "price_book_item_id": item.pk,
         "code": "ZV-34"},
        {"name": "Copper elbow", "quantity": "1", "unit": "", "price_book_item_id": None,
         "code": ""}]
    assert by_kind[EntryKind.SIGNATURE].signer_name == "Rosa Diaz"
    assert by_kind[EntryKind.CHECKLIST].answer is True
    assert by_kind[EntryKind.VISIT_STATUS].event == "arrive"
    assert by_kind[EntryKind.SCHEDULE].event == "visit_resized"
    assert [e.data for e in entries if e.kind == EntryKind.SYSTEM] == [{"event": "created"}]


def test_it_refuses_what_does_not_fit_and_stores_nothing(visit, office, technician):
    before = TimelineEntry.objects.count()
    with pytest.raises(TypeError):
        timeline.append(work_order=visit.work_order, kind=EntryKind.LABOR, by=office,
                        data=timeline.NoteData())
    cases = [
        lambda: timeline.labor_set(visit=visit, by=technician, minutes=24 * 60 + 1),
        lambda: timeline.labor_set(visit=visit, by=technician, minutes=-5),
        lambda: timeline.part_add(visit=visit, by=technician, quantity=Decimal("0.00001"),
                                  name="Washer"),
        lambda: timeline.part_add(visit=visit, by=technician, quantity=Decimal(0),
                                  name="Washer"),
        lambda: timeline.part_add(visit=visit, by=technician, quantity=Decimal(1), name=""),
        lambda: timeline.part_add(visit=visit, by=technician, quantity=Decimal(1),
                                  price_book_item_id=987654),
        lambda: timeline.checklist_answer_add(visit=visit, by=technician, client_id=None,
                                              index=0, answer="yes please"),
        lambda: timeline.signature_add(visit=visit, by=technician, client_id=None,
                                       signer_name="", png=png()),
        lambda: timeline.note_add(work_order=visit.work_order, by=office, body="  "),
    ]
    for case in cases:
        with pytest.raises(ValidationError):
            case()
    assert TimelineEntry.objects.count() == before


def test_labor_is_the_members_own_unless_the_office_sets_it(visit, office, technician, org):
    mate = MemberFactory(organization=org, role=Role.TECHNICIAN)
    visit.crew.add(mate)
    with pytest.raises(PermissionDenied):
        timeline.labor_set(visit=visit, by=technician, member=mate, minutes=30)
    entry = timeline.labor_set(visit=visit, by=office, member=mate, minutes=30)
    assert (timeline.entry_data(entry).member_id, entry.author) == (mate.pk, office)
    timeline.labor_set(visit=visit, by=technician, minutes=45)
    later = timeline.labor_set(visit=visit, by=office, member=mate, minutes=50)
    counted = selectors.labor_that_counts(TimelineEntry.objects.filter(kind=EntryKind.LABOR))
    assert {(timeline.entry_data(e).member_id, timeline.entry_data(e).minutes)
            for e in counted} == {(mate.pk, 50), (technician.pk, 45)}
    assert later in counted


def test_it_refuses_appends_to_a_cancelled_visit_or_by_someone_off_the_crew(visit, office,
                                                                            org):
    stranger = MemberFactory(organization=org, role=Role.TECHNICIAN)
    with pytest.raises(PermissionDenied):
        timeline.part_add(visit=visit, by=stranger, quantity=Decimal(1), name="Washer")
    visit_cancel(visit=visit, by=office, reason="Customer away")
    visit.refresh_from_db()
    with pytest.raises(ValidationError):
        timeline.labor_set(visit=visit, by=office, member=office, minutes=10)


def test_a_resent_client_id_is_the_same_entry_and_someone_elses_is_refused(visit, technician,
                                                                           org):
    client_id = uuid.uuid4()
    first = timeline.part_add(visit=visit, by=technician, quantity=Decimal(1), name="Washer",
                              client_id=client_id)
    again = timeline.part_add(visit=visit, by=technician, quantity=Decimal(1), name="Washer",
                              client_id=client_id)
    assert again.pk == first.pk
    mate = MemberFactory(organization=org, role=Role.TECHNICIAN)
    visit.crew.add(mate)
    with pytest.raises(ValidationError, match="already used"):
        timeline.part_add(visit=visit, by=mate, quantity=Decimal(1), name="Washer",
                          client_id=client_id)
    with pytest.raises(ValidationError, match="already used"):
        timeline.labor_set(visit=visit, by=technician, minutes=5, client_id=client_id)
    assert TimelineEntry.objects.filter(client_id=client_id).count() == 1


def test_every_entry_of_the_demo_company_fits_its_schema():
    from crewline.demo.seed import seed_demo

    seed_demo(size=0.15)
    entries = TimelineEntry.objects.all()
    assert entries.count() > 100
    kinds = set()
    for entry in entries.iterator():
        timeline.SCHEMAS[entry.kind].model_validate(entry.data)
        kinds.add(entry.kind)
    assert {EntryKind.NOTE, EntryKind.STATUS, EntryKind.SCHEDULE,
            EntryKind.VISIT_STATUS} <= kinds
