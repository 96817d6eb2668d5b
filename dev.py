#!/usr/bin/env python3
"""Set up and run Crewline with nothing but Python 3.11+.

    python3 dev.py start      virtual environment, packages, database, demo data; serve on :8000
                              (options go to `crewline run`: --port 8001 also sets SITE_URL)
    python3 dev.py test       the test suite (arguments go to pytest)
    python3 dev.py setup      only the virtual environment and packages

The virtual environment lives in .venv/ and is refreshed when pyproject.toml changes; the
database, uploaded files and a generated secret key live in var/.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VAR = ROOT / "var"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Crewline needs Python 3.11 or newer.")
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv/ ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".crewline-installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        print("Installing Crewline and its packages (first run takes a minute) ...", flush=True)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
                       check=True)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]"],
                       check=True)
        stamp.write_text(wanted)


def local_env() -> dict[str, str]:
    """Settings for a local install: a generated secret key and plain HTTP on this machine."""
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    if "SECRET_KEY" not in env and "SECRET_KEY_FILE" not in env:
        key_file = VAR / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        env["SECRET_KEY_FILE"] = str(key_file)
    env.setdefault("HTTPS", "false")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    return env


def _option(args: list[str], name: str) -> str | None:
    """The value of ``name`` in ``args`` (``--port 8001`` or ``--port=8001``), or None."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def with_site_url(env: dict[str, str], run_args: list[str]) -> dict[str, str]:
    """``env`` with SITE_URL (the address in emailed links) on the host and port that
    ``crewline run`` is given, unless SITE_URL is set already."""
    port = _option(run_args, "--port")
    if "SITE_URL" in env or port is None:
        return env
    host = _option(run_args, "--host") or "127.0.0.1"
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - every address: links name this one
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return {**env, "SITE_URL": f"http://{host}:{port}"}


def crewline(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "crewline"), *args], check=True, env=env, cwd=ROOT)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command == "start":
        ensure_venv()
        env = with_site_url(local_env(), rest)
        crewline("migrate", "--no-input", "-v", "0", env=env)
        crewline("demo", env=env)
        try:
            crewline("run", "--no-migrate", *rest, env=env)
        except KeyboardInterrupt:
            return 0
        return 0
    if command == "setup":
        ensure_venv()
        return 0
    if command == "test":
        ensure_venv()
        return subprocess.run([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT).returncode
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
