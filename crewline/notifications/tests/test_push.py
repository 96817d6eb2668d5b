"""Web Push: browsers' subscriptions, and a push to each new notification, end to end against
a push service that the test runs, which decrypts the message as a browser would."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from crewline.notifications.models import Notification, PushSubscription
from crewline.notifications.tasks import send_notification_push

from .conftest import change, local
from .push_service import PushService, b64url_decode, vapid_keys

pytestmark = pytest.mark.django_db

URL = reverse("notifications:push_subscription")


@pytest.fixture
def vapid(settings, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    lines = vapid_keys()
    settings.VAPID_PRIVATE_KEY = lines["VAPID_PRIVATE_KEY"]
    settings.VAPID_PUBLIC_KEY = lines["VAPID_PUBLIC_KEY"]
    settings.VAPID_SUBJECT = "mailto:ops@example.com"
    settings.SITE_URL = "https://crew.example.com"
    return lines


def test_it_pushes_a_new_notification_to_the_technicians_phone_end_to_end(
        vapid, tech_client, technician, office, visit, django_capture_on_commit_callbacks):
    with PushService() as service:
        response = tech_client.post(URL, service.subscription(), content_type="application/json")
        assert response.status_code == 201
        with django_capture_on_commit_callbacks(execute=True):
            change(visit, by=office, change="moved", start=local(2026, 11, 24, 13),
                   end=local(2026, 11, 24, 14))
        note = Notification.objects.get(recipient=technician)
        assert len(service.received) == 1
        received = service.received[0]
    assert received["path"] == "/push/phone-1"
    assert received["payload"] == {
        "title": note.title, "body": note.body,
        "url": f"https://crew.example.com/field/?visit={visit.pk}",
        "tag": f"notification-{note.pk}"}
    assert "WO-1042 at Maple Dental moved" in received["payload"]["title"]
    headers = {k.lower(): v for k, v in received["headers"].items()}
    assert headers["content-encoding"] == "aes128gcm"
    # VAPID: a JWT for this push service signed by our key, and our public key.
    scheme, params = headers["authorization"].split(" ", 1)
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == vapid["VAPID_PUBLIC_KEY"]
    claims = json.loads(b64url_decode(fields["t"].split(".")[1]))
    assert claims["aud"] == service.origin
    assert claims["sub"] == "mailto:ops@example.com"


def test_it_pushes_again_when_a_later_change_rewrites_the_notification(
        vapid, tech_client, technician, office, visit, django_capture_on_commit_callbacks):
    with PushService() as service:
        tech_client.post(URL, service.subscription(), content_type="application/json")
        with django_capture_on_commit_callbacks(execute=True):
            change(visit, by=office, change="moved", start=local(2026, 11, 24, 13),
                   end=local(2026, 11, 24, 14))
        with django_capture_on_commit_callbacks(execute=True):
            change(visit, by=office, change="moved", start=local(2026, 11, 24, 15),
                   end=local(2026, 11, 24, 16))
        note = Notification.objects.get(recipient=technician)
        assert [r["payload"]["tag"] for r in service.received] == [f"notification-{note.pk}"] * 2
        assert service.received[-1]["payload"]["body"] == note.body
        assert "to Tue 24 Nov 15:00–16:00" in note.body


def test_it_forgets_a_subscription_the_push_service_says_is_gone(
        vapid, technician, office, visit, django_capture_on_commit_callbacks):
    with PushService(status=410) as service:
        PushSubscription.objects.create(organization=technician.organization,
                                        member=technician, **_flat(service.subscription()))
        with django_capture_on_commit_callbacks(execute=True):
            change(visit, by=office, change="moved", start=local(2026, 11, 24, 13),
                   end=local(2026, 11, 24, 14))
        assert len(service.received) == 1
    assert not PushSubscription.objects.exists()


def _flat(subscription: dict) -> dict:
    return {"endpoint": subscription["endpoint"], **subscription["keys"]}


def test_it_does_not_push_without_vapid_keys(settings, technician, office, visit):
    settings.VAPID_PRIVATE_KEY = ""
    change(visit, by=office, change="moved", start=local(2026, 11, 24, 13),
           end=local(2026, 11, 24, 14))
    note = Notification.objects.get(recipient=technician)
    assert send_notification_push.call(note.pk) == "push not configured"


def test_it_gives_the_public_key_and_keeps_and_forgets_subscriptions(
        settings, tech_client, technician):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = "BPUBLIC", "private"
    assert tech_client.get(URL).json() == {"public_key": "BPUBLIC", "enabled": True}
    subscription = {"endpoint": "https://push.example.com/abc",
                    "keys": {"p256dh": "BKEY", "auth": "AUTH"}}
    assert tech_client.post(URL, subscription, content_type="application/json"
                            ).status_code == 201
    # The same browser subscribing again updates its keys rather than adding a row.
    subscription["keys"]["auth"] = "AUTH2"
    tech_client.post(URL, subscription, content_type="application/json")
    saved = PushSubscription.objects.get()
    assert (saved.member, saved.auth, saved.organization) == (technician, "AUTH2",
                                                              technician.organization)
    response = tech_client.delete(URL, {"endpoint": subscription["endpoint"]},
                                  content_type="application/json")
    assert response.json() == {"deleted": 1}
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("body, error", [
    ("not json", "not JSON"),
    ({"keys": {"p256dh": "x", "auth": "y"}}, "needs its endpoint"),
    ({"endpoint": "javascript:alert(1)", "keys": {"p256dh": "x", "auth": "y"}},
     "not a web address"),
    ({"endpoint": "https://push.example.com/a"}, "keys p256dh and auth"),
])
def test_it_refuses_a_bad_subscription_clearly(tech_client, body, error):
    data = body if isinstance(body, str) else json.dumps(body)
    response = tech_client.post(URL, data, content_type="application/json")
    assert response.status_code == 400
    assert error in response.json()["error"]
    assert not PushSubscription.objects.exists()


def test_it_deletes_only_the_members_own_subscription(tech_client, office, org):
    PushSubscription.objects.create(organization=org, member=office,
                                    endpoint="https://push.example.com/office", p256dh="k",
                                    auth="a")
    response = tech_client.delete(URL, {"endpoint": "https://push.example.com/office"},
                                  content_type="application/json")
    assert response.json() == {"deleted": 0}
    assert PushSubscription.objects.count() == 1


def test_it_needs_a_member_and_a_csrf_token(client, outsider_client, technician):
    from django.test import Client

    assert client.post(URL, {}, content_type="application/json").status_code in (302, 403)
    # The outsider is a member elsewhere: their subscription is theirs, never another org's.
    outsider_client.post(URL, {"endpoint": "https://push.example.com/x",
                               "keys": {"p256dh": "k", "auth": "a"}},
                         content_type="application/json")
    assert PushSubscription.objects.get().organization != technician.organization
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(technician.user)
    response = strict.post(URL, {"endpoint": "https://push.example.com/y",
                                 "keys": {"p256dh": "k", "auth": "a"}},
                           content_type="application/json")
    assert response.status_code == 403


@pytest.mark.parametrize("taker", ["outsider", "office"])
def test_it_never_hands_a_subscription_to_someone_who_learnt_its_endpoint(
        request, vapid, taker, tech_client, technician, office, visit,
        django_capture_on_commit_callbacks):
    """A member of another organization, or another member of the same one, who posts a
    technician's endpoint with keys of their own is answered as for a new subscription, and
    gets nothing: the row stays the technician's and their alerts still reach their phone."""
    taker_client = request.getfixturevalue(f"{taker}_client")
    with PushService() as service:
        mine = service.subscription()
        assert tech_client.post(URL, mine, content_type="application/json").status_code == 201
        stolen = {"endpoint": mine["endpoint"],
                  "keys": {"p256dh": "BOtherKeyOfTheTaker", "auth": "takers-auth"}}
        fresh = {"endpoint": "https://push.example.com/new-phone",
                 "keys": {"p256dh": "BOtherKeyOfTheTaker", "auth": "takers-auth"}}
        answer = taker_client.post(URL, stolen, content_type="application/json")
        new = taker_client.post(URL, fresh, content_type="application/json")
        assert (answer.status_code, answer.json().keys()) == (new.status_code,
                                                              new.json().keys())
        rows = PushSubscription.objects.filter(endpoint=mine["endpoint"])
        assert [(s.member, s.p256dh, s.auth) for s in rows] == [
            (technician, mine["keys"]["p256dh"], mine["keys"]["auth"])]
        # Deleting it is not theirs to do either.
        taker_client.delete(URL, {"endpoint": mine["endpoint"]},
                            content_type="application/json")
        assert rows.count() == 1
        with django_capture_on_commit_callbacks(execute=True):
            change(visit, by=office, change="moved", start=local(2026, 11, 24, 13),
                   end=local(2026, 11, 24, 14))
        assert [r["path"] for r in service.received] == ["/push/phone-1"]
        assert "WO-1042" in service.received[0]["payload"]["title"]


def test_it_keeps_a_shared_phone_for_each_member_who_proves_they_hold_it(
        tech_client, office_client, technician, office):
    """The same browser (the same keys) posted by a second member of the team: each member
    gets a row of their own; the first one's is not moved or changed."""
    subscription = {"endpoint": "https://push.example.com/shared",
                    "keys": {"p256dh": "BSHAREDKEY", "auth": "SHAREDAUTH"}}
    tech_client.post(URL, subscription, content_type="application/json")
    office_client.post(URL, subscription, content_type="application/json")
    rows = PushSubscription.objects.filter(endpoint=subscription["endpoint"]).order_by("pk")
    assert [(s.member, s.auth) for s in rows] == [(technician, "SHAREDAUTH"),
                                                   (office, "SHAREDAUTH")]
    office_client.delete(URL, {"endpoint": subscription["endpoint"]},
                         content_type="application/json")
    assert [s.member for s in rows.all()] == [technician]
