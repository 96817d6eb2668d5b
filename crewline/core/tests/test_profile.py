import pytest
from django.urls import reverse

from crewline.core.models import AuditLog

pytestmark = pytest.mark.django_db


def test_it_saves_name_phone_and_language(tech_client, technician):
    response = tech_client.post(reverse("core:profile"), {
        "full_name": "Tara T. Tech", "phone": " 555-0199 ", "language": "es"})
    assert response.status_code == 302
    technician.refresh_from_db()
    technician.user.refresh_from_db()
    assert (technician.user.full_name, technician.phone, technician.language) == (
        "Tara T. Tech", "555-0199", "es")
    entry = AuditLog.objects.get(action="profile.update")
    assert entry.changes["full_name"] == ["Tara Tech", "Tara T. Tech"]


def test_it_renders_pages_in_the_chosen_language(office_client, office):
    assert 'lang="en"' in office_client.get(reverse("core:profile")).content.decode()
    office_client.post(reverse("core:profile"), {"full_name": "Oscar", "language": "es"})
    page = office_client.get(reverse("core:members")).content.decode()
    assert '<html lang="es">' in page
    # The member's choice wins over the browser's; an empty choice follows the browser again.
    office_client.post(reverse("core:profile"), {"full_name": "Oscar", "language": "en"})
    page = office_client.get(reverse("core:members"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="en">' in page
    office_client.post(reverse("core:profile"), {"full_name": "Oscar", "language": ""})
    page = office_client.get(reverse("core:members"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es">' in page


def test_it_offers_the_configured_languages_and_the_browser(office_client):
    form = office_client.get(reverse("core:profile")).context["form"]
    assert [code for code, _ in form.fields["language"].choices] == ["", "en", "es"]


def test_it_refuses_an_unknown_language(office_client, office):
    response = office_client.post(reverse("core:profile"), {"full_name": "O", "language": "xx"})
    assert response.status_code == 200
    assert "language" in response.context["form"].errors
    office.refresh_from_db()
    assert office.language == ""


def test_it_changes_the_password_and_keeps_the_session(tech_client, technician):
    response = tech_client.post(reverse("core:password_change"), {
        "old_password": "correct horse battery", "new_password1": "a better secret 11",
        "new_password2": "a better secret 11"})
    assert response.status_code == 302
    technician.user.refresh_from_db()
    assert technician.user.check_password("a better secret 11")
    assert tech_client.get(reverse("core:profile")).status_code == 200
    assert AuditLog.objects.filter(action="user.password_change").exists()


def test_it_refuses_a_wrong_old_password_or_weak_new_one(tech_client, technician):
    response = tech_client.post(reverse("core:password_change"), {
        "old_password": "nope", "new_password1": "abc", "new_password2": "abc"})
    form = response.context["password_form"]
    assert "old_password" in form.errors and "new_password2" in form.errors
    technician.user.refresh_from_db()
    assert technician.user.check_password("correct horse battery")
