"""The headers every page carries: Content-Security-Policy (with a nonce only where a page has a
<style> of its own), Permissions-Policy, Cache-Control for logged-in pages, gzip for HTML; and
that no template or script needs what the policy refuses (style attributes, inline scripts,
event handler attributes)."""

from __future__ import annotations

import asyncio
import gzip
import re
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from crewline.billing import services as billing
from crewline.factories import MemberFactory, SiteFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


@pytest.fixture
def quote_token(org, owner):
    site = SiteFactory(customer__organization=org)
    quote = billing.quote_create(organization=org, by=owner, customer=site.customer,
                                 title="New boiler")
    billing.quote_line_add(quote=quote, by=owner, description="Boiler", quantity=1,
                           unit_price=2400)
    billing.quote_send(quote=quote, by=owner, to="rosa@maple.example")
    return billing.quote_link_token(quote=quote)


@pytest.fixture
def pages(owner_client, client, quote_token):
    """(name, client, path) of a public page, the public quote page and office pages."""
    return [("login", client, "/login/"), ("sign-up", client, "/signup/"),
            ("public quote", client, f"/q/{quote_token}/"),
            ("dashboard", owner_client, "/dashboard/"),
            ("work orders", owner_client, "/work-orders/"),
            ("board", owner_client, "/schedule/"), ("team", owner_client, "/team/")]


def test_it_sends_a_policy_without_inline_scripts_or_styles_on_every_page(pages):
    for name, client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, name
        policy = directives(response)
        assert policy["script-src"][0] == "'self'", name
        assert policy["style-src"][0] == "'self'", name
        for directive in ("script-src", "style-src", "default-src"):
            assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(policy[directive]), name
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"]


def test_it_gives_the_nonce_to_the_pages_own_style_and_nowhere_else(org, owner, owner_client):
    MemberFactory(organization=org, role="technician", colour="#ffc107")
    response = owner_client.get("/team/")
    html = response.content.decode()
    [nonce] = re.findall(r'<style nonce="([^"]+)">', html)
    assert f"'nonce-{nonce}'" in directives(response)["style-src"]
    assert "nonce" not in " ".join(directives(response)["script-src"])
    # Yellow takes black initials (white on it is 1.6:1).
    assert re.search(r"\.mc-\d+\{--mc:#ffc107;--mc-text:#000000\}", html)
    # A page without a style of its own carries no nonce.
    assert "nonce" not in owner_client.get("/work-orders/")["Content-Security-Policy"]


def test_it_never_writes_a_stored_colour_into_the_stylesheet_unchecked(org, owner_client):
    evil = MemberFactory(organization=org, role="technician")
    evil.colour = "red}*{x"  # the form refuses it; the tag must too
    evil.save(update_fields=["colour"])
    html = owner_client.get("/team/").content.decode()
    assert "red}" not in html
    assert f".mc-{evil.pk}{{--mc:#6c757d;" in html


def test_it_allows_the_camera_and_geolocation_only_in_the_technician_app(tech_client, pages):
    for name, client, path in pages:
        policy = client.get(path)["Permissions-Policy"]
        assert "camera=()" in policy and "geolocation=()" in policy, name
        assert "microphone=()" in policy and "payment=()" in policy, name
    policy = tech_client.get("/field/")["Permissions-Policy"]
    assert "camera=(self)" in policy and "geolocation=(self)" in policy
    assert "microphone=()" in policy


def test_it_keeps_logged_in_pages_out_of_every_cache(owner, owner_client, pages, rf):
    for name, page_client, path in pages:
        cache = page_client.get(path).get("Cache-Control", "")
        if page_client is owner_client:
            assert cache == "private, no-store", name
        elif name in ("login", "public quote"):  # never_cache: a customer's quote, a form
            assert "private" in cache and "no-store" in cache, name
    # What a view says itself stands (photos, the logo and reports may be kept a while), and
    # a visitor's page gets nothing added.
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    from crewline.core.middleware import PrivatePagesMiddleware

    def photo(request):
        response = HttpResponse(b"...")
        response["Cache-Control"] = "private, max-age=86400"
        return response

    request = rf.get("/")
    request.user = owner.user
    assert PrivatePagesMiddleware(photo)(request)["Cache-Control"] == "private, max-age=86400"
    request.user = AnonymousUser()
    assert not PrivatePagesMiddleware(lambda r: HttpResponse())(request).has_header(
        "Cache-Control")


def test_it_compresses_html_but_not_the_live_stream(owner, owner_client):
    response = owner_client.get("/work-orders/", headers={"Accept-Encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert b"<!doctype html>" in gzip.decompress(response.content)

    async def open_stream():
        client = AsyncClient()
        await client.aforce_login(owner.user)
        stream = await client.get("/live/stream/?topics=list",
                                  headers={"Accept-Encoding": "gzip"})
        chunks = aiter(stream.streaming_content)
        first = await asyncio.wait_for(anext(chunks), 2)
        await chunks.aclose()
        return stream, first

    stream, first = async_to_sync(open_stream)()
    assert stream["Content-Type"] == "text/event-stream"
    assert not stream.has_header("Content-Encoding")
    assert b"retry:" in (first if isinstance(first, bytes) else first.encode())


def _sources(*patterns: str) -> list[Path]:
    return [p for pattern in patterns for p in ROOT.glob(pattern)
            if "/vendor/" not in str(p) and "/tests/" not in str(p)]


def test_no_template_needs_what_the_policy_refuses():
    found = []
    for path in _sources("**/templates/**/*.html"):
        if "/email/" in str(path):
            continue  # emails are read in mail clients, not under this policy
        text = path.read_text()
        for pattern in (r'\sstyle="', r"<script(?![^>]*\ssrc=)(?![^>]*application/json)[^>]*>",
                        r"\son[a-z]+=\"", r"<style(?![^>]*nonce)"):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}"
                      for m in re.finditer(pattern, text)]
    for path in _sources("**/*.py"):
        text = path.read_text()
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}"
                  for m in re.finditer(r"""<[a-z]+[^>'"]*\sstyle=\\?["']""", text)]
    assert not found, "\n".join(found)


def test_no_script_sets_a_style_attribute_or_evals():
    found = []
    for path in _sources("**/static/**/*.js", "**/templates/**/*.js"):
        text = path.read_text()
        for pattern in (r"setAttribute\(\s*[\"']style", r"\beval\(", r"new Function\(",
                        r"""style=\\?["']"""):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}"
                      for m in re.finditer(pattern, text)]
    assert not found, "\n".join(found)
