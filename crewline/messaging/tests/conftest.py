from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from crewline.factories import CustomerFactory, SiteFactory, WorkOrderFactory

from .fake_twilio import FakeTwilio

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
SID = "AC" + "1" * 32
TOKEN = "secret-auth-token"
FROM = "+13125550000"
MOBILE = "+13125550123"


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHICAGO)


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, name="Maple Dental", email="frontdesk@maple.test",
                           phone="(312) 555-0123")


@pytest.fixture
def wo(customer, owner):
    site = SiteFactory(customer=customer, address_line1="12 Maple St")
    return WorkOrderFactory(customer=customer, site=site, title="No heat in surgery 2",
                            number=1042)


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio()
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
    settings.TWILIO_FROM, settings.TWILIO_API_BASE = FROM, fake.base
    settings.SITE_URL = "https://crew.example.com"
    yield fake
    fake.close()


@pytest.fixture
def sms(org, twilio):
    """The organization texts (SMS, else email)."""
    from crewline.messaging.services import messaging_settings

    s = messaging_settings(org)
    s.channel = "sms"
    s.save()
    return twilio
