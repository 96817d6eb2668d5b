"""Personas for every test: an owner, office staff and a technician of one organization, and an
outsider who owns another organization and must never see the first one's data."""

from __future__ import annotations

import pytest
from django.test import Client

from crewline.core.models import Role
from crewline.factories import MemberFactory, OrganizationFactory

PASSWORD = "correct horse battery"


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Northside Heating & Air", slug="northside")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Rival Plumbing", slug="rival")


@pytest.fixture
def owner(org):
    return MemberFactory(organization=org, role=Role.OWNER, user__email="owner@example.com",
                         user__full_name="Olivia Owner")


@pytest.fixture
def office(org):
    return MemberFactory(organization=org, role=Role.OFFICE, user__email="office@example.com",
                         user__full_name="Oscar Office")


@pytest.fixture
def technician(org):
    return MemberFactory(organization=org, role=Role.TECHNICIAN, user__email="tech@example.com",
                         user__full_name="Tara Tech")


@pytest.fixture
def outsider(other_org):
    return MemberFactory(organization=other_org, role=Role.OWNER,
                         user__email="outsider@example.com", user__full_name="Uma Outsider")


def _client_for(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


@pytest.fixture
def owner_client(owner):
    return _client_for(owner)


@pytest.fixture
def office_client(office):
    return _client_for(office)


@pytest.fixture
def tech_client(technician):
    return _client_for(technician)


@pytest.fixture
def outsider_client(outsider):
    return _client_for(outsider)
