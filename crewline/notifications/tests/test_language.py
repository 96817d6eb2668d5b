"""A technician who chose Spanish is told of changes in Spanish (in-app, by email and Web
Push, which carry the notification's words), times in the organization's time zone."""

from __future__ import annotations

import pytest
import time_machine

from crewline.notifications.models import Notification

from .conftest import change, local


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(local(2026, 11, 20, 8, 0), tick=False) as traveller:
        yield traveller


def test_a_spanish_technician_is_told_in_spanish(visit, office, technician, second_tech):
    technician.language = "es"
    technician.save(update_fields=["language"])
    change(visit, by=office, change="moved", start=local(2026, 11, 25, 13),
           end=local(2026, 11, 25, 14, 30))
    note = Notification.objects.get(recipient=technician)
    assert note.title == "Visita movida: WO-1042 en Maple Dental"
    assert note.body.startswith("WO-1042 en Maple Dental pasó de mar 24")
    assert "09:00–10:00" in note.body and "13:00–14:30" in note.body
    # The same change, to someone who reads English, in English.
    change(visit, by=office, change="crew_changed", crew=[technician, second_tech])
    assert Notification.objects.get(recipient=second_tech).title == (
        "New visit: WO-1042 at Maple Dental")
    joined = Notification.objects.filter(recipient=technician).latest("id")
    assert "incorporación de Sam Spanner" in joined.body
    assert "ahora usted, Sam Spanner" in joined.body
