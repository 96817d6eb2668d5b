"""API keys: made with a secret shown once (only its hash stored), audited, revoked in one click
on the owner's settings page; refused once revoked or expired."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from crewline.api.models import ApiKey
from crewline.api.services import api_key_authenticate, api_key_create, api_key_revoke
from crewline.core.models import AuditLog

pytestmark = pytest.mark.django_db


def test_it_stores_only_a_hash_and_shows_the_key_once(org, owner):
    key, full = api_key_create(organization=org, by=owner, name="Accounting sync",
                               scopes=["read:customers", "write:customers"])
    assert re.fullmatch(r"cl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", full)
    secret = full.split("_", 2)[2]
    stored = ApiKey.objects.get(pk=key.pk)
    assert secret not in {stored.hash, stored.prefix, stored.name}
    assert stored.hash == ApiKey.hash_secret(secret)
    assert api_key_authenticate(full).pk == key.pk
    assert api_key_authenticate(full[:-1] + ("A" if full[-1] != "A" else "B")) is None
    entry = AuditLog.objects.get(action="api_key.create")
    assert entry.actor == owner and entry.changes["scopes"][1] == key.scopes


def test_it_refuses_unknown_scopes_an_empty_name_and_a_past_expiry(org, owner):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        api_key_create(organization=org, by=owner, name=" ", scopes=["read:everything"],
                       expires_at=timezone.now() - dt.timedelta(days=1))
    assert set(exc.value.error_dict) == {"name", "scopes", "expires_at"}
    assert not ApiKey.objects.exists()


def test_a_revoked_or_expired_key_no_longer_works(org, owner):
    key, full = api_key_create(organization=org, by=owner, name="A", scopes=["read:team"])
    api_key_revoke(api_key=key, by=owner)
    assert api_key_authenticate(full) is None
    assert AuditLog.objects.filter(action="api_key.revoke", object_id=str(key.pk)).exists()
    soon = timezone.now() + dt.timedelta(hours=1)
    _key, full = api_key_create(organization=org, by=owner, name="B", scopes=["read:team"],
                                expires_at=soon)
    assert api_key_authenticate(full) is not None
    assert api_key_authenticate(full, now=soon + dt.timedelta(seconds=1)) is None


def test_it_marks_the_last_use_at_most_once_a_minute(org, owner, django_assert_num_queries):
    key, full = api_key_create(organization=org, by=owner, name="A", scopes=["read:team"])
    now = timezone.now()
    api_key_authenticate(full, now=now)
    key.refresh_from_db()
    assert key.last_used_at == now
    with django_assert_num_queries(1):  # the look-up only, no write
        api_key_authenticate(full, now=now + dt.timedelta(seconds=30))


# The settings page ---------------------------------------------------------------------------

def test_the_owner_creates_a_key_sees_it_once_and_revokes_it(org, owner, owner_client):
    page = owner_client.get("/settings/api-keys/")
    assert page.status_code == 200
    assert b'href="/settings/api-keys/"' in owner_client.get("/settings/").content
    response = owner_client.post("/settings/api-keys/", {
        "name": "Website", "scopes": ["read:customers", "write:work_orders"],
        "expires_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat()})
    assert response.status_code == 200
    [full] = re.findall(r'value="(cl_[0-9a-f]{12}_[^"]+)"', response.content.decode())
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    assert key.scopes == ["read:customers", "write:work_orders"] and key.created_by == owner
    assert key.expires_at > timezone.now() + dt.timedelta(days=29)
    # Never again: the list shows the prefix only.
    listing = owner_client.get("/settings/api-keys/").content.decode()
    assert full not in listing and f"cl_{key.prefix}_" in listing
    assert "data-confirm=" in listing
    assert owner_client.post(f"/settings/api-keys/{key.pk}/revoke/").status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "Revoked" in owner_client.get("/settings/api-keys/").content.decode()


def test_the_form_says_what_is_wrong(owner_client):
    response = owner_client.post("/settings/api-keys/", {"name": "", "scopes": []})
    assert response.status_code == 200
    assert not ApiKey.objects.exists()
    assert response.content.decode().count("is-invalid") >= 2


def test_office_staff_may_not_manage_keys(org, owner, office_client):
    key, _full = api_key_create(organization=org, by=owner, name="A", scopes=["read:team"])
    assert office_client.get("/settings/api-keys/").status_code == 403
    assert office_client.post("/settings/api-keys/", {"name": "x", "scopes": ["export"]}
                              ).status_code == 403
    assert office_client.post(f"/settings/api-keys/{key.pk}/revoke/").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None and ApiKey.objects.count() == 1


def test_another_organization_cannot_revoke_a_key(org, owner, outsider_client):
    key, _full = api_key_create(organization=org, by=owner, name="A", scopes=["read:team"])
    assert outsider_client.post(f"/settings/api-keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None
    assert "cl_" + key.prefix not in outsider_client.get("/settings/api-keys/").content.decode()
