"""The ``crewline`` command: Django's management commands, with dashes allowed in names.

    crewline run            migrate, collect static files and serve on http://127.0.0.1:8000
    crewline demo           seed (or refresh) the demo company and print its logins
    crewline audit-verify   check every organization's audit chain
    crewline db-worker      a background worker on its own (several may run at once)
    crewline seed-scale     a large data set on PostgreSQL (1,000 organizations, 10 million work
                            orders by default: --orgs, --work-orders, --seed; crewline/demo/bulk.py)
    crewline media-to-s3    copy the files under MEDIA_ROOT to the bucket of MEDIA_STORAGE=s3
    crewline <command>      any other manage.py command
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crewline.settings")
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["crewline", *args])
    except ImproperlyConfigured as exc:
        # A setting missing or wrong in the environment: its message names it, a traceback
        # through Django's start-up would only hide it.
        sys.exit(f"crewline: {exc}")


if __name__ == "__main__":
    main()
