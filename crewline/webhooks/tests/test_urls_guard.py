"""Outbound URLs: no loopback, private, link-local or other non-public address, unless the
install allows them; a name is checked by every address it resolves to."""

from __future__ import annotations

import socket

import pytest
from django.core.exceptions import ValidationError

from crewline.webhooks.services import endpoint_create
from crewline.webhooks.urls_guard import UrlRefused, resolve, url_check

REFUSED = ["http://127.0.0.1/hook", "http://localhost:8000/", "http://api.localhost/",
           "http://10.1.2.3/", "http://192.168.0.10/", "http://172.16.5.4/",
           "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://[fe80::1]/",
           "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/",
           "ftp://example.com/", "https://user:pw@example.com/", "example.com/hook",
           "http://example.com:99999/"]


@pytest.mark.parametrize("url", REFUSED)
def test_it_refuses_what_is_not_a_public_http_url(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(UrlRefused):
        url_check(url)


def test_it_allows_public_urls_and_private_ones_when_the_install_does(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    url_check("https://hooks.example.com/crewline?x=1")
    url_check("http://93.184.215.14:8080/in")
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    url_check("http://127.0.0.1:9000/")
    with pytest.raises(UrlRefused):
        url_check("file:///etc/passwd")


def test_a_name_that_resolves_to_a_private_address_is_refused(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False

    def fake(host, port, *args, **kwargs):
        addresses = {"rebind.example.com": ["93.184.215.14", "10.0.0.7"],
                     "public.example.com": ["93.184.215.14"]}[host]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(UrlRefused, match="10.0.0.7"):
        resolve("https://rebind.example.com/hook")
    assert resolve("https://public.example.com/hook") == (
        "https", "public.example.com", 443, "93.184.215.14")


@pytest.mark.django_db
def test_an_endpoint_with_a_refused_url_is_not_saved(org, owner, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(ValidationError) as exc:
        endpoint_create(organization=org, by=owner, url="http://169.254.169.254/",
                        events=["customer.created"])
    assert "url" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        endpoint_create(organization=org, by=owner, url="https://hooks.example.com/",
                        events=["no.such"])
    assert "events" in exc.value.error_dict
