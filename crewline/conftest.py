"""Personas for every test: an owner, office staff and a technician of one organization, and an
outsider who owns another organization and must never see the first one's data."""

from __future__ import annotations

import pytest
from django.test import Client

from crewline.core.models import Role
from crewline.factories import MemberFactory, OrganizationFactory

PASSWORD = "correct horse battery"


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Northside Heating & Air", slug="northside")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Rival Plumbing", slug="rival")


@pytest.fixture
def owner(org):
    return MemberFactory(organization=org, role=Role.OWNER, user__email="owner@example.com",
                         user__full_name="Olivia Owner")


@pytest.fixture
def office(org):
    return MemberFactory(organization=org, role=Role.OFFICE, user__email="office@example.com",
                         user__full_name="Oscar Office")


@pytest.fixture
def technician(org):
    return MemberFactory(organization=org, role=Role.TECHNICIAN, user__email="tech@example.com",
                         user__full_name="Tara Tech")


@pytest.fixture
def outsider(other_org):
    return MemberFactory(organization=other_org, role=Role.OWNER,
                         user__email="outsider@example.com", user__full_name="Uma Outsider")


def _client_for(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


@pytest.fixture
def owner_client(owner):
    return _client_for(owner)


@pytest.fixture
def office_client(office):
    return _client_for(office)


@pytest.fixture
def tech_client(technician):
    return _client_for(technician)


@pytest.fixture
def outsider_client(outsider):
    return _client_for(outsider)


# --- Browser tests -------------------------------------------------------------------------
# Playwright from PyPI driving Debian's Chromium. Under CI they must run; elsewhere they skip
# with a message saying what to install.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def chromium():
    """Chromium for one test module. Not for the session: Playwright's sync API keeps an event
    loop running in this thread while it is open, which would break later tests that run
    their own loop (asyncio.run)."""
    import os

    missing = None
    if not os.path.exists(CHROMIUM):
        missing = "Debian's Chromium is not installed: apt-get install chromium"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            missing = "Playwright is not installed: pip install -e '.[dev]'"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so Django's async-safety check must be relaxed for browser tests.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _InFlight:
    """Requests the live server is answering, counted by Django's own request signals. A page
    may still be sending one (a device registering, a photo going up) when its test ends; the
    database is flushed right after, so a test must not end while the server is still writing.
    The live stream is left out: it lasts as long as the page that opened it."""

    def __init__(self):
        import threading

        self.lock = threading.Lock()
        self.count = 0
        self.mine = threading.local()

    def started(self, sender, environ=None, **kwargs):
        import threading

        if threading.current_thread() is threading.main_thread():
            return
        if environ and environ.get("PATH_INFO", "").startswith("/live/"):
            return
        self.mine.counted = True
        with self.lock:
            self.count += 1

    def finished(self, sender, **kwargs):
        if getattr(self.mine, "counted", False):
            self.mine.counted = False
            with self.lock:
                self.count -= 1

    def drain(self, seconds: float = 10.0) -> int:
        import time

        deadline = time.monotonic() + seconds
        while self.count > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.count


_IN_FLIGHT = _InFlight()


@pytest.fixture(autouse=True)
def _live_server_drained(request):
    """After a browser test has closed its pages, wait for the server to finish any request
    they left in flight, before the database is flushed under it."""
    if "live_server" not in request.fixturenames:
        yield
        return
    from django.core.signals import request_finished, request_started

    request_started.connect(_IN_FLIGHT.started, dispatch_uid="crewline-tests-in-flight")
    request_finished.connect(_IN_FLIGHT.finished, dispatch_uid="crewline-tests-in-flight-done")
    yield
    left = _IN_FLIGHT.drain()
    assert left == 0, f"the live server was still answering {left} request(s) after the test"


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh desktop-sized page; ``browser_page.base`` is the live server's address."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base = live_server.url
    yield page
    context.close()


@pytest.fixture
def login(browser_page):
    """Log a member in through the real login form."""

    def do_login(member, password: str = PASSWORD):
        browser_page.goto(browser_page.base + "/login/")
        browser_page.fill("input[name=username]", member.user.email)
        browser_page.fill("input[name=password]", password)
        browser_page.click("button[type=submit]")
        browser_page.wait_for_load_state("networkidle")
        return browser_page

    return do_login


# Files in an S3-compatible bucket ------------------------------------------------------------

@pytest.fixture(scope="session")
def s3_server():
    """A local S3 server (moto's, in server mode) on a free port, for the whole run: its
    address. It keeps objects in memory and checks nothing but that a request is signed."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


S3_ENV = {"AWS_ACCESS_KEY_ID": "crewline-test", "AWS_SECRET_ACCESS_KEY": "crewline-test-secret",
          "AWS_S3_REGION_NAME": "us-east-1", "AWS_S3_ADDRESSING_STYLE": "path"}


@pytest.fixture
def s3_media(s3_server, settings, monkeypatch, tmp_path):
    """``MEDIA_STORAGE=s3`` for one test, on a new empty bucket of the local S3 server: the
    storage settings built from the environment as at start-up; a boto3 client of that bucket
    (``.bucket`` names it). MEDIA_ROOT is an empty folder, so a file that went to the disk
    instead shows."""
    import uuid

    import boto3

    from crewline.storage import media_storage

    bucket = f"crewline-{uuid.uuid4().hex[:12]}"
    for name, value in {**S3_ENV, "AWS_S3_ENDPOINT_URL": s3_server,
                        "AWS_STORAGE_BUCKET_NAME": bucket}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                          aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"])
    client.create_bucket(Bucket=bucket)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_STORAGE = "s3"
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(
        "s3", signed_url_seconds=settings.MEDIA_SIGNED_URL_SECONDS)}
    client.bucket = bucket
    return client
