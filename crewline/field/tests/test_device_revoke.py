"""The office revokes a lost phone from the member's page: the phones with their last sync, a
revoke button; the phone stops syncing and its login session ends, and the audit log keeps it."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from crewline.core.models import AuditLog
from crewline.field.models import Device
from crewline.field.tests.conftest import Phone, new_id

pytestmark = pytest.mark.django_db

ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/126.0.0.0 Mobile Safari/537.36")


def _phone(technician) -> Phone:
    """A phone logged in as the technician, registered as the app does."""
    client = Client(HTTP_USER_AGENT=ANDROID)
    client.force_login(technician.user)
    device_id = str(uuid.uuid4())
    response = client.post("/field/api/devices/", json.dumps({"device_id": device_id,
                                                              "name": ANDROID}),
                           content_type="application/json")
    assert response.status_code == 201
    return Phone(client, Device.objects.get(pk=device_id))


def _url(device) -> str:
    return f"/field/devices/{device.pk}/revoke/"


def test_it_lists_the_members_phones_with_their_last_sync(owner_client, technician, visit):
    phone = _phone(technician)
    assert phone.pull().status_code == 200
    device = Device.objects.get(pk=phone.device.pk)
    assert device.last_seen_at is not None
    assert device.session_key == phone.client.session.session_key
    page = owner_client.get(f"/team/{technician.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Chrome 126 on Android" in html and "Last sync" in html
    assert _url(device) in html


def test_it_revokes_the_phone_and_ends_its_session(owner_client, owner, technician, visit,
                                                   django_capture_on_commit_callbacks):
    phone = _phone(technician)
    assert phone.pull().status_code == 200
    other_session = Client()
    other_session.force_login(technician.user)  # the technician's desktop, say
    page = f"/team/{technician.pk}/"
    with django_capture_on_commit_callbacks(execute=True):  # the session ends once committed
        response = owner_client.post(_url(phone.device), {"next": page})
    assert response.status_code == 302 and response["Location"] == page
    device = Device.objects.get(pk=phone.device.pk)
    assert device.revoked_at is not None and device.session_key == ""
    entry = AuditLog.objects.filter(action="device.revoke").get()
    assert entry.actor == owner and entry.object_id == str(device.pk)
    assert set(entry.changes) == {"revoked_at", "signed_out"}
    # The phone is signed out: it cannot register a new id and go on.
    me = phone.client.get("/field/api/me")
    assert me.status_code == 302 and me["Location"].startswith("/login/")
    assert phone.push(phone.mutation("note_add", visit_id=visit.pk, client_id=new_id(),
                                     body="x")).status_code == 302
    # The technician's other sessions are theirs still.
    assert other_session.get("/field/api/me").status_code == 200
    assert Session.objects.count() == 2  # the owner's and the desktop's
    listed = owner_client.get(page).content.decode()
    assert "Revoked" in listed and _url(device) not in listed
    # Revoking again changes nothing and records nothing.
    assert owner_client.post(_url(device)).status_code == 302
    assert AuditLog.objects.filter(action="device.revoke").count() == 1


def test_it_lets_office_staff_revoke_and_goes_back_to_the_team_page(office_client, technician):
    phone = _phone(technician)
    response = office_client.post(_url(phone.device), {"next": "https://evil.example.com/"})
    assert response.status_code == 302 and response["Location"] == "/team/"
    assert Device.objects.get(pk=phone.device.pk).revoked_at is not None


def test_it_refuses_a_technician(tech_client, technician):
    phone = _phone(technician)
    assert tech_client.post(_url(phone.device)).status_code == 403
    assert tech_client.get(f"/team/{technician.pk}/").status_code == 403
    assert Device.objects.get(pk=phone.device.pk).revoked_at is None


def test_it_hides_another_organizations_phone(outsider_client, technician):
    phone = _phone(technician)
    assert outsider_client.post(_url(phone.device)).status_code == 404
    assert outsider_client.get(f"/team/{technician.pk}/").status_code == 404
    assert Device.objects.get(pk=phone.device.pk).revoked_at is None
    assert outsider_client.get(_url(phone.device)).status_code in (404, 405)


def test_it_says_when_a_member_has_no_phone_yet(owner_client, technician):
    html = owner_client.get(f"/team/{technician.pk}/").content.decode()
    assert "has not used the technician app on a phone yet" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_revokes_a_phone_from_the_members_page_in_a_browser(login, owner, technician):
    """As the owner sees it, at desktop and phone size (screenshots in var/shots/)."""
    from pathlib import Path

    from django.utils import timezone

    shots = Path(__file__).resolve().parents[3] / "var" / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    now = timezone.now()
    lost = Device.objects.create(id=uuid.uuid4(), organization=technician.organization,
                                 member=technician, name=ANDROID, session_key="x" * 32,
                                 last_seen_at=now - timezone.timedelta(hours=3))
    Device.objects.create(id=uuid.uuid4(), organization=technician.organization,
                          member=technician, name="iPad",
                          last_seen_at=now - timezone.timedelta(days=40),
                          revoked_at=now - timezone.timedelta(days=30))
    page = login(owner)
    page.goto(page.base + f"/team/{technician.pk}/")
    page.wait_for_selector("#devices-title")
    page.screenshot(path=str(shots / "member-devices-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    page.screenshot(path=str(shots / "member-devices-phone.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"form[action='{_url(lost)}'] button")
    page.wait_for_selector(".alert-success, [role=alert]")
    assert "“Chrome 126 on Android” can no longer sync" in page.content()
    page.screenshot(path=str(shots / "member-devices-revoked-phone.png"), full_page=True)
    lost.refresh_from_db()
    assert lost.revoked_at is not None
