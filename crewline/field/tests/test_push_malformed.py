"""A malformed mutation is rejected with its reason and never blocks what follows.

The phone sends its outbox in order until each mutation is settled; one that failed the push
with an error would be sent first again every time, and nothing after it would ever be applied.
Hypothesis makes malformed arguments for every kind of mutation (ids past 64 bits, times the
database cannot hold, NUL characters and lone surrogates, wrong types, NaN, deep nesting, sizes
past the limits) and each is pushed ahead of a good note: the push answers 200, the bad one is
``rejected`` with a reason, the note is ``applied`` and the pull still answers 200. Run on SQLite
and on PostgreSQL (``DATABASE_URL``), whose refusals differ.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crewline.field.models import Device, RejectedMutation
from crewline.field.tests.conftest import Phone, b64, jpeg_bytes, new_id, png_bytes, sha
from crewline.workorders.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db

CHECKLIST = [{"label": "Gas tightness test", "kind": "yes_no", "required": True},
             {"label": "Flue gas CO2 %", "kind": "number", "required": False},
             {"label": "Remarks", "kind": "text", "required": False}]
PHOTO, SIGNATURE = jpeg_bytes(), png_bytes()
VISIT_KINDS = ("visit_en_route", "visit_arrive", "visit_pause", "visit_resume",
               "visit_complete", "visit_incomplete", "note_add", "photo_add",
               "checklist_answer", "part_add", "labor_set", "signature_add")
CLOCK_KINDS = ("clock_in", "clock_out", "break_start", "break_end")
VISIT = "(the visit)"
IMPOSSIBLE_TIMES = ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
                    "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00-12:00")


def valid_args(name: str, visit_id: int | str) -> dict:
    base = {"visit_id": visit_id, "client_id": new_id()}
    return {
        "visit_incomplete": {**base, "reason": "No access"},
        "note_add": {**base, "body": "Replaced the valve", "visibility": "internal"},
        "photo_add": {**base, "data": b64(PHOTO), "sha256": sha(PHOTO), "caption": "Before"},
        "checklist_answer": {**base, "index": 0, "answer": True},
        "part_add": {**base, "name": "Valve", "quantity": "2", "unit": "each"},
        "labor_set": {**base, "minutes": 45, "description": "Valve swap"},
        "signature_add": {**base, "signer_name": "Pat Customer", "png": b64(SIGNATURE)},
    }.get(name, base if name in VISIT_KINDS else {"client_id": new_id(), "lat": 41.9,
                                                    "lng": -87.6})


# Values no argument accepts anywhere: the database could not store them as they are.
nul_text = st.tuples(st.text(max_size=20), st.text(max_size=20)).map(
    lambda t: t[0] + "\x00" + t[1])
surrogate_text = st.tuples(st.text(max_size=10), st.sampled_from(["\ud800", "\udfff",
                                                                  "\udc00x"])).map("".join)
huge_int = st.one_of(st.integers(min_value=2**63), st.integers(max_value=-2**63 - 1))
non_finite = st.sampled_from([float("nan"), float("inf"), float("-inf")])
deep = st.integers(5, 40).map(lambda n: json.loads("[" * n + "1" + "]" * n))
unstorable = st.one_of(nul_text, surrogate_text, huge_int, non_finite, deep)
# Values that are no id: wrong types, zero and negative, past 64 bits.
not_an_id = st.one_of(st.sampled_from([0, -1, 2**63, 2**64, -2**63 - 1, True, 1.5, "41", None,
                                       [], {}]), huge_int, nul_text)
not_a_uuid = st.one_of(st.text(max_size=40).filter(lambda s: not _is_uuid(s)),
                       st.integers(), st.lists(st.integers(), max_size=2), nul_text)
bad_time = st.one_of(st.sampled_from(IMPOSSIBLE_TIMES + (
    "2026-13-01T00:00:00+00:00", "yesterday", "2026-03-10T09:12:00", "", "T")),
    st.integers(), nul_text,
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(1990, 1, 1),
                 timezones=st.just(dt.UTC)).map(lambda d: d.isoformat()),
    st.datetimes(min_value=dt.datetime(2300, 1, 1), max_value=dt.datetime(9999, 12, 30),
                 timezones=st.just(dt.UTC)).map(lambda d: d.isoformat()))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# For each kind, values of one of its arguments that its rules refuse.
KIND_SPECIFIC: dict[str, list[tuple[str, st.SearchStrategy]]] = {
    "visit_incomplete": [("reason", st.one_of(st.just(""), st.just("   "),
                                              st.text(min_size=1, max_size=5).map(
                                                  lambda t: "x" + t * 501),
                                              st.integers(), st.none()))],
    "note_add": [("body", st.one_of(st.just(""), st.just(" \n "), st.integers(), st.none(),
                                    st.lists(st.text(), max_size=2),
                                    st.text(min_size=1, max_size=5).map(lambda t: t * 10001))),
                 ("visibility", st.sampled_from(["everyone", "", "public", 3]))],
    "photo_add": [("data", st.one_of(st.just("not base64!"), st.just(b64(b"not a photo")),
                                     st.integers())),
                  ("sha256", st.one_of(st.just("0" * 64), st.just(""), st.text(max_size=10))),
                  ("upload_id", st.just(new_id()))],
    "checklist_answer": [("index", st.sampled_from([-1, 3, 99, 2**40, "0", 1.0])),
                         ("answer", st.sampled_from(["yes", 1, [True], {"a": 1}]))],
    "part_add": [("quantity", st.sampled_from(["0", "-2", "abc", "1e9", "NaN", "Infinity",
                                               "0.00001", None, [], "1" * 50])),
                 ("name", st.sampled_from(["", "   ", "x" * 201])),
                 ("unit", st.just("u" * 21)),
                 ("price_book_item_id", not_an_id.filter(lambda v: v is not None))],
    "labor_set": [("minutes", st.sampled_from([-1, 1441, 2.5, "60", None, True, 2**63])),
                  ("description", st.just("d" * 501))],
    "signature_add": [("signer_name", st.sampled_from(["", "  ", None, 5])),
                      ("png", st.sampled_from(["%%%", b64(PHOTO), b64(b"x" * 600_000), 7]))],
    "clock_in": [("lat", st.sampled_from([91, -91, "41.9", None, True])),
                 ("lng", st.sampled_from([181, -181.5, "x", None]))],
}
for _kind in ("clock_out", "break_start", "break_end"):
    KIND_SPECIFIC[_kind] = KIND_SPECIFIC["clock_in"]


@st.composite
def malformed(draw) -> tuple[str, dict, str, str]:
    """(name, args with one argument made bad, client_time, what was done), for the visit
    named ``VISIT`` (its id is filled in by the test)."""
    name = draw(st.sampled_from(VISIT_KINDS + CLOCK_KINDS))
    args = valid_args(name, VISIT)
    client_time = timezone.now().isoformat()
    ways = ["time", "unstorable", "client_id", "args"]
    if name in VISIT_KINDS:
        ways.append("visit_id")
    if name in KIND_SPECIFIC:
        ways += ["specific"] * 2
    way = draw(st.sampled_from(ways))
    if way == "time":
        client_time = draw(bad_time)
    elif way == "unstorable":
        key = draw(st.sampled_from([*args, "extra", "\x00"]))
        args[key] = draw(unstorable)
    elif way == "client_id":
        args["client_id"] = draw(not_a_uuid)
    elif way == "visit_id":
        args["visit_id"] = draw(st.one_of(not_an_id, st.integers(2**40, 2**63 - 1)))
    elif way == "args":
        args = draw(st.sampled_from([[], "x", 5, [args]]))
    else:
        key, values = draw(st.sampled_from(KIND_SPECIFIC[name]))
        args[key] = draw(values)
        if key == "upload_id":
            args.pop("data")
        if key in ("lat", "lng") and args[key] is None:
            # One of the two without the other.
            args[key] = 41.5
            args.pop("lat" if key == "lng" else "lng")
    return name, args, client_time, way


def _fill_visit(args, visit_id: int):
    if isinstance(args, dict) and args.get("visit_id") == VISIT:
        return {**args, "visit_id": visit_id}
    if isinstance(args, list):
        return [_fill_visit(a, visit_id) for a in args]
    return args


def _push_bad_then_good(tech_client, technician, visit, name, args, client_time):
    device = Device.objects.create(id=uuid.uuid4(), organization=technician.organization,
                                   member=technician)
    phone = Phone(tech_client, device)
    bad = {"seq": 1, "name": name, "args": _fill_visit(args, visit.pk),
           "client_time": client_time}
    note_id = new_id()
    good = {"seq": 2, "name": "note_add", "client_time": timezone.now().isoformat(),
            "args": {"visit_id": visit.pk, "client_id": note_id, "body": "Still here"}}
    # As the phone sends it (json.dumps writes NaN and keeps lone surrogates as escapes).
    response = tech_client.post("/field/api/push", json.dumps(
        {"device_id": str(device.pk), "mutations": [bad, good]}),
        content_type="application/json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert results[0]["status"] == "rejected", (name, args, client_time, results)
    assert results[0]["reason"]
    assert results[1] == {"seq": 2, "status": "applied"}
    assert response.json()["last_seq"] == 2
    assert TimelineEntry.objects.filter(client_id=note_id, kind=EntryKind.NOTE).exists()
    assert RejectedMutation.objects.filter(device=device, seq=1).exists()
    pull = phone.pull()
    assert pull.status_code == 200, pull.content
    payload = pull.json()
    assert [r["seq"] for r in payload["rejected"]] == [1]
    assert visit.pk in payload["visit_ids"]
    return results[0]["reason"]


@pytest.mark.parametrize(("name", "args", "client_time", "says"), [
    ("note_add", {"visit_id": 2**63, "client_id": new_id(), "body": "x"}, None, "visit_id"),
    ("visit_arrive", {"visit_id": 2**63, "client_id": new_id()}, None, "visit_id"),
    ("note_add", {"visit_id": VISIT, "client_id": new_id(), "body": "x"},
     "9999-12-31T23:59:59-12:00", "client_time"),
    ("visit_arrive", {"visit_id": VISIT, "client_id": new_id()}, "9999-12-31T23:59:59-12:00",
     "client_time"),
    ("visit_arrive", {"visit_id": VISIT, "client_id": new_id()}, "0001-01-01T00:00:00+14:00",
     "client_time"),
    ("clock_in", {"client_id": new_id()}, "0001-01-01T00:00:00+14:00", "client_time"),
    ("note_add", {"visit_id": VISIT, "client_id": new_id(), "body": "Valve\x00 replaced"}, None,
     "body"),
    ("checklist_answer", {"visit_id": VISIT, "client_id": new_id(), "label": "Gas\x00",
                          "answer": True}, None, "label"),
    ("part_add", {"visit_id": VISIT, "client_id": new_id(), "name": "Valve", "quantity": 1,
                  "price_book_item_id": 2**63}, None, "price_book_item_id"),
], ids=["visit_id 2^63", "status visit_id 2^63", "year 10000", "arrive year 10000",
        "arrive year 0", "clock in year 0", "NUL in a note", "NUL in a checklist label",
        "price book item 2^63"])
def test_it_rejects_the_reported_cases_and_applies_what_follows(
        tech_client, technician, make_visit, name, args, client_time, says):
    visit = make_visit(crew=[technician], checklist=CHECKLIST)
    reason = _push_bad_then_good(tech_client, technician, visit, name, args,
                                 client_time or timezone.now().isoformat())
    assert says in reason


def test_it_rejects_malformed_arguments_of_every_kind_and_applies_what_follows(
        tech_client, technician, make_visit):
    visit = make_visit(crew=[technician], checklist=CHECKLIST)
    seen: dict[str, set[str]] = {}

    @settings(max_examples=250, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(malformed())
    @example(("note_add", {"visit_id": VISIT, "client_id": new_id(), "body": "a\x00b"},
              timezone.now().isoformat(), "unstorable"))
    def run(case) -> None:
        name, args, client_time, way = case
        _push_bad_then_good(tech_client, technician, visit, name, args, client_time)
        seen.setdefault(name, set()).add(way)

    run()
    # Every kind was tried, and in more than one way.
    assert set(seen) == set(VISIT_KINDS + CLOCK_KINDS), seen
    assert all(len(ways) >= 2 for ways in seen.values()), seen
    # The visit took none of them: only the good notes.
    kinds = set(TimelineEntry.objects.filter(visit=visit).values_list("kind", flat=True))
    assert kinds <= {EntryKind.NOTE, EntryKind.SCHEDULE}, kinds


def test_it_answers_400_to_a_push_that_is_not_json_it_can_read(phone, tech_client):
    for body in ("[" * 100_000, '{"mutations": [' + "9" * 5000 + "]}"):
        response = tech_client.post("/field/api/push", body, content_type="application/json")
        assert response.status_code == 400, response.content


def test_it_takes_a_cursor_it_cannot_use_for_none(phone):
    for cursor in (f"1.{2**63}.2026-03-14", "1.5.0001-01-01", "1.5.9999-12-31", "1.-4.x"):
        response = phone.pull(cursor)
        assert response.status_code == 200, (cursor, response.content)
        assert response.json()["full"] is True


def test_it_keeps_a_device_name_with_a_nul_character(tech_client):
    device_id = str(uuid.uuid4())
    response = tech_client.post("/field/api/devices/", json.dumps(
        {"device_id": device_id, "name": "Pixel\x00 8"}), content_type="application/json")
    assert response.status_code == 201
    assert Device.objects.get(pk=device_id).name == "Pixel\ufffd 8"


def test_it_clears_impossible_times_stored_before_so_the_pull_answers_again(
        phone, technician, visit):
    """PostgreSQL stored what a phone sent before pushes checked it: years Python cannot read
    back, which failed every pull. The data migration clears them."""
    import importlib

    from django.apps import apps
    from django.db import connection

    from crewline.timesheets.models import TimeEntry
    from crewline.workorders.models import Visit

    if connection.vendor != "postgresql":
        pytest.skip("Only PostgreSQL stores such times: run with DATABASE_URL=postgres://...")
    assert phone.send("visit_arrive", visit_id=visit.pk, client_id=new_id())["status"] == \
        "applied"
    assert phone.send("clock_in", client_id=new_id())["status"] == "applied"
    arrive = TimelineEntry.objects.get(visit=visit, kind=EntryKind.VISIT_STATUS)
    shift = TimeEntry.objects.get(member=technician)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE workorders_timelineentry SET device_time = "
                       "'10000-01-01 11:59:59+00' WHERE id = %s", [arrive.pk])
        cursor.execute("UPDATE workorders_visit SET arrived_at = '10000-01-01 11:59:59+00' "
                       "WHERE id = %s", [visit.pk])
        cursor.execute("UPDATE timesheets_timeentry SET start = '0001-12-31 10:00:00+00 BC' "
                       "WHERE id = %s", [shift.pk])
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises on reading it
        phone.pull()

    migration = importlib.import_module(
        "crewline.field.migrations.0004_clear_impossible_device_times")
    with connection.schema_editor() as editor:
        migration.clear_impossible_device_times(apps, editor)

    response = phone.pull()
    assert response.status_code == 200
    arrive.refresh_from_db()
    assert arrive.device_time is None
    assert Visit.objects.get(pk=visit.pk).arrived_at == arrive.created_at
    assert TimeEntry.objects.get(pk=shift.pk).start == shift.created_at
