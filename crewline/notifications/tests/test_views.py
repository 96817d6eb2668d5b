"""The notification list, the navbar bell and marking read: a member's own only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from crewline.notifications.models import Notification


def make(member, n: int = 1, **fields) -> list[Notification]:
    return [Notification.objects.create(
        organization=member.organization, recipient=member, kind="visit_moved",
        title=fields.get("title", f"WO-{1000 + i} moved"), body="Moved from A to B.",
        url=fields.get("url", "/work-orders/my-visits/"), read_at=fields.get("read_at"))
        for i in range(n)]


def test_it_lists_a_technicians_own_notifications_unread_first(tech_client, technician,
                                                                office):
    make(technician, title="Old news", read_at=timezone.now())
    make(technician, title="Fresh news")
    make(office, title="Office only")
    response = tech_client.get(reverse("notifications:list"))
    assert response.status_code == 200
    text = response.content.decode()
    assert text.index("Fresh news") < text.index("Old news")
    assert "Office only" not in text
    assert "1 unread" in text


def test_it_shows_the_unread_count_on_the_bell_of_every_page(tech_client, technician):
    make(technician, 3)
    make(technician, read_at=timezone.now())
    response = tech_client.get(reverse("core:profile"))
    assert b'id="notification-bell"' in response.content
    assert b"Notifications, 3 unread" in response.content
    bell = tech_client.get(reverse("notifications:bell"))
    assert bell.status_code == 200
    assert b">3</span>" in bell.content
    assert b'hx-trigger="every 60s"' in bell.content


def test_it_counts_unread_in_one_query(tech_client, technician, django_assert_num_queries):
    make(technician, 5)
    # Session, user, member, and the bell's count.
    with django_assert_num_queries(4):
        tech_client.get(reverse("notifications:bell"))


def test_it_marks_one_read(tech_client, technician):
    note, other = make(technician, 2)
    response = tech_client.post(reverse("notifications:read", args=[note.pk]))
    assert response.status_code == 302
    note.refresh_from_db()
    other.refresh_from_db()
    assert note.read_at is not None
    assert other.read_at is None


def test_it_marks_one_read_for_htmx_and_updates_the_bell(tech_client, technician):
    note, _ = make(technician, 2)
    response = tech_client.post(reverse("notifications:read", args=[note.pk]),
                                headers={"HX-Request": "true"})
    text = response.content.decode()
    assert f'id="notification-{note.pk}"' in text
    assert "Mark read" not in text
    assert 'hx-swap-oob="true"' in text
    assert ">1</span>" in text


def test_it_marks_all_read(tech_client, technician, office):
    make(technician, 3)
    theirs = make(office)[0]
    tech_client.post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(recipient=technician, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_it_opens_a_notification_and_marks_it_read(tech_client, technician):
    note = make(technician, url="/work-orders/my-visits/#visit-7")[0]
    response = tech_client.get(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/work-orders/my-visits/#visit-7"
    note.refresh_from_db()
    assert note.read_at is not None


def test_it_never_redirects_off_site(tech_client, technician):
    note = make(technician, url="https://evil.example.com/")[0]
    response = tech_client.get(reverse("notifications:open", args=[note.pk]))
    assert response["Location"] == reverse("notifications:list")


@pytest.mark.parametrize("name", ["notifications:open", "notifications:read"])
def test_it_hides_another_members_notifications(name, tech_client, office):
    note = make(office)[0]
    method = tech_client.get if name == "notifications:open" else tech_client.post
    assert method(reverse(name, args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


@pytest.mark.parametrize("name", ["notifications:open", "notifications:read"])
def test_it_hides_another_organizations_notifications(name, outsider_client, technician):
    note = make(technician)[0]
    method = outsider_client.get if name == "notifications:open" else outsider_client.post
    assert method(reverse(name, args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_lists_in_constant_queries(tech_client, technician, django_assert_max_num_queries):
    make(technician, 3)
    with django_assert_max_num_queries(8) as few:
        tech_client.get(reverse("notifications:list"))
    make(technician, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = tech_client.get(reverse("notifications:list"))
    assert response.content.decode().count('class="list-group-item notification') == 50
    assert b"Page 1 of 2" in response.content


def test_it_shows_an_empty_state(tech_client):
    response = tech_client.get(reverse("notifications:list"))
    assert b"No notifications yet." in response.content
