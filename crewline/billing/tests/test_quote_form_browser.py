"""The new quote's site list follows the chosen customer in a real browser."""

from __future__ import annotations

import pytest

from crewline.factories import SiteFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_choosing_a_customer_loads_only_their_sites(login, office, org):
    maple = SiteFactory(customer__organization=org, customer__name="Maple Dental",
                        address_line1="12 Maple Ave")
    SiteFactory(customer=maple.customer, address_line1="400 Industrial Rd")
    oak = SiteFactory(customer__organization=org, customer__name="Oak Bakery",
                      address_line1="88 Oak Street")
    page = login(office)
    page.goto(page.base + "/billing/quotes/new/")
    assert page.locator("#id_site option").all_inner_texts() == [
        "No sites: choose a customer first"]
    page.select_option("#id_customer", str(maple.customer.pk))
    page.wait_for_function("() => document.querySelectorAll('#id_site option').length === 3")
    texts = " ".join(page.locator("#id_site option").all_inner_texts())
    assert "12 Maple Ave" in texts and "400 Industrial Rd" in texts
    assert "88 Oak Street" not in texts
    page.select_option("#id_customer", str(oak.customer.pk))
    # One site: it is chosen for you.
    page.wait_for_function(f"() => document.querySelector('#id_site').value === '{oak.pk}'")
    assert "12 Maple Ave" not in " ".join(page.locator("#id_site option").all_inner_texts())
