"""A customer's whole path, as the customer and the office take it through their pages: a
request from the public form (in Spanish), times offered by the office, one picked in the
portal, the booking confirmed, "on my way" with a tracking link that shows the van while on the
way only, the job completed and the feedback given and read by the office. Every message in
the customer's language; each on the job's timeline."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from crewline.customers.models import Customer
from crewline.field.services.positions import travel_position_record
from crewline.messaging.models import Feedback
from crewline.messaging.sending import send_due
from crewline.portal.services import portal_link_issue
from crewline.workorders.models import EntryKind, TimelineEntry, Visit, WorkOrder
from crewline.workorders.services import visits as visit_services
from crewline.workorders.services.work_orders import work_order_complete

from .conftest import local

pytestmark = pytest.mark.django_db

MONDAY = local(2026, 11, 23, 10, 0)


@pytest.fixture(autouse=True)
def _fresh_counts():
    caches["api"].clear()
    yield
    caches["api"].clear()


def _link(body: str) -> str:
    return re.search(r"http://testserver(/p/\S+)", body).group(1).rstrip(".")


def test_a_request_becomes_a_job_the_customer_books_follows_and_rates(
        org, office_client, office, technician, settings):
    settings.SITE_URL = "http://testserver"
    customer_client = Client(HTTP_ACCEPT_LANGUAGE="es")
    with time_machine.travel(MONDAY, tick=False) as clock:
        # The request, from the company's website, in Spanish.
        sent = customer_client.post(
            reverse("portal_public:request_form", args=[org.slug]),
            {"name": "Rosa Díaz", "email": "rosa@example.com", "phone": "",
             "address_line1": "4 Elm St", "city": "Chicago", "postal_code": "60601",
             "description": "La caldera hace ruido.", "preferred_times": "Mañanas",
             "website": ""}, REMOTE_ADDR="203.0.113.9")
        assert sent.status_code in (200, 302)
        customer = Customer.objects.get(email="rosa@example.com")
        assert customer.language == "es"
        wo = WorkOrder.objects.get(customer=customer)
        assert wo.status == "new"
        site = wo.site
        site.latitude, site.longitude = 41.9, -87.65
        site.save()

        # The office offers two times on Wednesday; the customer gets a portal link.
        offered = office_client.post(reverse("portal:windows_offer", args=[wo.number]), {
            "day_1": "2026-11-25", "from_1": "09:00", "to_1": "11:00",
            "day_2": "2026-11-25", "from_2": "13:00", "to_2": "15:00",
            "crew": technician.pk})
        assert offered.status_code == 302
        token = portal_link_issue(customer=customer, by=office, sent_to=customer.email)[1]
        home = customer_client.get(reverse("portal_public:home", args=[token]))
        picks = re.findall(rf"/p/{re.escape(token)}/times/(\d+)/", home.content.decode())
        assert len(picks) == 2
        mail.outbox.clear()

        # The customer picks the afternoon: the visit is booked through the board's service
        # and the confirmation goes, in Spanish.
        picked = customer_client.post(
            reverse("portal_public:window_pick", args=[token, int(picks[1])]))
        assert picked.status_code == 200
        visit = Visit.objects.get(work_order=wo)
        assert (visit.start, visit.end) == (local(2026, 11, 25, 13, 0),
                                            local(2026, 11, 25, 15, 0))
        send_due()
        [confirmation] = [m for m in mail.outbox if m.to == ["rosa@example.com"]]
        assert "miércoles 25 de noviembre, 13:00–15:00" in confirmation.body

        # Wednesday: the technician sets off; "on my way" carries the tracking link.
        clock.move_to(local(2026, 11, 25, 12, 40))
        visit_services.visit_en_route(visit=visit, by=technician)
        # Where the van set off is never shown: the first position is kept back, the next,
        # 2 km on, is drawn.
        travel_position_record(visit=visit, member=technician, latitude=41.83,
                               longitude=-87.65)
        send_due()
        on_my_way = [m for m in mail.outbox if m.to == ["rosa@example.com"]][-1]
        track = _link(on_my_way.body)
        assert track.startswith("/p/track/")
        page = customer_client.get(track)
        assert page.status_code == 200 and "Tara" in page.content.decode()
        assert customer_client.get(track + "state/").json().get("position") is None
        clock.shift(dt.timedelta(minutes=3))
        travel_position_record(visit=visit, member=technician, latitude=41.85,
                               longitude=-87.65)
        state = customer_client.get(track + "state/").json()
        assert 5000 < state["position"]["distance_m"] < 6000, state

        # Arrived: the van's position is gone from the page's data.
        visit_services.visit_arrive(visit=visit, by=technician)
        state = customer_client.get(track + "state/").json()
        assert state.get("position") is None

        # Done: the "completed" message, then the feedback request, in Spanish.
        work_order_complete(work_order=wo, by=office)
        send_due()
        clock.shift(dt.timedelta(hours=3))
        send_due()
        asked = [m for m in mail.outbox if m.to == ["rosa@example.com"]][-1]
        feedback_url = _link(asked.body)
        assert "/feedback/" in feedback_url
        assert "¿Qué tal lo hicimos?" in customer_client.get(feedback_url).content.decode()
        customer_client.post(feedback_url, {"rating": "5", "comment": "Muy bien."})
        assert Feedback.objects.get(work_order=wo).rating == 5

    # The office reads it all on the work order's timeline.
    kinds = set(TimelineEntry.objects.filter(work_order=wo, kind=EntryKind.SYSTEM)
                .values_list("data__event", flat=True))
    assert {"windows_offered", "window_picked", "message_sent", "feedback"} <= kinds
    page = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    assert "Muy bien." in page
