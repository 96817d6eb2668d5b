import datetime as dt
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crewline.core.models import AuditLog, Invitation, Member, Role
from crewline.core.services import (
    invitation_create,
    member_set_active,
    member_update,
)
from crewline.factories import MemberFactory, SkillFactory

pytestmark = pytest.mark.django_db


def _invite(client, email="new.tech@example.com", role=Role.TECHNICIAN):
    response = client.post(reverse("core:member_invite"), {"email": email, "role": role})
    assert response.status_code == 302, response.context["form"].errors
    return Invitation.objects.get(email=email), _token_from(mail.outbox[-1].body)


def _token_from(body: str) -> str:
    return re.search(r"/invite/([^/\s]+)/", body).group(1)


def test_it_lists_members_for_office_and_owner(owner_client, office_client, owner, office,
                                               technician, outsider):
    skill = SkillFactory(organization=owner.organization, name="Gas Safe")
    technician.skills.add(skill)
    for client in (owner_client, office_client):
        page = client.get(reverse("core:members")).content.decode()
        for text in ("Olivia Owner", "office@example.com", "Tara Tech", "Gas Safe",
                     "Technician"):
            assert text in page
        assert "Uma Outsider" not in page


def test_it_keeps_the_member_list_query_count_flat(owner_client, owner,
                                                   django_assert_max_num_queries):
    org = owner.organization
    for i in range(3):
        m = MemberFactory(organization=org)
        m.skills.add(SkillFactory(organization=org, name=f"S{i}"))
    with django_assert_max_num_queries(12) as few:
        owner_client.get(reverse("core:members"))
    for i in range(15):
        m = MemberFactory(organization=org)
        m.skills.add(SkillFactory(organization=org, name=f"T{i}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        owner_client.get(reverse("core:members"))


def test_it_invites_by_email_and_stores_only_the_token_hash(owner_client, owner, settings):
    settings.SITE_URL = "https://crew.example.com"
    invitation, token = _invite(owner_client)
    message = mail.outbox[0]
    assert message.to == ["new.tech@example.com"]
    assert f"https://crew.example.com/invite/{token}/" in message.body
    assert "Northside Heating & Air" in message.subject
    assert invitation.token_hash == Invitation.hash_token(token)
    assert token not in invitation.token_hash
    assert invitation.role == Role.TECHNICIAN
    assert invitation.invited_by == owner
    expected = timezone.now() + dt.timedelta(days=7)
    assert abs((invitation.expires_at - expected).total_seconds()) < 60
    assert AuditLog.objects.filter(action="invitation.create", object_id=invitation.pk).exists()


def test_it_refuses_to_invite_a_member_or_to_invite_twice(owner_client, office):
    response = owner_client.post(reverse("core:member_invite"),
                                 {"email": "OFFICE@example.com", "role": Role.OFFICE})
    assert "already a member" in " ".join(response.context["form"].errors["email"])
    _invite(owner_client, "x@example.com")
    response = owner_client.post(reverse("core:member_invite"),
                                 {"email": "x@example.com", "role": Role.OFFICE})
    assert "pending invitation" in " ".join(response.context["form"].errors["email"])
    assert len(mail.outbox) == 1


def test_it_lets_a_new_person_accept_an_invitation(owner_client, owner):
    invitation, token = _invite(owner_client)
    client = Client()
    url = reverse("core:invite_accept", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    assert "Join Northside Heating &amp; Air" in page.content.decode()
    response = client.post(url, {"full_name": "Nina New", "password1": "van keys 2024!",
                                 "password2": "van keys 2024!"})
    assert response.status_code == 302
    member = Member.objects.get(user__email="new.tech@example.com")
    assert member.organization == owner.organization
    assert member.role == Role.TECHNICIAN
    assert member.user.full_name == "Nina New"
    invitation.refresh_from_db()
    assert invitation.accepted_by == member
    assert client.get(reverse("core:profile")).status_code == 200
    # The link is single-use.
    again = Client().get(url)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()


def test_it_validates_the_new_password_on_acceptance(owner_client):
    _, token = _invite(owner_client)
    response = Client().post(reverse("core:invite_accept", args=[token]),
                             {"full_name": "Nina", "password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not Member.objects.filter(user__email="new.tech@example.com").exists()


def test_it_lets_a_logged_in_user_with_that_email_just_join(owner_client, owner, outsider):
    _, token = _invite(owner_client, "outsider@example.com", Role.OFFICE)
    client = Client()
    client.force_login(outsider.user)
    url = reverse("core:invite_accept", args=[token])
    assert "Join Northside" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    member = Member.objects.get(organization=owner.organization, user=outsider.user)
    assert member.role == Role.OFFICE
    # The session now works in the organization just joined.
    assert client.get(reverse("core:members")).status_code == 200


def test_it_asks_an_existing_user_to_log_in_first(owner_client, outsider):
    _, token = _invite(owner_client, "outsider@example.com")
    response = Client().get(reverse("core:invite_accept", args=[token]))
    assert "Log in to accept" in response.content.decode()


def test_it_refuses_a_logged_in_user_with_another_email(owner_client, office_client):
    _, token = _invite(owner_client)
    url = reverse("core:invite_accept", args=[token])
    assert "but you are logged in as" in office_client.get(url).content.decode()
    office_client.post(url)
    assert not Member.objects.filter(user__email="new.tech@example.com").exists()


@pytest.mark.parametrize("state", ["expired", "revoked", "unknown"])
def test_it_explains_an_unusable_invitation(owner_client, state):
    invitation, token = _invite(owner_client)
    if state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - dt.timedelta(minutes=1))
    elif state == "revoked":
        owner_client.post(reverse("core:invitation_revoke", args=[invitation.pk]))
    else:
        token = token[::-1]
    client = Client()
    url = reverse("core:invite_accept", args=[token])
    response = client.get(url)
    assert response.status_code == (404 if state == "unknown" else 410)
    expected = {"expired": "expired", "revoked": "withdrawn", "unknown": "not valid"}[state]
    assert expected in response.content.decode()
    client.post(url, {"full_name": "N", "password1": "van keys 2024!",
                      "password2": "van keys 2024!"})
    assert not Member.objects.filter(user__email="new.tech@example.com").exists()


def test_it_resends_with_a_new_link_and_the_old_one_stops_working(owner_client):
    invitation, old_token = _invite(owner_client)
    response = owner_client.post(reverse("core:invitation_resend", args=[invitation.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    new_token = _token_from(mail.outbox[1].body)
    assert new_token != old_token
    assert Client().get(reverse("core:invite_accept", args=[old_token])).status_code == 404
    assert Client().get(reverse("core:invite_accept", args=[new_token])).status_code == 200
    assert AuditLog.objects.filter(action="invitation.resend").count() == 1


def test_it_lets_owners_change_a_members_role_skills_and_details(owner_client, technician):
    skill = SkillFactory(organization=technician.organization, name="Boilers")
    response = owner_client.post(reverse("core:member_edit", args=[technician.pk]), {
        "role": Role.OFFICE, "skills": [skill.pk], "colour": "#FF8800",
        "phone": "555-0100", "home_base": "Depot 2"})
    assert response.status_code == 302
    technician.refresh_from_db()
    assert (technician.role, technician.colour, technician.phone, technician.home_base) == (
        Role.OFFICE, "#ff8800", "555-0100", "Depot 2")
    assert list(technician.skills.all()) == [skill]
    entry = AuditLog.objects.get(action="member.update")
    assert entry.changes["role"] == ["technician", "office"]
    assert entry.changes["skills"] == [[], [skill.pk]]


def test_it_refuses_a_bad_colour_and_another_orgs_skill(owner_client, technician, other_org):
    foreign = SkillFactory(organization=other_org)
    response = owner_client.post(reverse("core:member_edit", args=[technician.pk]), {
        "role": Role.TECHNICIAN, "skills": [foreign.pk], "colour": "red"})
    errors = response.context["form"].errors
    assert "colour" in errors and "skills" in errors


def test_it_deactivates_and_reactivates_a_member(owner_client, technician):
    owner_client.post(reverse("core:member_deactivate", args=[technician.pk]))
    technician.refresh_from_db()
    assert not technician.is_active
    tech = Client()
    tech.force_login(technician.user)
    assert tech.get(reverse("core:profile")).status_code == 403
    owner_client.post(reverse("core:member_reactivate", args=[technician.pk]))
    technician.refresh_from_db()
    assert technician.is_active
    assert tech.get(reverse("core:profile")).status_code == 200
    assert [e.action for e in AuditLog.objects.order_by("seq")] == [
        "member.deactivate", "member.reactivate"]


def test_it_refuses_to_demote_or_deactivate_the_last_owner(owner_client, owner):
    response = owner_client.post(reverse("core:member_edit", args=[owner.pk]),
                                 {"role": Role.OFFICE, "colour": "#000000"})
    assert "only active owner" in " ".join(response.context["form"].errors["role"])
    response = owner_client.post(reverse("core:member_deactivate", args=[owner.pk]),
                                 follow=True)
    assert "only active owner" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER and owner.is_active
    with pytest.raises(ValidationError):
        member_update(member=owner, by=owner, role=Role.TECHNICIAN)


def test_it_allows_demoting_an_owner_when_another_remains(owner, office):
    member_update(member=office, by=owner, role=Role.OWNER)
    member_update(member=owner, by=office, role=Role.OFFICE)
    owner.refresh_from_db()
    assert owner.role == Role.OFFICE
    with pytest.raises(ValidationError):
        member_set_active(member=office, by=office, active=False)


def test_it_rejects_invitations_with_unknown_roles(owner):
    with pytest.raises(ValidationError):
        invitation_create(organization=owner.organization, email="a@example.com",
                          role="admin", by=owner)
