"""No view redirects to an address from the request that leaves the site (an open redirect):
each view that takes ``next`` sends another site's address to its own default instead."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import reverse

from crewline.billing.services import price_item_create
from crewline.core.redirects import next_url, safe_url

pytestmark = pytest.mark.django_db

EVIL = ["https://evil.example/", "//evil.example", "/\\evil.example", "https:evil.example",
        "\\\\evil.example", " //evil.example", "javascript:alert(1)"]


@pytest.fixture
def item(org, owner):
    return price_item_create(organization=org, by=owner, code="FLT-16", name="Filter",
                             unit="each", unit_price=Decimal("12"))


def views(org, technician, item):
    """(url, data, safe default) for each view that redirects to a posted ``next``."""
    return [
        (reverse("timesheets:approve", kwargs={"pk": technician.pk, "week": "2025-03-03"}), {},
         reverse("timesheets:week", kwargs={"pk": technician.pk, "week": "2025-03-03"})),
        (reverse("billing:price_item_active", args=[item.pk]), {"active": "0"},
         reverse("billing:price_book")),
    ]


@pytest.mark.parametrize("evil", EVIL)
def test_it_sends_another_sites_address_to_the_views_own_page(evil, office_client, org,
                                                              technician, item):
    for url, data, default in views(org, technician, item):
        response = office_client.post(url, {**data, "next": evil})
        assert response.status_code == 302, url
        assert response["Location"] == default, (url, evil)


def test_it_follows_a_next_on_this_site(office_client, org, technician, item):
    for url, data, _default in views(org, technician, item):
        response = office_client.post(url, {**data, "next": "/billing/price-book/?q=filter"})
        assert response["Location"] == "/billing/price-book/?q=filter", url


def test_it_checks_the_host_and_the_scheme():
    request = RequestFactory().post("/x", {"next": "http://testserver/ok"}, secure=True)
    assert next_url(request, "/default") == "/default"  # https page, http address
    request = RequestFactory().post("/x", {"next": "https://testserver/ok"}, secure=True)
    assert next_url(request, "/default") == "https://testserver/ok"
    assert safe_url(request, "https://evil.example/", "/default") == "/default"
    assert safe_url(request, None, "/default") == "/default"


def _reads_request(node: ast.AST) -> bool:
    """Does ``node`` read an attribute of the request (``request.GET``, ``request.path``...)?
    A name that merely contains the word (``work_request.work_order``) does not."""
    return any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
               and n.value.id == "request" for n in ast.walk(node))


def test_it_leaves_no_view_redirecting_to_a_raw_request_value():
    """Every redirect to a value of the request goes through crewline.core.redirects."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.rglob("*views*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in
                    ("redirect", "HttpResponseRedirect")
                    and any(_reads_request(arg) for arg in node.args
                            if not (isinstance(arg, ast.Call) and getattr(arg.func, "id", None)
                                    in ("next_url", "safe_url")))):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []
