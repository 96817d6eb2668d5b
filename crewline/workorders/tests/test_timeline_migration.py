"""Entries written before each kind had a schema are brought to it by the data migration
(workorders 0004), rows of every old shape included."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from crewline.workorders import timeline
from crewline.workorders.models import EntryKind, TimelineEntry

migration = importlib.import_module(
    "crewline.workorders.migrations.0004_timeline_entry_schemas")

AUTHOR = 7
# (kind, data as some writer of the day stored it, body) -> (data, body) as the schema holds it.
OLD_SHAPES = [
    # The phone's labor named its member "member"; billing's test rows "member_id" with the
    # description in data; some had neither.
    ("labor", {"minutes": 60, "member": 5}, "", {"minutes": 60, "member_id": 5}, ""),
    ("labor", {"minutes": "90", "member_id": 5, "description": "Replaced pump"}, "",
     {"minutes": 90, "member_id": 5}, "Replaced pump"),
    ("labor", {"minutes": 30}, "Kept", {"minutes": 30, "member_id": AUTHOR}, "Kept"),
    ("labor", {}, "", {"minutes": 0, "member_id": AUTHOR}, ""),
    ("labor", {"minutes": 5000, "member": "Tara Tech"}, "",
     {"minutes": 1440, "member_id": AUTHOR}, ""),
    ("part", {"name": "Valve", "quantity": "2.50", "unit": "m", "price_book_item_id": None}, "",
     {"name": "Valve", "quantity": "2.5", "unit": "m", "price_book_item_id": None,
      "code": ""}, ""),
    ("part", {"name": "Zone valve", "code": "ZV-075", "quantity": 1, "unit": "ea"}, "",
     {"name": "Zone valve", "quantity": "1", "unit": "ea", "price_book_item_id": None,
      "code": "ZV-075"}, ""),
    ("part", {"price_book_item_id": "12", "quantity": "nope"}, "Filter",
     {"name": "Filter", "quantity": "1", "unit": "", "price_book_item_id": 12, "code": ""},
     "Filter"),
    ("part", {}, "", {"name": "Part", "quantity": "1", "unit": "", "price_book_item_id": None,
                      "code": ""}, ""),
    ("checklist", {"label": "CO test passed", "answer": True}, "",
     {"index": 0, "label": "CO test passed", "kind": "other", "answer": True}, ""),
    ("checklist", {"index": 2, "label": "Pressure", "kind": "number", "answer": 1.5}, "",
     {"index": 2, "label": "Pressure", "kind": "number", "answer": 1.5}, ""),
    ("signature", {}, "Rosa Diaz", {"signer_name": "Rosa Diaz"}, "Rosa Diaz"),
    ("signature", {"signer_name": "Renée"}, "", {"signer_name": "Renée"}, ""),
    ("photo", {}, "Before", {"upload": None}, "Before"),
    ("photo", {"upload": "0b1f3c2e-8a8e-4d4a-9d0b-5c7f1a2b3c4d"}, "",
     {"upload": "0b1f3c2e-8a8e-4d4a-9d0b-5c7f1a2b3c4d"}, ""),
    ("note", {"stray": 1}, "Hello", {}, "Hello"),
    ("file", {}, "", {}, ""),
    ("status", {"from": "new", "to": "scheduled"}, "",
     {"from": "new", "to": "scheduled", "action": ""}, ""),
    ("status", {"from": "scheduled", "to": "in_progress", "action": "start"}, "",
     {"from": "scheduled", "to": "in_progress", "action": "start"}, ""),
    # Cancelling a visit and the demo's dispatch updates wrote no event.
    ("visit_status", {"from": "scheduled", "to": "cancelled"}, "Away",
     {"event": "cancel", "from": "scheduled", "to": "cancelled", "paused": False,
      "outcome": ""}, "Away"),
    ("visit_status", {"from": "en_route", "to": "on_site"}, "",
     {"event": "arrive", "from": "en_route", "to": "on_site", "paused": False,
      "outcome": ""}, ""),
    ("visit_status", {"event": "complete", "from": "on_site", "to": "done", "paused": True,
                      "outcome": "job_complete"}, "",
     {"event": "complete", "from": "on_site", "to": "done", "paused": True,
      "outcome": "job_complete"}, ""),
    ("schedule", {"event": "visit_added", "start": "2026-03-03T15:00:00+00:00",
                  "end": "2026-03-03T16:00:00+00:00"}, "",
     {"event": "visit_added", "start": "2026-03-03T15:00:00+00:00",
      "end": "2026-03-03T16:00:00+00:00", "crew": [], "from_start": None, "from_end": None},
     ""),
    ("schedule", {}, "", {"event": "visit_changed", "start": None, "end": None, "crew": [],
                          "from_start": None, "from_end": None}, ""),
    ("system", {"event": "created"}, "", {"event": "created"}, ""),
    ("system", {"event": "report_emailed", "report": 3, "version": 2, "to": "a@b.example",
                "attempts": 1}, "Sent",
     {"event": "report_emailed", "report": 3, "version": 2, "to": "a@b.example",
      "attempts": 1}, "Sent"),
    ("system", {"event": "follow_up", "visit": 4}, "Part missing",
     {"event": "follow_up", "visit": 4}, "Part missing"),
    ("system", {}, "", {"event": "edited"}, ""),
]


@pytest.mark.parametrize(("kind", "data", "body", "want_data", "want_body"), OLD_SHAPES)
def test_it_brings_each_old_shape_to_its_kinds_schema(kind, data, body, want_data,
                                                      want_body):
    got_data, got_body = migration.convert(kind, data, body, AUTHOR)
    assert (got_data, got_body) == (want_data, want_body)
    timeline.SCHEMAS[kind].model_validate(got_data)  # what the code reads today


def test_every_kind_has_old_shapes_tested():
    assert {kind for kind, *_rest in OLD_SHAPES} == set(EntryKind.values)


@pytest.mark.django_db
def test_it_rewrites_the_stored_rows(make_wo, office):
    wo = make_wo()
    rows = [TimelineEntry.objects.create(organization=wo.organization, work_order=wo,
                                         kind=kind, author=office, data=data, body=body)
            for kind, data, body, _data, _body in OLD_SHAPES]
    migration.forwards(apps, None)
    for row, (kind, _data, _body, want_data, want_body) in zip(rows, OLD_SHAPES, strict=True):
        row.refresh_from_db()
        want = {**want_data, "member_id": office.pk} if want_data.get(
            "member_id") == AUTHOR else want_data
        assert (row.data, row.body) == (want, want_body), kind
        timeline.entry_data(row)
