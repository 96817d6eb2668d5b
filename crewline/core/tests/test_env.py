import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from crewline.env import env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[3]


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


@pytest.mark.parametrize(("extra", "named"), [
    ({"DEBUG": "maybe"}, "DEBUG"),
    ({"DATABASE_URL": "mysql://u:p@db/crew"}, "DATABASE_URL"),
    ({"SECRET_KEY": "too-short"}, "SECRET_KEY"),
    ({"LOGIN_FAILURE_LIMIT": "five"}, "LOGIN_FAILURE_LIMIT"),
    ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, "EMAIL_USE_SSL"),
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
