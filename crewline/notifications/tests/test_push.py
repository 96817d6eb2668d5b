"""Web Push: browsers' subscriptions, and a push to each new notification, end to end against
a push service that the test runs, which decrypts the message as a browser would."""

from __future__ import annotations

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.urls import reverse

from crewline.notifications.models import Notification, PushSubscription
from crewline.notifications.tasks import send_notification_push

from .conftest import change, local

pytestmark = pytest.mark.django_db

URL = reverse("notifications:push_subscription")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A push service on 127.0.0.1 that keeps what it receives (headers, decrypted body)."""

    def __init__(self, status: int = 201) -> None:
        self.received: list[dict] = []
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                plain = http_ece.decrypt(body, private_key=service.private_key,
                                         auth_secret=service.auth, version="aes128gcm")
                service.received.append({"path": self.path, "headers": dict(self.headers),
                                         "payload": json.loads(plain)})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def subscription(self, name: str = "phone-1") -> dict:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": f"{self.origin}/push/{name}",
                "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}

    def __enter__(self) -> PushService:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def vapid(settings, monkeypatch, capsys):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    call_command("vapid_keys")
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
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
        "url": f"https://crew.example.com/work-orders/my-visits/#visit-{visit.pk}",
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
