"""Two server processes against one database: a note posted through one reaches a stream held
open on the other within 2 seconds (Redis pub/sub, or PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]

SETUP = """
import json
from django.contrib.sessions.backends.db import SessionStore
from crewline.core.models import Role
from crewline.factories import MemberFactory, OrganizationFactory, SiteFactory
from crewline.workorders.services import work_order_create
org = OrganizationFactory(slug="twoproc")
office = MemberFactory(organization=org, role=Role.OFFICE, user__email="two@example.com")
site = SiteFactory(customer__organization=org)
wo = work_order_create(organization=org, by=office, customer=site.customer, site=site,
                       title="Two processes")
session = SessionStore()
session["_auth_user_id"] = str(office.user.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = office.user.get_session_auth_hash()
session.create()
print(json.dumps({"pk": wo.pk, "number": wo.number, "session": session.session_key}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _serve(env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "crewline.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "off", "--log-level", "warning",
         "--timeout-graceful-shutdown", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_up(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server on {port} exited: {process.stderr.read().decode()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"server on {port} did not start")


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name] = rest.split(";", 1)[0]
    return found


def _post_note(port: int, number: int, session: str, body: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", f"/work-orders/{number}/", headers={"Cookie": f"sessionid={session}"})
    page = conn.getresponse()
    html = page.read().decode()
    assert page.status == 200, page.status
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    csrf = _cookies(page)["csrftoken"]
    conn.request("POST", f"/work-orders/{number}/notes/",
                 body=urllib.parse.urlencode({"body": body, "visibility": "internal",
                                              "csrfmiddlewaretoken": token}),
                 headers={"Cookie": f"sessionid={session}; csrftoken={csrf}",
                          "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    return response.status


@pytest.fixture
def two_servers(request, tmp_path):
    broker = request.param
    env = {**os.environ, "CREWLINE_TESTING": "1", "ALLOWED_HOSTS": "127.0.0.1",
           "CREWLINE_VAR_DIR": str(tmp_path), "LIVE_BROKER": broker, "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if broker == "redis":
        redis_url = request.getfixturevalue("redis_url")
        env.update(REDIS_URL=redis_url, DATABASE_URL=f"sqlite:///{tmp_path / 'two.sqlite3'}")
        _manage(env, "migrate", "--no-input", "-v", "0")
    else:
        request.getfixturevalue("transactional_db")
        if connection.vendor != "postgresql":
            pytest.skip("LISTEN/NOTIFY needs PostgreSQL: run with DATABASE_URL=postgres://...")
        db = settings.DATABASES["default"]  # pytest's migrated test database
        env.pop("REDIS_URL", None)
        env["DATABASE_URL"] = (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
                               f"{db['PORT'] or 5432}/{db['NAME']}")
    data = json.loads(_manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
    ports = _free_port(), _free_port()
    servers = [_serve(env, port) for port in ports]
    try:
        for server, port in zip(servers, ports, strict=True):
            _wait_up(server, port)
        yield ports, data
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()


@pytest.mark.parametrize("two_servers", ["redis", "postgres"], indirect=True)
def test_it_carries_a_change_from_one_server_process_to_a_stream_on_another(two_servers):
    (reader_port, writer_port), data = two_servers
    stream = http.client.HTTPConnection("127.0.0.1", reader_port, timeout=10)
    stream.request("GET", f"/live/stream/?topics=wo:{data['pk']}",
                   headers={"Cookie": f"sessionid={data['session']}",
                            "Accept": "text/event-stream"})
    response = stream.getresponse()
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    assert response.readline().startswith(b"retry:")  # subscribed on the reader
    started = time.monotonic()
    assert _post_note(writer_port, data["number"], data["session"], "Through the other") == 302
    posted = time.monotonic()
    frame = ""
    while '"kind":"note"' not in frame:
        frame = response.readline().decode()
    arrived = time.monotonic()
    stream.close()
    assert frame.startswith("data: ")
    assert json.loads(frame[6:])["topic"] == f"wo:{data['pk']}"
    assert arrived - posted < 2, f"took {arrived - posted:.2f} s after the post"
    assert arrived - started < 5
