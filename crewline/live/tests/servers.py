"""Starting real server processes (uvicorn) on a database of their own, for tests that need
streaming over ASGI and more than one process."""

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
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _serve(env: dict, port: int, app: str = "crewline.asgi:application") -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (our own fixed command line)
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
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


def post_note(port: int, number: int, session: str, body: str) -> int:
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


def server_env(tmp_path: Path, **extra: str) -> dict:
    env = {**os.environ, "CREWLINE_TESTING": "1", "ALLOWED_HOSTS": "127.0.0.1",
           "CREWLINE_VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1", **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def sqlite_database(env: dict, tmp_path: Path) -> None:
    """Point ``env`` at a fresh, migrated SQLite file."""
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    _manage(env, "migrate", "--no-input", "-v", "0")


def seed(env: dict) -> dict:
    """An office member's work order and logged-in session: {"pk", "number", "session"}."""
    return json.loads(_manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])


def start_servers(env: dict, count: int, app: str = "crewline.asgi:application"
                  ) -> tuple[list[int], list[subprocess.Popen]]:
    ports = [_free_port() for _ in range(count)]
    servers = [_serve(env, port, app) for port in ports]
    try:
        for server, port in zip(servers, ports, strict=True):
            _wait_up(server, port)
    except BaseException:
        stop_servers(servers)
        raise
    return ports, servers


def stop_servers(servers: list[subprocess.Popen]) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
