"""Delivery per Standard Webhooks to a receiver on a local port, verified with the
``standardwebhooks`` library: signed, retried with back-off, in order per resource, once per id;
410 and days of failure turn the endpoint off and tell its owners."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from time_machine import travel as time_machine_travel

from crewline.customers.services import customer_create, customer_update
from crewline.live.models import Change
from crewline.webhooks.delivery import RETRY_SCHEDULE, deliver_due, signed_headers
from crewline.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery
from crewline.webhooks.services import (
    endpoint_secret_rotate,
    webhook_replay,
    webhook_test_send,
)

pytestmark = pytest.mark.django_db


def _drain(clock, max_rounds: int = 50) -> None:
    """Run the worker's delivery, moving ``clock`` (the ``time_machine`` fixture) past each
    retry's wait, until nothing is pending."""
    for _ in range(max_rounds):
        deliver_due()
        pending = WebhookDelivery.objects.filter(state=DeliveryState.PENDING)
        if not pending.exists():
            return
        now = timezone.now()
        waits = [d.next_attempt_at for d in pending if d.next_attempt_at > now]
        clock.move_to(min(waits, default=now) + dt.timedelta(seconds=1), tick=True)
    raise AssertionError("Deliveries still pending")


def test_an_event_is_signed_and_carries_the_feed_entry_with_the_same_id(org, owner, endpoint,
                                                                         receiver):
    customer = customer_create(organization=org, by=owner, name="Maple Dental")
    assert deliver_due() == 1
    [request] = receiver.requests
    change = Change.objects.get(kind="customer", object_id=customer.pk, event="customer.created")
    assert request["id"] == str(change.pk)
    headers = request["headers"]
    assert headers["webhook-signature"].startswith("v1,")
    assert abs(int(headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    body = receiver.verify(request["body"], headers)
    assert body["type"] == "customer.created"
    assert body["data"]["id"] == change.pk and body["data"]["resource"] == "customer"
    assert body["data"]["resource_id"] == customer.pk
    assert body["data"]["url"].endswith(f"/api/v1/customers/{customer.pk}")
    # Another secret, or a changed body, does not verify.
    with pytest.raises(WebhookVerificationError):
        receiver.verify(request["body"], headers, secret="whsec_" + "A" * 43 + "=")
    with pytest.raises(WebhookVerificationError):
        receiver.verify(request["body"].replace(b"Maple", b"Maply") + b" ", headers)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 1
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 200 and '"ok": true' in attempt.response_excerpt
    # Delivered: not sent again.
    assert deliver_due() == 0 and len(receiver.requests) == 1


def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(org, owner, endpoint, receiver):
    old = endpoint.secret
    endpoint = endpoint_secret_rotate(endpoint=endpoint, by=owner)
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")
    receiver.secret = endpoint.secret
    customer_create(organization=org, by=owner, name="A")
    deliver_due()
    request = receiver.requests[-1]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    assert receiver.verify(request["body"], request["headers"], secret=old)
    assert receiver.verify(request["body"], request["headers"], secret=endpoint.secret)
    later = timezone.now() + dt.timedelta(hours=24, minutes=1)
    headers = signed_headers(secrets=endpoint.secrets_now(later), msg_id="1", body="{}",
                             now=later)
    assert len(headers["webhook-signature"].split(" ")) == 1
    with time_machine_travel(later):
        assert Webhook(endpoint.secret).verify("{}", headers) == {}
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify("{}", headers)


def test_a_receiver_that_fails_times_out_and_comes_back_gets_everything_once_in_order(
        org, owner, endpoint, receiver, time_machine):
    customers = [customer_create(organization=org, by=owner, name=f"C{i}") for i in range(3)]
    for round_ in range(3):
        for customer in customers:
            customer_update(customer=customer, by=owner, name=f"{customer.pk}-{round_}")
    expected = list(Change.objects.exclude(event="").order_by("id").values_list("id", flat=True))
    assert len(expected) == 12
    receiver.mode = "fail"
    deliver_due()
    # Only each resource's first event was tried: the later ones wait behind it.
    assert len(receiver.requests) == 3
    assert WebhookDelivery.objects.filter(state=DeliveryState.PENDING).count() == 12
    first = WebhookDelivery.objects.filter(attempts=1).first()
    wait = first.next_attempt_at - timezone.now()
    assert RETRY_SCHEDULE[0] * 0.7 < wait < RETRY_SCHEDULE[0] * 1.3
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=10), tick=True)
    receiver.mode = "slow"  # answers after the sender's 1 s timeout
    deliver_due()
    assert not receiver.accepted
    assert WebhookAttempt.objects.filter(error__startswith="No answer").count() == 3
    receiver.mode = "ok"
    _drain(time_machine)
    ids = [int(a["id"]) for a in receiver.accepted]
    assert sorted(ids) == expected  # every event, none twice
    by_resource: dict[int, list[int]] = {}
    for accepted in receiver.accepted:
        by_resource.setdefault(accepted["data"]["resource_id"], []).append(int(accepted["id"]))
    assert all(seq == sorted(seq) for seq in by_resource.values())  # in order per resource
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}


