"""A local server that answers as Twilio's Messages API does, and keeps what it was sent."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs


class FakeTwilio:
    """``POST /2010-04-01/Accounts/<sid>/Messages.json`` on 127.0.0.1 (a free port): each
    message kept in ``sent`` (form fields, the account from Basic auth); answered 201 with a
    message resource, or with ``fail_with`` (a Twilio error code) as a 400."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.fail_with: int | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                auth = base64.b64decode(self.headers.get("Authorization", "Basic ")[6:]).decode()
                parts = self.path.split("/")
                if not (self.path.endswith("/Messages.json") and parts[2] == "Accounts"):
                    return self._answer(404, {"code": 20404, "message": "Not found",
                                              "status": 404})
                if fake.fail_with is not None:
                    return self._answer(400, {"code": fake.fail_with, "status": 400,
                                              "message": "Attempt to send to unsubscribed "
                                                         "recipient", "more_info": ""})
                sid = "SM" + uuid.uuid4().hex
                fake.sent.append({"path": self.path, "account": parts[3],
                                  "auth": auth, **form, "sid": sid})
                self._answer(201, {"sid": sid, "account_sid": parts[3], "to": form.get("To"),
                                   "from": form.get("From"), "body": form.get("Body"),
                                   "status": "queued", "num_segments": "1",
                                   "direction": "outbound-api", "api_version": "2010-04-01",
                                   "uri": f"{self.path[:-5]}/{sid}.json"})

            def _answer(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
