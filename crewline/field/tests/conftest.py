from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import itertools
import json
import uuid
import zoneinfo

import pytest
from django.utils import timezone
from PIL import Image

from crewline.factories import CustomerFactory, OrganizationFactory, SiteFactory
from crewline.field.models import Device
from crewline.workorders.services import visit_add, work_order_create


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, name="Maple Street Dental", phone="312-555-0142")


@pytest.fixture
def site(customer):
    return SiteFactory(customer=customer, address_line1="1200 Maple St",
                       access_notes="Key safe by the back door, code 4471")


ORG_TZ = zoneinfo.ZoneInfo(OrganizationFactory.time_zone)


def today_at(hour: int, days: int = 0) -> dt.datetime:
    """``hour`` o'clock in the test organization's time zone, ``days`` from its today (the
    middleware resets the current time zone after each request, so it is named here)."""
    day = timezone.localdate(timezone=ORG_TZ) + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ORG_TZ)


@pytest.fixture
def make_visit(org, office, customer, site):
    """A work order with one visit today (or ``days`` ahead) for ``crew``; conflicts overridden."""

    def make(*, crew, days: int = 0, hour: int = 9, checklist=None, title="No heat",
             wo=None, **kwargs):
        if wo is None:
            wo = work_order_create(organization=org, by=office, customer=kwargs.get(
                "customer", customer), site=kwargs.get("site", site), title=title)
            if checklist is not None:
                wo.checklist = checklist
                wo.save(update_fields=["checklist"])
        start = today_at(hour, days)
        return visit_add(work_order=wo, by=office, start=start,
                         end=start + dt.timedelta(hours=1), crew=crew, override=True)

    return make


@pytest.fixture
def visit(make_visit, technician):
    return make_visit(crew=[technician])


@pytest.fixture
def device(technician):
    return Device.objects.create(id=uuid.uuid4(), organization=technician.organization,
                                 member=technician, name="Tara's phone")


class Phone:
    """A device's side of the protocol: numbers mutations and pushes them."""

    def __init__(self, client, device):
        self.client, self.device = client, device
        self.seq = itertools.count(device.last_seq + 1)

    def mutation(self, name: str, /, client_time: str | None = None, **args) -> dict:
        return {"seq": next(self.seq), "name": name, "args": args,
                "client_time": client_time or timezone.now().isoformat()}

    def push(self, *mutations: dict, device_id=None):
        return self.client.post("/field/api/push", json.dumps(
            {"device_id": str(device_id or self.device.pk), "mutations": list(mutations)}),
            content_type="application/json")

    def send(self, name: str, /, **args) -> dict:
        response = self.push(self.mutation(name, **args))
        assert response.status_code == 200, response.content
        return response.json()["results"][0]

    def pull(self, cursor: str | None = None):
        params = {"device_id": str(self.device.pk)}
        if cursor:
            params["cursor"] = cursor
        return self.client.get("/field/api/pull", params)


@pytest.fixture
def phone(tech_client, device):
    return Phone(tech_client, device)


def jpeg_bytes(size=(40, 30), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def png_bytes(size=(60, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 0, 0)).save(out, "PNG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_id() -> str:
    return str(uuid.uuid4())
