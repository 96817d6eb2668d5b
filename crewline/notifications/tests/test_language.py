"""A technician who chose Spanish is told of changes in Spanish (in-app, by email and Web
Push, which carry the notification's words), times in the organization's time zone."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from crewline.notifications.models import Notification
from crewline.notifications.tasks import send_notification_email

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
    assert note.body.startswith(
        "WO-1042 en Maple Dental pasó de mar 24 nov 09:00–10:00 a mié 25 nov")
    assert "09:00–10:00" in note.body and "13:00–14:30" in note.body
    # The same change, to someone who reads English, in English.
    change(visit, by=office, change="crew_changed", crew=[technician, second_tech])
    assert Notification.objects.get(recipient=second_tech).title == (
        "New visit: WO-1042 at Maple Dental")
    joined = Notification.objects.filter(recipient=technician).latest("id")
    assert "incorporación de Sam Spanner" in joined.body
    assert "ahora usted, Sam Spanner" in joined.body


def test_a_member_who_follows_the_browser_is_told_in_the_language_they_last_used(
        visit, office, technician, tech_client, clock):
    """Language left empty: the app follows the phone's browser, and so do the notification,
    its email and its Web Push (which carry the notification's words), made without a
    request."""
    assert technician.language == ""
    technician.last_language = ""
    technician.save(update_fields=["last_language"])
    response = tech_client.get("/field/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9,en;q=0.5")
    assert response.status_code == 200 and 'lang="es"' in response.content.decode()
    technician.refresh_from_db()
    assert technician.last_language == "es"
    change(visit, by=office, change="moved", start=local(2026, 11, 25, 13),
           end=local(2026, 11, 25, 14, 30))
    note = Notification.objects.get(recipient=technician)
    assert note.title == "Visita movida: WO-1042 en Maple Dental"
    clock.shift(dt.timedelta(minutes=5))
    assert send_notification_email.call(note.pk) == "sent"
    assert mail.outbox[-1].subject == (
        "[Northside Heating & Air] Visita movida: WO-1042 en Maple Dental")
    assert "mié 25 nov 13:00–14:30" in mail.outbox[-1].body
    # Back on an English browser: the next message is in English.
    tech_client.get("/field/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.8")
    technician.refresh_from_db()
    assert technician.last_language == "en"
    change(visit, by=office, change="moved", start=local(2026, 11, 26, 9),
           end=local(2026, 11, 26, 10))
    assert Notification.objects.filter(recipient=technician).latest("updated_at").title == (
        "WO-1042 at Maple Dental moved")


def test_a_member_who_never_signed_in_is_told_in_the_organizations_language(
        visit, org, office, technician, second_tech):
    org.language = "es"
    org.save(update_fields=["language"])
    second_tech.last_language = ""
    second_tech.save(update_fields=["last_language"])
    change(visit, by=office, change="crew_changed", crew=[technician, second_tech])
    assert Notification.objects.get(recipient=second_tech).title == (
        "Nueva visita: WO-1042 en Maple Dental")
    # A member's own choice comes first, then the browser they last used.
    second_tech.last_language = "en"
    assert second_tech.messages_language == "en"
    second_tech.language = "es"
    assert second_tech.messages_language == "es"


def test_the_language_used_is_recorded_only_when_it_chosen_by_the_browser(technician,
                                                                          tech_client):
    tech_client.get("/field/", HTTP_ACCEPT_LANGUAGE="es")
    technician.refresh_from_db()
    assert technician.last_language == "es"
    technician.language = "en"
    technician.save(update_fields=["language"])
    # A member who chose a language: the browser's is not what they read; nothing recorded.
    tech_client.get("/field/", HTTP_ACCEPT_LANGUAGE="fr, es")
    technician.refresh_from_db()
    assert technician.last_language == "es"
