import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from crewline.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_logs_in_with_email_and_password(owner):
    client = Client()
    response = client.post(reverse("login"), {"username": "owner@example.com",
                                              "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("core:profile")).status_code == 200


def test_it_shows_a_clear_error_for_a_wrong_password(owner):
    response = Client().post(reverse("login"), {"username": "owner@example.com",
                                                "password": "nope"})
    assert response.status_code == 200
    assert "correct email address and password" in response.content.decode()


def test_it_locks_the_account_after_five_failed_logins(owner):
    client = Client()
    for _ in range(4):
        response = client.post(reverse("login"), {"username": "owner@example.com",
                                                  "password": "wrong password"})
        assert response.status_code == 200
    response = client.post(reverse("login"), {"username": "owner@example.com",
                                              "password": "wrong password"})
    assert response.status_code == 429
    # Even the right password is refused now.
    response = client.post(reverse("login"), {"username": "owner@example.com",
                                              "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_resets_a_password_by_email(owner, settings):
    settings.SITE_URL = "https://crew.example.com"
    client = Client()
    response = client.post(reverse("password_reset"), {"email": "owner@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if line.startswith("https://crew.example.com/"))
    path = link.removeprefix("https://crew.example.com")
    response = client.get(path, follow=True)
    assert response.context["validlink"]
    response = client.post(response.redirect_chain[-1][0],
                           {"new_password1": "brand new secret 7",
                            "new_password2": "brand new secret 7"})
    assert response["Location"] == reverse("password_reset_complete")
    owner.user.refresh_from_db()
    assert owner.user.check_password("brand new secret 7")


def test_it_sends_no_reset_email_to_an_unknown_address(db):
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_it_logs_out(owner_client):
    response = owner_client.post(reverse("logout"))
    assert response.status_code == 302
    assert owner_client.get(reverse("core:profile")).status_code == 302