def test_410_turns_the_endpoint_off_and_tells_the_owners(org, owner, endpoint, receiver,
                                                         mailoutbox,
                                                         django_capture_on_commit_callbacks):
    receiver.mode = "gone"
    customer_create(organization=org, by=owner, name="A")
    customer_create(organization=org, by=owner, name="B")
    with django_capture_on_commit_callbacks(execute=True):
        deliver_due()
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    states = sorted(WebhookDelivery.objects.values_list("state", flat=True))
    assert states == ["failed", "skipped"]
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [owner.user.email]
    assert endpoint.url in mailoutbox[0].body
    customer_create(organization=org, by=owner, name="C")
    assert WebhookDelivery.objects.count() == 2  # nothing new for an endpoint that is off


def test_three_days_of_failure_turn_the_endpoint_off(org, owner, endpoint, receiver,
                                                     mailoutbox, time_machine,
                                                     django_capture_on_commit_callbacks):
    receiver.mode = "fail"
    customer_create(organization=org, by=owner, name="A")
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        _drain(time_machine)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == len(RETRY_SCHEDULE) + 1 == 10
    attempts = list(WebhookAttempt.objects.order_by("id").values_list("started_at", flat=True))
    span = attempts[-1] - start
    assert dt.timedelta(hours=55) < span < dt.timedelta(hours=95)  # about three days
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "three days" in endpoint.disabled_reason
    assert len(mailoutbox) == 1


def test_loopback_is_refused_unless_the_install_allows_it(org, owner, endpoint, receiver,
                                                          settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    customer_create(organization=org, by=owner, name="A")
    deliver_due()
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "public address" in attempt.error
    assert WebhookDelivery.objects.get().state == DeliveryState.PENDING  # tried again later


def test_a_test_event_and_replays_go_out_with_their_ids(org, owner, endpoint, receiver,
                                                        time_machine):
    webhook_test_send(endpoint=endpoint, by=owner)
    customer = customer_create(organization=org, by=owner, name="A")
    customer_update(customer=customer, by=owner, name="B")
    _drain(time_machine)
    assert receiver.accepted[0]["type"] == "webhook.test"
    assert receiver.accepted[0]["id"].startswith("test_")
    sent = [a["id"] for a in receiver.accepted[1:]]
    assert webhook_replay(endpoint=endpoint, by=owner, change_id=int(sent[0])) == 1
    assert webhook_replay(endpoint=endpoint, by=owner,
                          since=timezone.now() - dt.timedelta(hours=1),
                          until=timezone.now() + dt.timedelta(minutes=1)) == 2
    _drain(time_machine)
    assert [a["id"] for a in receiver.accepted[3:]] == [sent[0], *sent]


def test_the_worker_task_sends_what_is_due(org, owner, endpoint, receiver):
    from crewline.webhooks.tasks import webhooks_deliver, webhooks_sweep

    customer_create(organization=org, by=owner, name="A")
    receiver.mode = "fail"
    assert webhooks_deliver.call() == {"attempted": 1}
    receiver.mode = "ok"
    assert webhooks_sweep.call() == {"attempted": 0}  # the retry is not due yet
    assert WebhookDelivery.objects.get().state == DeliveryState.PENDING
