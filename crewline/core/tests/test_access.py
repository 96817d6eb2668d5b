"""Every core URL tried by the outsider (404 for another organization's objects) and by the
roles that may not act (403)."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crewline.core.models import AuditLog, Invitation, Role
from crewline.factories import SkillFactory
from crewline.workorders.models import JobType

pytestmark = pytest.mark.django_db

# (url name, http method, object kind or None)
OBJECT_URLS = [
    ("core:invitation_revoke", "post", "invitation"),
    ("core:invitation_resend", "post", "invitation"),
    ("core:member_edit", "get", "member"),
    ("core:member_edit", "post", "member"),
    ("core:member_deactivate", "post", "member"),
    ("core:member_reactivate", "post", "member"),
    ("core:job_type_edit", "get", "job_type"),
    ("core:job_type_edit", "post", "job_type"),
    ("core:job_type_deactivate", "post", "job_type"),
    ("core:job_type_reactivate", "post", "job_type"),
    ("core:skill_edit", "get", "skill"),
    ("core:skill_edit", "post", "skill"),
    ("core:skill_delete", "post", "skill"),
]
OWNER_PAGES = [
    ("core:member_invite", "get"), ("core:member_invite", "post"),
    ("core:settings", "get"), ("core:settings", "post"), ("core:settings_logo", "post"),
    ("core:settings_hours", "get"), ("core:settings_hours", "post"),
    ("core:job_types", "get"), ("core:job_types", "post"),
    ("core:skills", "get"), ("core:skills", "post"),
    ("core:audit_log", "get"),
]
OFFICE_PAGES = [("core:members", "get")]


@pytest.fixture
def objects(org, owner, technician):
    return {
        "invitation": Invitation.objects.create(
            organization=org, email="p@example.com", role=Role.OFFICE, token_hash="a" * 64,
            invited_by=owner, expires_at=timezone.now() + dt.timedelta(days=7)),
        "member": technician,
        "job_type": JobType.objects.create(organization=org, name="Leak repair"),
        "skill": SkillFactory(organization=org, name="Plumbing"),
    }


def _call(client, method, url):
    return getattr(client, method)(url)


@pytest.mark.parametrize(("name", "method", "kind"), OBJECT_URLS)
def test_it_gives_the_outsider_a_404_for_another_orgs_objects(outsider_client, objects, name,
                                                              method, kind):
    obj = objects[kind]
    response = _call(outsider_client, method, reverse(name, args=[obj.pk]))
    assert response.status_code == 404
    obj.refresh_from_db()
    if kind == "invitation":
        assert obj.revoked_at is None and obj.token_hash == "a" * 64
    if kind == "member":
        assert obj.is_active and obj.role == Role.TECHNICIAN
    if kind == "job_type":
        assert obj.is_active and obj.name == "Leak repair"
    if kind == "skill":
        assert obj.name == "Plumbing"


@pytest.mark.parametrize(("name", "method", "kind"), OBJECT_URLS)
@pytest.mark.parametrize("persona", ["tech_client", "office_client"])
def test_it_forbids_object_actions_to_non_owners(request, objects, persona, name, method, kind):
    client = request.getfixturevalue(persona)
    response = _call(client, method, reverse(name, args=[objects[kind].pk]))
    assert response.status_code == 403
    assert "You can't open this page" in response.content.decode()


@pytest.mark.parametrize(("name", "method"), OWNER_PAGES)
@pytest.mark.parametrize("persona", ["tech_client", "office_client"])
def test_it_forbids_owner_pages_to_office_and_technicians(request, persona, name, method):
    client = request.getfixturevalue(persona)
    assert _call(client, method, reverse(name)).status_code == 403


@pytest.mark.parametrize(("name", "method"), OFFICE_PAGES)
def test_it_forbids_office_pages_to_technicians(tech_client, name, method):
    assert _call(tech_client, method, reverse(name)).status_code == 403


@pytest.mark.parametrize(("name", "method"), [*OWNER_PAGES, *OFFICE_PAGES,
                                              ("core:profile", "get"), ("core:logo", "get")])
def test_it_sends_strangers_to_the_login_page(db, name, method):
    response = _call(Client(), method, reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "method"), [*OWNER_PAGES, *OFFICE_PAGES])
def test_it_lets_the_owner_open_every_page(owner_client, name, method):
    before = AuditLog.objects.count()
    response = _call(owner_client, method, reverse(name))
    if method == "get":
        assert response.status_code == 200
    else:
        # Allowed, and an empty form changes nothing: the form comes back (or a 400 saying what
        # is missing), never a refusal or an error page.
        assert response.status_code in (200, 400)
        assert AuditLog.objects.count() == before


def test_it_rejects_get_on_state_changing_urls(owner_client, objects):
    url = reverse("core:member_deactivate", args=[objects["member"].pk])
    assert owner_client.get(url).status_code == 405
    objects["member"].refresh_from_db()
    assert objects["member"].is_active
