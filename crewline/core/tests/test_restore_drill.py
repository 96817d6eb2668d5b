"""The restore drill of the README's "Deploying" section, on PostgreSQL: a company's data, a
`pg_dump`, a `pg_restore` into a new database, and `crewline audit-verify` run against the
restored database verifies every organization's chain; every table's rows and every sequence
come back as they were. A row changed in the copy afterwards is caught, so the check is real.

It needs PostgreSQL (DATABASE_URL=postgres://…, as the second pass of `.ci/run`) and its
`pg_dump`/`pg_restore`: without them it skips and says why, except under CI=true, where
missing tools are a failure."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

from crewline.core.models import AuditLog, Organization
from crewline.demo.seed import seed_demo
from crewline.workorders.models import TimelineEntry, WorkOrder


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("The restore drill runs on PostgreSQL: set DATABASE_URL=postgres://… "
                    "(the second pass of .ci/run does).")
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        message = (f"The restore drill needs {' and '.join(missing)} (Debian: apt-get install "
                   "postgresql-client).")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _contents(url: str) -> tuple[dict[str, tuple[int, str]], dict[str, int | None]]:
    """Each table's row count and a digest of its rows in a fixed order; each sequence's value."""
    with psycopg.connect(url) as db:
        tables = [row[0] for row in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        rows = {}
        for table in tables:
            rows[table] = db.execute(
                f'SELECT count(*), md5(coalesce(string_agg(t::text, E\'\\n\' ORDER BY t::text),'  # noqa: S608
                f" '')) FROM \"{table}\" t").fetchone()
        sequences = dict(db.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"))
    return rows, sequences


def _crewline(*args: str, database_url: str) -> subprocess.CompletedProcess:
    """A ``crewline`` command as an operator runs it: production settings, this database."""
    env = {k: v for k, v in os.environ.items() if k != "CREWLINE_TESTING"}
    env.update(DATABASE_URL=database_url, SECRET_KEY=secrets.token_urlsafe(50),
               DATABASE_POOL="false")
    return subprocess.run([sys.executable, "-m", "crewline.cli", *args],  # noqa: S603
                          env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_into_a_new_database_whose_audit_chain_verifies(tmp_path):
    _needs_postgres()
    org = seed_demo(size=0.05).organization
    assert WorkOrder.objects.filter(organization=org).count() > 10
    assert TimelineEntry.objects.filter(organization=org).exists()
    entries = AuditLog.objects.filter(organization=org).count()
    assert entries > 10
    source_name = connection.settings_dict["NAME"]
    restored_name = f"{source_name}_restored"
    source, restored = _url(source_name), _url(restored_name)
    dump = tmp_path / "crewline.dump"

    # The README's commands: the dump, a new database, the restore.
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", f"--dbname={source}"],  # noqa: S603, S607
                   check=True, timeout=300)
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{restored_name}"')
    try:
        subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",  # noqa: S603, S607
                        f"--dbname={restored}", str(dump)], check=True, timeout=300)

        checked = _crewline("audit-verify", database_url=restored)
        assert checked.returncode == 0, checked.stderr
        slugs = sorted(Organization.objects.values_list("slug", flat=True))
        assert len(checked.stdout.splitlines()) == len(slugs)
        assert f"{org.slug}: ok: {entries} entries" in checked.stdout

        rows, sequences = _contents(restored)
        assert (rows, sequences) == _contents(source)
        assert rows["core_auditlog"][0] == AuditLog.objects.count()
        assert rows["workorders_workorder"][0] == WorkOrder.objects.count()

        # One audit entry changed in the copy: the chain no longer verifies, and says where.
        with psycopg.connect(restored, autocommit=True) as db:
            db.execute("UPDATE core_auditlog SET action = 'forged' WHERE organization_id = %s "
                       "AND seq = 3", [org.pk])
        forged = _crewline("audit-verify", database_url=restored)
        assert forged.returncode != 0
        assert f"{org.slug}: BROKEN at entry #3" in forged.stderr
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
