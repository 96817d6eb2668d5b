"""Logging filters the project's LOGGING setting names."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied


class ForbiddenIsNotAnError(logging.Filter):
    """A 403 is a role being refused, an everyday answer: Django logs it as a warning with
    the PermissionDenied traceback, which reads like a crash in the server log. Keep one line
    at INFO instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, PermissionDenied) or getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return True
