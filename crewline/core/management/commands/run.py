from __future__ import annotations

import subprocess
import sys

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


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
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        worker = None
        if not no_worker:
            worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "crewline.cli", "db_worker", "--verbosity", "0"])
        self.stdout.write(f"Crewline is running at http://{host}:{port}/  (Ctrl+C stops it)")
        try:
            uvicorn.run("crewline.asgi:application", host=host, port=port, workers=workers,
                        log_level="warning", access_log=False)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
