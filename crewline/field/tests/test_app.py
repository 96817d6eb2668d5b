"""The technician app's pages: the shell, the manifest, the service worker and the icons."""

from __future__ import annotations

import json

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from PIL import Image


def test_it_serves_the_app_shell_with_config_and_words(tech_client, technician):
    response = tech_client.get(reverse("field:app"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'rel="manifest"' in html and reverse("field:manifest") in html
    assert "field/sync.js" in html and "field/app.js" in html
    config = response.context["field_config"]
    assert config["api"] == "/field/api/"
    assert config["sw"] == "/field/sw.js" and config["scope"] == "/field/"
    assert config["member"]["id"] == technician.pk
    # Its words: Django's JavaScript catalogue for the page's language, before the app.
    assert html.index('src="/field/words/en.js"') < html.index("field/app.js")
    assert config["units"] == {"d": "d", "h": "h", "min": "min"}


def test_it_lets_office_staff_open_the_app_too(office_client):
    assert office_client.get(reverse("field:app")).status_code == 200


def test_it_lands_technicians_on_the_app_after_login(tech_client):
    response = tech_client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("field:app")


def test_it_serves_an_installable_manifest(tech_client):
    response = tech_client.get(reverse("field:manifest"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["start_url"] == "/field/" and data["scope"] == "/field/"
    assert data["display"] == "standalone"
    sizes = {icon["sizes"] for icon in data["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes


@pytest.mark.parametrize("size", [192, 512])
def test_it_ships_png_icons_of_the_declared_sizes(size):
    path = finders.find(f"field/icon-{size}.png")
    with Image.open(path) as image:
        assert image.size == (size, size)


def test_it_serves_the_service_worker_for_the_whole_app(tech_client):
    response = tech_client.get(reverse("field:sw"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/field/"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    body = response.content.decode()
    config = json.loads(body.split("const CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert "/static/field/app.js" in config["assets"]
    assert "/static/field/sync.js" in config["assets"]
    assert "/field/words/en.js" in config["assets"]  # the words, offline too
    assert config["shell"] == "/field/" and config["api"] == "/field/api/"
    assert "addEventListener(\"sync\"" in body


def test_the_service_worker_keeps_the_words_of_the_members_language(tech_client, technician):
    """A member who reads Spanish: the worker keeps the Spanish catalogue, and a change of
    language is a new version (the phone fetches the words again)."""
    def config():
        body = tech_client.get(reverse("field:sw")).content.decode()
        return json.loads(body.split("const CONFIG = ", 1)[1].split(";\n", 1)[0])

    english = config()
    technician.language = "es"
    technician.save(update_fields=["language"])
    spanish = config()
    assert "/field/words/es.js" in spanish["assets"]
    assert "/field/words/en.js" not in spanish["assets"]
    assert spanish["version"] != english["version"]


def test_a_member_who_follows_the_browser_gets_the_words_of_the_browsers_language(
        tech_client, technician):
    assert technician.language == ""
    html = tech_client.get(reverse("field:app"), HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9").content
    assert b'<script src="/field/words/es.js"></script>' in html
    html = tech_client.get(reverse("field:app"), HTTP_ACCEPT_LANGUAGE="en-GB").content
    assert b'<script src="/field/words/en.js"></script>' in html


def test_it_serves_the_words_of_each_offered_language_to_anyone(client):
    response = client.get("/field/words/es.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert '"Mi d\\u00eda"' in body or '"Mi día"' in body
    english = client.get("/field/words/en.js").content.decode()
    assert "Mi d" not in english and "django.interpolate" in english
    assert client.get("/field/words/fr.js").status_code == 404


def test_it_changes_the_service_worker_version_when_the_shell_changes(tech_client, monkeypatch):
    from crewline.field import app_views

    first = tech_client.get(reverse("field:sw")).content
    monkeypatch.setattr(app_views, "SHELL_STATIC", [*app_views.SHELL_STATIC, "core/icon.svg"])
    second = tech_client.get(reverse("field:sw")).content
    version = lambda body: json.loads(  # noqa: E731
        body.decode().split("const CONFIG = ", 1)[1].split(";\n", 1)[0])["version"]
    assert version(first) != version(second)


@pytest.mark.parametrize("name", ["app", "manifest", "sw"])
def test_it_sends_visitors_without_a_login_to_log_in(client, db, name):
    response = client.get(reverse(f"field:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_offers_log_out_and_the_full_site_from_the_app(tech_client):
    html = tech_client.get(reverse("field:app")).content.decode()
    assert f'action="{reverse("logout")}"' in html
    assert reverse("workorders:my_visits") in html
