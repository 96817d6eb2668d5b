"""What the office's pages declare they listen to, and who gets the live client."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crewline.factories import SiteFactory
from crewline.workorders.services import work_order_create

pytestmark = pytest.mark.django_db


def test_it_gives_the_work_order_list_its_rows_topic(office_client):
    html = office_client.get("/work-orders/").content.decode()
    assert 'id="wo-rows" data-live-topics="list" data-live-fragment' in html
    assert "live/live.js" in html and 'data-url="/live/stream/"' in html


def test_it_gives_a_work_orders_page_its_own_topic(org, office, office_client):
    site = SiteFactory(customer__organization=org)
    wo = work_order_create(organization=org, by=office, customer=site.customer, title="Leak")
    html = office_client.get(f"/work-orders/{wo.number}/").content.decode()
    assert f'data-live-topics="wo:{wo.pk}"' in html
    for part in ("wo-status", "wo-actions", "visit-list", "timeline"):
        assert f'id="{part}"' in html


def test_it_gives_the_board_its_days_and_the_queue(office_client):
    today = timezone.localdate()
    html = office_client.get(f"/schedule/?date={today:%Y-%m-%d}").content.decode()
    assert f'data-live-topics="list board:{today:%Y-%m-%d}"' in html
    assert 'id="board-main"' in html and 'id="board-queue"' in html


def test_it_gives_technicians_no_live_client(tech_client):
    html = tech_client.get("/work-orders/my-visits/").content.decode()
    assert "live/live.js" not in html
