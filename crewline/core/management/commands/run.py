from __future__ import annotations

import contextlib
import signal
import subprocess
import sys

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def _die_with_parent() -> None:
    """In the worker before it starts (Linux): a SIGTERM when ``crewline run`` dies, even by a
    SIGKILL that leaves it no time to stop the worker itself."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class _Stopped(BaseException):
    """SIGTERM: stop serving, then the worker. A BaseException, as KeyboardInterrupt is, so
    that no ``except Exception`` on the way (the event loop's) takes it for an error."""


def _stop(signum, frame) -> None:
    raise _Stopped


class Command(BaseCommand):
    help = ("Apply migrations, collect static files and serve Crewline (ASGI, uvicorn), with a "
            "background worker for emails and scheduled work.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="web server processes")
        parser.add_argument("--no-migrate", action="store_true")
        parser.add_argument("--no-worker", action="store_true",
                            help="do not start the background worker (run `crewline db-worker` "
                                 "elsewhere)")

    def handle(self, *args, host: str, port: int, workers: int, no_migrate: bool,
               no_worker: bool, **options):
        # uvicorn stops on SIGTERM and then raises it again with the handler that was there
        # before it: Python's default would end the process before the ``finally`` below stops
        # the worker, leaving it running. This handler ends it through that ``finally``.
        previous = signal.signal(signal.SIGTERM, _stop)
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        worker = None
        try:
            if not no_migrate:
                call_command("migrate", interactive=False, verbosity=0)
            if not settings.DEBUG:
                call_command("collectstatic", interactive=False, verbosity=0)
            if not no_worker:
                worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                    [sys.executable, "-m", "crewline.cli", "db_worker", "--verbosity", "0"],
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None)  # noqa: PLW1509
            self.stdout.write(f"Crewline is running at http://{host}:{port}/  "
                              "(Ctrl+C stops it)")
            if settings.SECURE_SSL_REDIRECT and not getattr(settings, "SECURE_PROXY_SSL_HEADER",
                                                            None):
                self.stdout.write(
                    f"HTTPS is on, and this server speaks plain http: every page redirects to "
                    f"https://{host}:{port}/, which it does not answer. Serve it behind a TLS "
                    "proxy (and set BEHIND_PROXY=true), or set HTTPS=false on a private network.")
            self.stdout.flush()
            uvicorn.run("crewline.asgi:application", host=host, port=port, workers=workers,
                        log_level="warning", access_log=False)
        except (KeyboardInterrupt, _Stopped):
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
