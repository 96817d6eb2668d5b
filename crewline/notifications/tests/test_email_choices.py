"""Each member chooses on the notifications page which kinds also go by email."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crewline.core.models import AuditLog
from crewline.notifications.models import Notification, NotificationPreference
from crewline.notifications.services import email_choices, wants_email
from crewline.notifications.tasks import send_notification_email

pytestmark = pytest.mark.django_db

LIST = reverse("notifications:list")
SAVE = reverse("notifications:email_settings")


def test_it_shows_office_and_technician_kinds_by_role_all_on_by_default(
        office_client, tech_client):
    office_page = office_client.get(LIST).content.decode()
    assert "A quote was approved" in office_page and "Visit moved" in office_page
    assert "A visit is late or running over" in office_page
    assert "A job is ready to close" in office_page
    assert "A request for work came in" in office_page
    assert "A customer chose an offered time" in office_page
    assert "A customer replied to a text message" in office_page
    assert office_page.count('name="email_kinds"') == 15
    assert office_page.count("checked") == 15
    tech_page = tech_client.get(LIST).content.decode()
    assert "A quote was approved" not in tech_page
    assert "A visit is late or running over" not in tech_page
    assert tech_page.count('name="email_kinds"') == 7


def test_it_saves_the_choice_audits_it_and_the_email_task_respects_it(
        office_client, office, org):
    response = office_client.post(SAVE, {"email_kinds": ["job_incomplete", "visit_moved"]})
    assert response.status_code == 302
    choices = email_choices(member=office)
    assert choices["job_incomplete"] and choices["visit_moved"]
    assert not choices["quote_approved"] and not choices["sync_rejected"]
    assert not wants_email(office, "quote_approved")
    assert AuditLog.objects.filter(action="notification_preferences.update").count() == 1
    page = office_client.get(LIST).content.decode()
    assert page.count("checked") == 2
    note = Notification.objects.create(organization=org, recipient=office,
                                       kind="quote_approved", title="Q-1001 approved")
    assert send_notification_email.call(note.pk) == "not wanted"
    # Ticking it again turns it back on.
    office_client.post(SAVE, {"email_kinds": ["quote_approved"]})
    assert send_notification_email.call(note.pk) == "sent"


def test_it_refuses_a_kind_that_is_not_offered(tech_client, technician):
    response = tech_client.post(SAVE, {"email_kinds": ["quote_approved"]})
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode() or "invalid-feedback" in \
        response.content.decode()
    assert not NotificationPreference.objects.filter(member=technician).exists()


def test_it_keeps_each_members_choice_to_themselves(office_client, owner, office):
    office_client.post(SAVE, {"email_kinds": []})
    assert not wants_email(office, "job_incomplete")
    assert wants_email(owner, "job_incomplete")


def test_it_needs_a_member_and_a_post(client, outsider_client, office_client, office):
    assert client.post(SAVE, {"email_kinds": []}).status_code == 302  # to the login page
    assert office_client.get(SAVE).status_code == 405
    outsider_client.post(SAVE, {"email_kinds": []})
    assert wants_email(office, "job_incomplete")


def test_it_keeps_the_list_query_count_flat(office_client, office, org,
                                            django_assert_max_num_queries):
    Notification.objects.bulk_create([
        Notification(organization=org, recipient=office, kind="job_incomplete", title=f"n{i}")
        for i in range(20)])
    with django_assert_max_num_queries(15):
        assert office_client.get(LIST).status_code == 200
