"""The calendar feed page: make, show once, remake, turn off; the office feed for the office."""

from __future__ import annotations

import re

from django.urls import reverse

from crewline.calendars.models import CalendarFeed
from crewline.core.models import AuditLog


def _shown_url(response) -> str:
    match = re.search(r'id="feed-url" value="([^"]+)"', response.content.decode())
    assert match, "no feed URL shown"
    return match.group(1)


def test_it_makes_a_technicians_feed_and_shows_its_url_once(tech_client, technician, client):
    page = tech_client.get(reverse("calendars:settings"))
    assert page.status_code == 200
    assert b"Make my calendar link" in page.content
    assert b"Office calendar" not in page.content
    response = tech_client.post(reverse("calendars:regenerate"), follow=True)
    url = _shown_url(response)
    assert url.startswith("http://127.0.0.1:8000/calendar/") and url.endswith(".ics")
    assert b"webcal://127.0.0.1:8000/calendar/" in response.content
    assert client.get(url.removeprefix("http://127.0.0.1:8000")).status_code == 200
    # Shown once: only the hash is kept.
    again = tech_client.get(reverse("calendars:settings"))
    assert b'id="feed-url"' not in again.content
    assert b"Link made on" in again.content
    feed = CalendarFeed.objects.get()
    assert feed.member == technician
    assert AuditLog.objects.filter(action="calendar_feed.create", actor=technician).exists()


def test_it_regenerates_and_the_old_link_stops(tech_client, client):
    first = _shown_url(tech_client.post(reverse("calendars:regenerate"), follow=True))
    second = _shown_url(tech_client.post(reverse("calendars:regenerate"), follow=True))
    assert first != second
    assert client.get(first.removeprefix("http://127.0.0.1:8000")).status_code == 404
    assert client.get(second.removeprefix("http://127.0.0.1:8000")).status_code == 200
    assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 1


def test_it_revokes(tech_client, client, technician):
    url = _shown_url(tech_client.post(reverse("calendars:regenerate"), follow=True))
    response = tech_client.post(reverse("calendars:revoke"), follow=True)
    assert b"Your calendar link was turned off" in response.content
    assert client.get(url.removeprefix("http://127.0.0.1:8000")).status_code == 404
    assert AuditLog.objects.filter(action="calendar_feed.revoke", actor=technician).exists()


def test_it_lets_the_office_manage_the_organization_feed(office_client, client):
    page = office_client.get(reverse("calendars:settings"))
    assert b"Office calendar: every visit" in page.content
    url = _shown_url(office_client.post(reverse("calendars:office_regenerate"), follow=True))
    assert CalendarFeed.objects.get().member is None
    assert client.get(url.removeprefix("http://127.0.0.1:8000")).status_code == 200
    office_client.post(reverse("calendars:office_revoke"))
    assert client.get(url.removeprefix("http://127.0.0.1:8000")).status_code == 404


def test_it_refuses_the_organization_feed_to_a_technician(tech_client):
    assert tech_client.post(reverse("calendars:office_regenerate")).status_code == 403
    assert tech_client.post(reverse("calendars:office_revoke")).status_code == 403
    assert not CalendarFeed.objects.exists()


def test_it_keeps_members_feeds_apart(tech_client, office_client, technician, office):
    office_client.post(reverse("calendars:regenerate"))
    tech_client.post(reverse("calendars:revoke"))
    assert CalendarFeed.objects.get().member == office
    assert CalendarFeed.objects.get().revoked_at is None


def test_it_never_touches_another_organizations_feeds(outsider_client, office_client):
    office_client.post(reverse("calendars:office_regenerate"))
    outsider_client.post(reverse("calendars:office_revoke"))
    outsider_client.post(reverse("calendars:office_regenerate"))
    live = CalendarFeed.objects.filter(revoked_at__isnull=True)
    assert sorted(f.organization.slug for f in live) == ["northside", "rival"]


def test_it_sends_anonymous_visitors_to_log_in(client):
    for name in ("calendars:settings", "calendars:regenerate", "calendars:office_revoke"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
