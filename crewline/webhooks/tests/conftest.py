"""A webhook receiver on a port of its own (port 0) that verifies every request with the
``standardwebhooks`` library, and can be told to fail, time out or answer 410."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    def __init__(self) -> None:
        self.secret: str | None = None
        self.other_secret: str | None = None
        # What the next requests get: "ok", "fail" (500), "slow" (answers after the sender's
        # timeout), "gone" (410), or "hang" (never answers until released).
        self.mode = "ok"
        self.accepted: list[dict] = []  # verified and answered 2xx: {"id", "type", "data"}
        self.requests: list[dict] = []  # every request: {"id", "headers", "body"}
        self.release = threading.Event()
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks?src=crewline"

    def verify(self, body: bytes, headers: dict, secret: str | None = None) -> dict:
        return Webhook(secret or self.secret).verify(body, headers)

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.requests.append({"id": headers.get("webhook-id"),
                                              "headers": headers, "body": body})
                receiver.arrived.set()
                mode = receiver.mode
                if mode == "hang":
                    receiver.release.wait(30)
                    mode = "fail"
                if mode == "slow":
                    time.sleep(1.5)
                try:
                    payload = receiver.verify(body, headers)
                except WebhookVerificationError as exc:
                    self._answer(400, f"bad signature: {exc}")
                    return
                if mode == "fail":
                    self._answer(500, "Internal Server Error: the receiver is down")
                elif mode == "gone":
                    self._answer(410, "Gone")
                elif mode == "slow":
                    self._answer(200, "too late")
                else:
                    with receiver.lock:
                        receiver.accepted.append({"id": headers["webhook-id"], **payload})
                    self._answer(200, json.dumps({"ok": True}))

            def _answer(self, status: int, text: str) -> None:
                data = text.encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "text/plain")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the sender gave up (timeout)

        return Handler

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def endpoint(org, owner, receiver):
    from crewline.live.models import EVENTS
    from crewline.webhooks.services import endpoint_create

    ep = endpoint_create(organization=org, by=owner, url=receiver.url, events=EVENTS)
    receiver.secret = ep.secret
    return ep
