"""The member's "email me about changes" setting on their profile page."""

from __future__ import annotations

from django.urls import reverse

from crewline.core.models import AuditLog


def test_it_turns_emails_off_and_on_from_the_profile(tech_client, technician):
    page = tech_client.get(reverse("core:profile"))
    assert b'name="notify_by_email"' in page.content
    assert b"checked" in page.content
    data = {"full_name": "Tara Tech", "phone": "", "language": ""}
    tech_client.post(reverse("core:profile"), data)
    technician.refresh_from_db()
    assert technician.notify_by_email is False
    entry = AuditLog.objects.get(action="profile.update")
    assert entry.changes == {"notify_by_email": [True, False]}
    tech_client.post(reverse("core:profile"), {**data, "notify_by_email": "on"})
    technician.refresh_from_db()
    assert technician.notify_by_email is True
