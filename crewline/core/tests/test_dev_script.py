"""``python3 dev.py start --port N``: the emailed links (SITE_URL) name the port it serves on."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def dev():
    spec = importlib.util.spec_from_file_location("crewline_dev_script", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("args", "site_url"), [
    (["--port", "8123"], "http://127.0.0.1:8123"),
    (["--port=8124"], "http://127.0.0.1:8124"),
    (["--host", "localhost", "--port", "9000"], "http://localhost:9000"),
    (["--host", "0.0.0.0", "--port", "9001"], "http://127.0.0.1:9001"),  # noqa: S104
    (["--host", "::1", "--port", "9002"], "http://[::1]:9002"),
    (["--no-worker"], None),  # the settings' default: port 8000, where run serves by default
])
def test_it_points_emailed_links_at_the_port_it_serves_on(dev, args, site_url):
    env = dev.with_site_url({"HTTPS": "false"}, args)
    assert env.get("SITE_URL") == site_url


def test_it_keeps_a_site_url_that_is_set(dev):
    env = dev.with_site_url({"SITE_URL": "https://crew.example.com"}, ["--port", "8123"])
    assert env["SITE_URL"] == "https://crew.example.com"
