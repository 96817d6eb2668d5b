"""A refused role is an everyday answer: one line at INFO, no traceback, no warning."""

from __future__ import annotations

import logging

from django.urls import reverse


def test_a_403_is_logged_as_one_info_line_without_a_traceback(tech_client, caplog):
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        response = tech_client.get(reverse("core:members"))
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records, "the refusal is still logged"
    assert all(r.levelno == logging.INFO for r in records)
    assert all(r.exc_info is None for r in records)
    assert "Traceback" not in caplog.text


def test_a_server_error_still_logs_its_traceback(caplog):
    from crewline.core.logging import ForbiddenIsNotAnError

    try:
        raise ValueError("boom")
    except ValueError:
        import sys
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1,
                                   "Internal Server Error", (), sys.exc_info())
    assert ForbiddenIsNotAnError().filter(record)
    assert record.levelno == logging.ERROR and record.exc_info is not None
