"""The price book comes to the phone through the pull, like everything else: all of it in a
full snapshot, then the items added, changed or archived since the cursor."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from crewline.billing.services import price_item_create, price_item_deactivate, price_item_update
from crewline.field.selectors import Cursor

pytestmark = pytest.mark.django_db


def _later(minutes=1):
    return time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes), tick=True)


def item(org, by, code, name, **kwargs):
    return price_item_create(organization=org, by=by, code=code, name=name,
                             unit=kwargs.pop("unit", "each"), unit_price=Decimal("10"),
                             **kwargs)


def test_a_full_snapshot_carries_the_active_price_book(phone, visit, org, owner, other_org,
                                                       outsider):
    valve = item(org, owner, "ZV-34", "Zone valve 3/4in")
    item(org, owner, "CALL", "Call-out")
    old = item(org, owner, "OLD", "Old valve")
    price_item_deactivate(item=old, by=owner)
    item(other_org, outsider, "RIV", "Rival's pipe")
    payload = phone.pull().json()
    book = payload["price_book"]
    assert book["full"] is True
    assert [i["code"] for i in book["items"]] == ["CALL", "ZV-34"]  # by name
    assert {"id": valve.pk, "code": "ZV-34", "name": "Zone valve 3/4in", "unit": "each"} in \
        book["items"]
    # Prices stay in the office.
    assert all(set(i) == {"id", "code", "name", "unit"} for i in book["items"])


def test_after_the_cursor_only_what_changed_comes(phone, visit, org, owner):
    valve = item(org, owner, "ZV-34", "Zone valve 3/4in")
    pipe = item(org, owner, "CU-15", "Copper pipe 15mm", unit="m")
    with _later(1):
        cursor = phone.pull().json()["cursor"]
    with _later(2):
        quiet = phone.pull(cursor).json()
    assert "price_book" not in quiet  # nothing changed: nothing sent
    new = item(org, owner, "TRV", "Radiator valve")
    price_item_update(item=valve, by=owner, name="Zone valve 3/4 inch")
    price_item_deactivate(item=pipe, by=owner)
    with _later(3):
        delta = phone.pull(quiet["cursor"]).json()
    book = delta["price_book"]
    assert book["full"] is False
    assert sorted((i["code"], i["name"]) for i in book["items"]) == [
        ("TRV", "Radiator valve"), ("ZV-34", "Zone valve 3/4 inch")]
    assert book["removed"] == [pipe.pk]
    assert new.pk in {i["id"] for i in book["items"]}


def test_a_phone_with_a_cursor_from_before_gets_the_whole_price_book(phone, visit, org, owner):
    item(org, owner, "ZV-34", "Zone valve 3/4in")
    old_cursor = "1.999999." + timezone.localdate().isoformat()
    assert Cursor.decode(old_cursor) is None
    payload = phone.pull(old_cursor).json()
    assert payload["full"] is True and payload["price_book"]["full"] is True


def test_the_price_book_adds_one_query_to_a_full_pull(phone, make_visit, technician, org,
                                                      owner, django_assert_max_num_queries):
    for i in range(30):
        item(org, owner, f"P{i}", f"Part {i}")
    for day in range(3):
        make_visit(crew=[technician], days=day)
    phone.pull()
    with django_assert_max_num_queries(19):
        payload = phone.pull().json()
    assert len(payload["price_book"]["items"]) == 30
