import pytest
from django.urls import reverse

from crewline.core.audit import audit_verify
from crewline.core.models import AuditLog, Member, Organization, Role, User
from crewline.core.services import organization_signup

pytestmark = pytest.mark.django_db

GOOD = {
    "organization_name": "Bright Spark Electric",
    "time_zone": "America/Denver",
    "full_name": "Sam Spark",
    "email": "Sam@BrightSpark.example",
    "password1": "lightning rod 42",
    "password2": "lightning rod 42",
}


def test_it_creates_the_organization_and_its_owner_and_logs_them_in(client):
    response = client.post(reverse("core:signup"), GOOD)
    assert response.status_code == 302
    # The first screen is the getting-started list.
    assert response["Location"] == reverse("core:getting_started")
    org = Organization.objects.get(name="Bright Spark Electric")
    assert org.slug == "bright-spark-electric"
    assert org.time_zone == "America/Denver"
    member = Member.objects.get(organization=org)
    assert member.role == Role.OWNER
    assert member.user.email == "sam@brightspark.example"
    assert member.user.check_password("lightning rod 42")
    assert client.get(reverse("core:profile")).status_code == 200
    assert audit_verify(organization=org).checked == 2
    assert set(AuditLog.objects.filter(organization=org).values_list("action", flat=True)) == {
        "organization.create", "member.create"}


def test_it_offers_new_york_as_the_default_time_zone(client):
    response = client.get(reverse("core:signup"))
    assert response.status_code == 200
    assert b'value="America/New_York" selected' in response.content


def test_it_links_signup_from_the_login_page(client):
    assert reverse("core:signup").encode() in client.get(reverse("login")).content


def test_it_makes_slugs_unique(db):
    organization_signup(organization_name="Acme", time_zone="UTC", full_name="A",
                        email="a@example.com", password="x")
    second = organization_signup(organization_name="ACME", time_zone="UTC", full_name="B",
                                 email="b@example.com", password="x")
    third = organization_signup(organization_name="Acme!", time_zone="UTC", full_name="C",
                                email="c@example.com", password="x")
    assert second.organization.slug == "acme-2"
    assert third.organization.slug == "acme-3"


@pytest.mark.parametrize(("zone", "paper"), [
    ("America/Chicago", "us-letter"), ("America/Toronto", "us-letter"),
    ("America/Mexico_City", "us-letter"), ("Europe/Paris", "a4"), ("Asia/Calcutta", "a4"),
    ("Australia/Sydney", "a4"), ("UTC", "us-letter")])
def test_it_prints_on_the_usual_paper_of_the_time_zones_country(db, zone, paper):
    owner = organization_signup(organization_name="Acme", time_zone=zone, full_name="A",
                                email="a@example.com", password="x")
    assert owner.organization.paper == paper


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"password1": "short", "password2": "short"}, "password1", "too short"),
    ({"password1": "password123", "password2": "password123"}, "password1", "too common"),
    ({"password2": "something else 99"}, "password2", "match"),
    ({"time_zone": "Mars/Olympus"}, "time_zone", "valid choice"),
    ({"email": "not-an-email"}, "email", "valid email"),
    ({"organization_name": ""}, "organization_name", "required"),
])
def test_it_refuses_bad_input_with_a_clear_error(client, changes, field, message):
    response = client.post(reverse("core:signup"), {**GOOD, **changes})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert not Organization.objects.exists()


def test_it_refuses_an_email_that_already_has_an_account(client, owner):
    response = client.post(reverse("core:signup"), {**GOOD, "email": "OWNER@example.com"})
    assert "already exists" in " ".join(response.context["form"].errors["email"])
    assert User.objects.filter(email__iexact="owner@example.com").count() == 1


def test_it_takes_the_labor_rate_and_the_owners_email_as_reply_to(client):
    from decimal import Decimal

    from crewline.billing.services import labor_item_for, labor_rate_is_set

    response = client.post(reverse("core:signup"), {**GOOD, "labor_rate": "95.50"})
    assert response.status_code == 302
    org = Organization.objects.get(name="Bright Spark Electric")
    assert labor_rate_is_set(org)
    assert labor_item_for(org).unit_price == Decimal("95.50")
    assert org.email == "sam@brightspark.example"  # customers' replies reach the owner


def test_the_labor_rate_may_wait_but_is_never_zero(client):
    response = client.post(reverse("core:signup"), {**GOOD, "labor_rate": "0"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Zero would bill labor at nothing" in page
    assert 'value="Bright Spark Electric"' in page  # nothing typed is lost
    assert not Organization.objects.exists()
    response = client.post(reverse("core:signup"), {**GOOD, "labor_rate": ""})
    assert response.status_code == 302


def test_it_offers_canonical_time_zones_grouped_by_region(client):
    page = client.get(reverse("core:signup")).content.decode()
    assert '<optgroup label="America">' in page and '<optgroup label="Europe">' in page
    assert 'value="America/Chicago"' in page and 'value="Asia/Kolkata"' in page
    # Backward-compatible aliases are not offered (they are mapped for the browser instead).
    for alias in ("US/Eastern", "Asia/Calcutta", "Etc/GMT+5", "posix/Europe/Paris",
                  "America/Buenos_Aires"):
        assert f'value="{alias}"' not in page, alias
    assert "data-browser-zone" in page and "Asia/Calcutta" in page  # in the alias map
    response = client.post(reverse("core:signup"), {**GOOD, "time_zone": "US/Eastern"})
    assert response.status_code == 200 and not Organization.objects.exists()


def test_each_new_member_gets_a_colour_of_their_own(client):
    from crewline.core.models import MEMBER_COLOURS, Invitation
    from crewline.core.services import invitation_accept, invitation_create

    owner = organization_signup(organization_name="Hue Co", time_zone="UTC",
                                full_name="Ann Owner", email="ann@hue.example",
                                password="long enough password")
    colours = [owner.colour]
    for n in range(3):
        invitation_create(organization=owner.organization, email=f"t{n}@hue.example",
                          role=Role.TECHNICIAN, by=owner)
        invitation = Invitation.objects.get(email=f"t{n}@hue.example")
        member = invitation_accept(invitation=invitation, full_name=f"Tech {n}",
                                   password="long enough password")
        colours.append(member.colour)
    assert len(set(colours)) == 4
    assert colours == list(MEMBER_COLOURS[:4])
