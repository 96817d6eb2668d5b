"""``crewline run`` as an operator runs it: a real process, its background worker beside it,
stopped with SIGTERM (systemd, Docker) or SIGINT (Ctrl+C); and the one-line messages it gives
about its environment."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CREWLINE = [sys.executable, "-m", "crewline.cli"]


def _env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CREWLINE_", "DJANGO_", "DATABASE_", "SECRET_KEY", "DEBUG",
                                "ALLOWED_HOSTS", "HTTPS", "HSTS", "BEHIND_PROXY", "SITE_URL"))}
    env.update(SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="127.0.0.1",
               DEBUG="false", CREWLINE_VAR_DIR=str(tmp_path), HTTPS="false",
               PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split()
        found += [int(c) for c in children]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="reads the process tree from /proc")
# SIGKILL leaves ``crewline run`` no time: the worker is told by the kernel (PR_SET_PDEATHSIG).
@pytest.mark.parametrize(("stop", "https"), [(signal.SIGTERM, "true"), (signal.SIGINT, "false"),
                                             (signal.SIGKILL, "false")])
def test_it_stops_its_worker_when_stopped_by_a_signal(tmp_path, stop, https):
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*CREWLINE, "run", "--port", "0"], cwd=ROOT, env=_env(tmp_path, HTTPS=https),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    workers: list[int] = []
    lines: list[str] = []
    # Read in a thread: a worker left running would hold the pipe open for ever.
    reader = threading.Thread(target=lambda: lines.extend(server.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not any("is running" in line for line in lines):
            assert time.monotonic() < deadline and server.poll() is None, lines
            time.sleep(0.1)
        while not workers:
            assert time.monotonic() < deadline, "no worker started"
            workers = _children(server.pid)
            time.sleep(0.2)
        time.sleep(1.5)  # the worker is up and polling; the web server is listening
        assert all(_alive(pid) for pid in workers)

        server.send_signal(stop)
        assert server.wait(timeout=30) is not None
        for _ in range(100):
            if not any(_alive(pid) for pid in workers):
                break
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "the worker is still running"
        reader.join(10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for pid in workers:  # what a failed run left behind
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    said_https = [line for line in lines if "HTTPS is on" in line]
    if https == "true":
        # Said once, on one line, with what to do about it.
        assert len(said_https) == 1 and "HTTPS=false" in said_https[0], lines
    else:
        assert said_https == []


def test_it_names_a_missing_secret_key_in_one_line(tmp_path):
    env = _env(tmp_path)
    del env["SECRET_KEY"]
    result = subprocess.run([*CREWLINE, "run", "--no-migrate"], cwd=ROOT, env=env,  # noqa: S603
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0], result.stderr
    assert result.stdout == ""
