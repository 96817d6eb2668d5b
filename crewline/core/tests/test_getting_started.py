"""The first screen after sign-up: what to set up, each a link, ticked once done."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from crewline.billing import services as billing
from crewline.core.services import organization_update
from crewline.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _steps(page: str) -> dict[str, bool]:
    import re

    return {key: "done" in classes for classes, key in
            re.findall(r'<li class="setup-step([^"]*)" data-step="([a-z_]+)"', page)}


def test_it_ticks_each_step_once_it_is_done(org, owner, owner_client, office):
    url = reverse("core:getting_started")
    steps = _steps(owner_client.get(url).content.decode())
    # The persona organization has a team already (office and technician accepted).
    assert steps == {"company": False, "labor_rate": False, "customers": False, "team": True,
                     "hours": False, "price_book": False}
    organization_update(organization=org, by=owner, address="1 Main St\nSpringfield IL",
                        phone="555-0100", email="office@northside.example")
    billing.default_labor_rate_set(organization=org, hourly_rate=Decimal("90"), by=owner)
    CustomerFactory(organization=org)
    billing.price_item_create(organization=org, by=owner, code="CALL", name="Service call",
                              unit_price=Decimal("95"))
    owner_client.post(reverse("scheduling:availability", args=[office.pk]), {})
    page = owner_client.get(url).content.decode()
    steps = _steps(page)
    assert steps["company"] and steps["labor_rate"] and steps["customers"]
    assert steps["price_book"]
    for target in (reverse("core:settings"), reverse("billing:settings") + "#labor-rates",
                   reverse("customers:import"), reverse("core:member_invite"),
                   reverse("scheduling:availability_summary"), reverse("billing:price_book")):
        assert f'href="{target}"' in page, target


def test_it_is_the_owners(office_client, tech_client, outsider_client, owner_client):
    url = reverse("core:getting_started")
    assert office_client.get(url).status_code == 403
    assert tech_client.get(url).status_code == 403
    assert office_client.post(reverse("core:getting_started_hide")).status_code == 403
    # Another organization's owner sees their own list, nothing of this one.
    assert outsider_client.get(url).status_code == 200
    assert owner_client.get(url).status_code == 200


def test_the_dashboard_shows_it_until_hidden(org, owner_client, office_client):
    dashboard = reverse("dashboard:home")
    assert 'data-testid="getting-started-card"' in owner_client.get(dashboard).content.decode()
    assert 'data-testid="getting-started-card"' not in office_client.get(
        dashboard).content.decode()
    response = owner_client.post(reverse("core:getting_started_hide"))
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.getting_started_hidden_at is not None
    assert 'data-testid="getting-started-card"' not in owner_client.get(
        dashboard).content.decode()
    # Still reachable from the settings.
    assert owner_client.get(reverse("core:getting_started")).status_code == 200


def test_working_hours_and_time_off_are_linked_from_the_team_page_and_the_board(
        office_client, technician):
    team = office_client.get(reverse("core:members")).content.decode()
    assert f'href="{reverse("scheduling:availability_summary")}"' in team
    assert f'href="{reverse("scheduling:availability", args=[technician.pk])}"' in team
    board = office_client.get(reverse("scheduling:board")).content.decode()
    assert f'href="{reverse("scheduling:availability_summary")}"' in board
