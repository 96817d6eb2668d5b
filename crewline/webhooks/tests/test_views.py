"""The owner's webhooks pages: add, change, rotate, test, replay, delete; the delivery log.
Office and technicians are refused (403), another organization's owner gets 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crewline.core.models import AuditLog
from crewline.customers.services import customer_create
from crewline.webhooks.delivery import deliver_due
from crewline.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from crewline.webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(org, owner, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    return endpoint_create(organization=org, by=owner, url="https://hooks.example.com/in",
                           events=["customer.created"])


def _urls(pk: int) -> list[tuple[str, str]]:
    return [("get", reverse("webhooks:detail", args=[pk])),
            ("post", reverse("webhooks:rotate", args=[pk])),
            ("post", reverse("webhooks:test", args=[pk])),
            ("post", reverse("webhooks:replay", args=[pk])),
            ("post", reverse("webhooks:delete", args=[pk]))]


def test_the_owner_adds_an_endpoint_and_sees_its_secret(owner_client, org, settings):
    page = owner_client.get(reverse("webhooks:list"))
    assert page.status_code == 200 and b"Add an endpoint" in page.content
    response = owner_client.post(reverse("webhooks:list"), {
        "url": "https://hooks.example.com/crewline", "description": "ERP",
        "events": ["work_order.completed", "invoice.paid"], "enabled": "on"})
    endpoint = WebhookEndpoint.objects.get(organization=org)
    assert response.status_code == 302
    assert response.url == reverse("webhooks:detail", args=[endpoint.pk])
    assert endpoint.events == ["work_order.completed", "invoice.paid"] and endpoint.enabled
    detail = owner_client.get(response.url)
    assert endpoint.secret.encode() in detail.content
    assert detail["Cache-Control"] == "no-store"
    entry = AuditLog.objects.get(action="webhook_endpoint.create")
    assert endpoint.secret not in str(entry.changes)
    listing = owner_client.get(reverse("webhooks:list"))
    assert b"hooks.example.com/crewline" in listing.content


def test_a_private_url_or_no_event_is_refused_with_a_message(owner_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    response = owner_client.post(reverse("webhooks:list"), {
        "url": "http://192.168.1.20/hook", "events": ["invoice.paid"]})
    assert response.status_code == 400 and b"public addresses" in response.content
    response = owner_client.post(reverse("webhooks:list"), {"url": "https://a.example.com/"})
    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_the_owner_edits_rotates_tests_replays_and_deletes(owner_client, owner, org, hook,
                                                           settings):
    url = reverse("webhooks:detail", args=[hook.pk])
    response = owner_client.post(url, {"url": "https://hooks.example.com/v2",
                                       "events": ["customer.created", "customer.updated"]})
    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.url.endswith("/v2") and not hook.enabled  # the box was left unticked
    owner_client.post(url, {"url": hook.url, "events": hook.events, "enabled": "on"})
    old = hook.secret
    owner_client.post(reverse("webhooks:rotate", args=[hook.pk]))
    hook.refresh_from_db()
    assert hook.secret != old and hook.previous_secret == old
    owner_client.post(reverse("webhooks:test", args=[hook.pk]))
    assert WebhookDelivery.objects.filter(endpoint=hook, event="webhook.test").count() == 1
    customer_create(organization=org, by=owner, name="A")
    change_id = int(WebhookDelivery.objects.get(event="customer.created").msg_id)
    response = owner_client.post(reverse("webhooks:replay", args=[hook.pk]),
                                 {"event_id": change_id})
    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(msg_id=str(change_id)).count() == 2
    bad = owner_client.post(reverse("webhooks:replay", args=[hook.pk]), {})
    assert bad.status_code == 400 and b"time range" in bad.content
    bad = owner_client.post(reverse("webhooks:replay", args=[hook.pk]), {"event_id": 999999})
    assert bad.status_code == 400 and b"No event with this id" in bad.content
    owner_client.post(reverse("webhooks:delete", args=[hook.pk]))
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"webhook_endpoint.update", "webhook_endpoint.rotate_secret",
            "webhook_endpoint.replay", "webhook_endpoint.delete"} <= actions


def test_turning_an_endpoint_off_skips_what_waits(owner_client, owner, org, hook):
    customer_create(organization=org, by=owner, name="A")
    owner_client.post(reverse("webhooks:detail", args=[hook.pk]),
                      {"url": hook.url, "events": hook.events})
    assert WebhookDelivery.objects.get().state == DeliveryState.SKIPPED
    assert deliver_due() == 0


def test_the_log_shows_each_attempt(owner_client, owner, org, hook, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False  # refused at the request: an attempt logged
    customer_create(organization=org, by=owner, name="A")
    deliver_due()
    page = owner_client.get(reverse("webhooks:detail", args=[hook.pk]))
    assert b"customer.created" in page.content
    assert b"No answer" in page.content  # no status: refused or unreachable


def test_office_and_technicians_are_refused_and_outsiders_find_nothing(
        office_client, tech_client, outsider_client, hook):
    for client in (office_client, tech_client):
        assert client.get(reverse("webhooks:list")).status_code == 403
        for method, url in _urls(hook.pk):
            assert getattr(client, method)(url).status_code == 403, url
    assert outsider_client.get(reverse("webhooks:list")).status_code == 200
    for method, url in _urls(hook.pk):
        assert getattr(outsider_client, method)(url).status_code == 404, url
    assert WebhookEndpoint.objects.filter(pk=hook.pk).exists()
    assert b"hooks.example.com" not in outsider_client.get(reverse("webhooks:list")).content
