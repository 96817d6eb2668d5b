import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from crewline.env import env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[3]
# Never connected to: settings are read without a database.
POSTGRES_URL = "postgres://crew:secret@db.example.com:5432/crew?sslmode=require"


def test_it_reads_strings_with_defaults_and_requires_missing_ones(monkeypatch):
    monkeypatch.setenv("CL_T", "value")
    assert env_str("CL_T") == "value"
    monkeypatch.delenv("CL_T")
    assert env_str("CL_T", "fallback") == "fallback"
    with pytest.raises(ImproperlyConfigured, match="CL_T is required"):
        env_str("CL_T")


def test_it_reads_secrets_from_files(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("CL_T_FILE", str(secret))
    assert env_str("CL_T") == "s3cret"
    monkeypatch.setenv("CL_T", "also")
    with pytest.raises(ImproperlyConfigured, match="either CL_T or CL_T_FILE"):
        env_str("CL_T")
    monkeypatch.delenv("CL_T")
    monkeypatch.setenv("CL_T_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="CL_T_FILE"):
        env_str("CL_T")


@pytest.mark.parametrize(("raw", "value"), [
    ("1", True), ("true", True), (" YES ", True), ("on", True),
    ("0", False), ("False", False), ("no", False), ("off", False), ("", False),
])
def test_it_reads_booleans(monkeypatch, raw, value):
    monkeypatch.setenv("CL_B", raw)
    assert env_bool("CL_B", not value) is value


def test_it_refuses_a_boolean_it_cannot_read(monkeypatch):
    monkeypatch.setenv("CL_B", "maybe")
    with pytest.raises(ImproperlyConfigured, match="CL_B='maybe' is not a boolean"):
        env_bool("CL_B", False)
    monkeypatch.delenv("CL_B")
    assert env_bool("CL_B", True) is True


def test_it_reads_whole_numbers_with_a_minimum(monkeypatch):
    assert env_int("CL_I", 5) == 5
    monkeypatch.setenv("CL_I", " 12 ")
    assert env_int("CL_I", 5, minimum=1) == 12
    monkeypatch.setenv("CL_I", "0")
    with pytest.raises(ImproperlyConfigured, match="CL_I=0 must be at least 1"):
        env_int("CL_I", 5, minimum=1)
    monkeypatch.setenv("CL_I", "1.5")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("CL_I", 5)


def test_it_reads_comma_separated_lists(monkeypatch):
    assert env_list("CL_L", ["a"]) == ["a"]
    monkeypatch.setenv("CL_L", " a.example.com, ,b.example.com ")
    assert env_list("CL_L", []) == ["a.example.com", "b.example.com"]


def _production_env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CREWLINE_", "DJANGO_", "DATABASE_", "SECRET_KEY", "DEBUG",
                                "ALLOWED_HOSTS", "HTTPS", "HSTS", "EMAIL_"))}
    env.update(SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="crew.example.com",
               DEBUG="false", CREWLINE_VAR_DIR=str(tmp_path),
               DJANGO_SETTINGS_MODULE="crewline.settings")
    env.update(extra)
    return env


def test_it_passes_the_deployment_checks_with_production_settings(tmp_path):
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT,
                            env=_production_env(tmp_path), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_passes_the_deployment_checks_on_postgresql_with_the_pool(tmp_path):
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT,
                            env=_production_env(tmp_path, DATABASE_URL=POSTGRES_URL),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


DATABASE_PROBE = """
import django, json
django.setup()
from django.db import connection
db = connection.settings_dict
pool = connection.pool  # built (psycopg_pool installed, options accepted), not opened
print(json.dumps({"conn_max_age": db["CONN_MAX_AGE"], "health_checks": db["CONN_HEALTH_CHECKS"],
                  "options": {k: v for k, v in db["OPTIONS"].items() if k != "pool"},
                  "pool": pool and [pool.min_size, pool.max_size, pool.timeout]}))
"""


@pytest.mark.parametrize(("extra", "expected"), [
    ({}, {"conn_max_age": 0, "pool": [2, 20, 10]}),
    ({"DATABASE_POOL_MIN_SIZE": "0", "DATABASE_POOL_MAX_SIZE": "5",
      "DATABASE_POOL_TIMEOUT": "3", "DATABASE_CONN_MAX_AGE": "0"},
     {"conn_max_age": 0, "pool": [0, 5, 3]}),
    # Behind pgbouncer: no pool of our own, persistent connections as before.
    ({"DATABASE_POOL": "false"}, {"conn_max_age": 60, "pool": None}),
    ({"DATABASE_POOL": "false", "DATABASE_CONN_MAX_AGE": "0"}, {"conn_max_age": 0, "pool": None}),
])
def test_it_pools_postgresql_connections_unless_told_not_to(tmp_path, extra, expected):
    result = subprocess.run([sys.executable, "-c", DATABASE_PROBE], cwd=ROOT,  # noqa: S603
                            env=_production_env(tmp_path, DATABASE_URL=POSTGRES_URL, **extra),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {**expected, "health_checks": True,
                     "options": {"sslmode": "require", "options": "-c jit=off"}}


def test_it_leaves_jit_to_the_server_when_told(tmp_path):
    result = subprocess.run([sys.executable, "-c", DATABASE_PROBE], cwd=ROOT,  # noqa: S603
                            env=_production_env(tmp_path, DATABASE_URL=POSTGRES_URL,
                                                DATABASE_JIT="true"),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["options"] == {"sslmode": "require"}


@pytest.mark.parametrize(("extra", "named"), [
    ({"DEBUG": "maybe"}, "DEBUG"),
    ({"DATABASE_URL": "mysql://u:p@db/crew"}, "DATABASE_URL"),
    ({"SECRET_KEY": "too-short"}, "SECRET_KEY"),
    ({"LOGIN_FAILURE_LIMIT": "five"}, "LOGIN_FAILURE_LIMIT"),
    ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, "EMAIL_USE_SSL"),
    ({"DATABASE_URL": POSTGRES_URL, "DATABASE_POOL": "maybe"}, "DATABASE_POOL"),
    ({"DATABASE_URL": POSTGRES_URL, "DATABASE_POOL_MIN_SIZE": "-1"}, "DATABASE_POOL_MIN_SIZE"),
    ({"DATABASE_URL": POSTGRES_URL, "DATABASE_POOL_MAX_SIZE": "lots"}, "DATABASE_POOL_MAX_SIZE"),
    ({"DATABASE_URL": POSTGRES_URL, "DATABASE_POOL_MIN_SIZE": "30"}, "DATABASE_POOL_MAX_SIZE"),
    ({"DATABASE_URL": POSTGRES_URL, "DATABASE_POOL_TIMEOUT": "0"}, "DATABASE_POOL_TIMEOUT"),
    # Persistent connections are the fallback without the pool; with it they are a mistake.
    ({"DATABASE_URL": POSTGRES_URL, "DATABASE_CONN_MAX_AGE": "60"}, "DATABASE_CONN_MAX_AGE"),
    ({"DATABASE_URL": POSTGRES_URL, "DATABASE_POOL": "off", "DATABASE_CONN_MAX_AGE": "soon"},
     "DATABASE_CONN_MAX_AGE"),
])
def test_it_fails_loudly_on_bad_environment_values(tmp_path, extra, named):
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
                            env=_production_env(tmp_path, **extra), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.strip().splitlines()[-1]


def test_it_requires_a_secret_key_in_production(tmp_path):
    env = _production_env(tmp_path)
    del env["SECRET_KEY"]
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
