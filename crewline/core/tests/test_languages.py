"""Which language a page speaks: the sign-in page the browser's (Accept-Language), a member's
pages (the office's and the technician app's) the member's choice, else the browser's."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_sign_in_page_follows_the_browser(client):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9,en;q=0.5")
    html = page.content.decode()
    assert '<html lang="es">' in html and "Bienvenido de nuevo" in html
    assert page["Content-Language"] == "es" and "Accept-Language" in page["Vary"]
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert '<html lang="en">' in html and "Welcome back" in html
    # A language Crewline has no translation of falls back to English.
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr-FR").content.decode()
    assert '<html lang="en">' in html


def test_a_members_language_is_used_on_every_office_page(office_client, office):
    office.language = "es"
    office.save(update_fields=["language"])
    for name in ("dashboard:home", "workorders:list", "customers:list", "core:members"):
        html = office_client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert '<html lang="es">' in html, name
        assert "Órdenes de trabajo" in html and ">Work orders<" not in html, name


def test_the_technician_app_gets_its_words_in_the_members_language(tech_client, technician):
    technician.language = "es"
    technician.save(update_fields=["language"])
    html = tech_client.get(reverse("field:app"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The app's JavaScript gets its words from the Spanish catalogue, whatever the browser.
    assert '<script src="/field/words/es.js"></script>' in html
    words = tech_client.get("/field/words/es.js").content.decode()
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});\n", words, re.S)[1])
    assert catalog["My day"] == "Mi día" and catalog["Clock in"] == "Marcar entrada"
    assert catalog["Job complete"] == "Trabajo terminado"
    assert "django.interpolate" in words
    config = json.loads(re.search(
        r'<script id="field-config" type="application/json">(.*?)</script>', html, re.S)[1])
    # The phone writes "M" with the browser's Intl, which writes "dic" in Spanish.
    assert config["organization"]["formats"]["date"] == "j M Y"
    manifest = tech_client.get(reverse("field:manifest")).json()
    assert manifest["name"] == "Crewline en campo"
