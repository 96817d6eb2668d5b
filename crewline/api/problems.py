"""Errors as RFC 9457 problem details (``application/problem+json``): ``type``, ``title``,
``status``, ``detail``, and ``errors`` (one per field) for 400 and 422."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import (
    AuthenticationError,
    AuthorizationError,
    HttpError,
    Throttled,
    ValidationError,
)

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:crewline:problem:"


class Problem(Exception):
    """An answer that is a problem of its own kind (``slug``), raised anywhere in a request."""

    def __init__(self, status: int, slug: str, detail: str, *, title: str = "",
                 errors: list[dict] | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail
        self.title = title or HTTPStatus(status).phrase
        self.errors, self.headers, self.extra = errors, headers or {}, extra


def problem_response(status: int, detail: str, *, slug: str = "", title: str = "",
                     errors: list[dict] | None = None, headers: dict[str, str] | None = None,
                     **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{slug}" if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = HttpResponse(json.dumps(body, cls=DjangoJSONEncoder), status=status,
                            content_type=CONTENT_TYPE)
    response["Cache-Control"] = "private, no-store"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field(loc: Any) -> str:
    # Ninja's locations start with where the value came from and the parameter group's name:
    # ("query", "filters", "limit") or ("body", "payload", "name"); the field is what follows.
    parts = [str(p) for p in (loc or ())]
    if parts and parts[0] in ("query", "path", "body", "header", "cookie", "form", "file"):
        source = parts[0]
        rest = parts[2:] if len(parts) > 2 else parts[1:]
        return ".".join(rest) or source
    return ".".join(parts)


def validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"field": _field(e.get("loc")), "message": e.get("msg", ""),
               "code": e.get("type", "invalid")} for e in exc.errors]
    return problem_response(422, "The request's parameters or body do not validate.",
                            slug="validation", title="Invalid input", errors=errors)


def _django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = [{"field": "" if field == "__all__" else field, "message": str(message),
                   "code": error.code or "invalid"}
                  for field, error_list in exc.error_dict.items()
                  for error in error_list for message in error]
    else:
        errors = [{"field": "", "message": message, "code": error.code or "invalid"}
                  for error in exc.error_list for message in error]
    if errors and all(e["code"] == "state" for e in errors):
        # Well-formed, but not now: the object's state refuses it (an invoice already
        # issued, a work order not completed yet, a price book code taken).
        return problem_response(409, " ".join(e["message"] for e in errors), slug="conflict",
                                title="Conflict", errors=errors)
    if errors and all(e["code"] == "not_found" for e in errors):
        # The body names an object the organization does not have (a customer, a member):
        # not found, as its own path would be, with the field that named it.
        return problem_response(404, "The request names something that is not in your "
                                "organization.", slug="not-found", errors=errors)
    return problem_response(422, "The request was refused by the data's rules.",
                            slug="validation", title="Invalid input", errors=errors)


def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        return problem_response(401, "A valid API key is needed: send "
                                "'Authorization: Bearer cl_…', or log in.",
                                slug="unauthenticated", headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, Throttled):
        usage = getattr(request, "_rate_usage", None)
        detail = "Too many requests."
        if usage is not None:
            detail = (f"This key may make {usage.limit} requests a minute; wait "
                      f"{usage.reset} s (Retry-After). Nothing of this request was done.")
        return problem_response(429, detail, slug="rate-limited", title="Too many requests")
    if isinstance(exc, AuthorizationError):
        return problem_response(403, str(exc.message), slug="forbidden")
    status = exc.status_code
    errors = [] if status == 400 else None
    return problem_response(status, str(exc.message), errors=errors)


def _problem(request: HttpRequest, exc: Problem) -> HttpResponse:
    return problem_response(exc.status, exc.detail, slug=exc.slug, title=exc.title,
                            errors=exc.errors, headers=exc.headers, **exc.extra)


def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(404, "No such resource in your organization.", slug="not-found")


def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(403, str(exc) or "Not allowed.", slug="forbidden")


def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API request failed: %s %s", request.method, request.path)
    return problem_response(500, "Something went wrong on our side; it has been logged.")


def install(api) -> None:
    """Answer every error of ``api`` as a problem detail."""
    api.add_exception_handler(ValidationError, validation)
    api.add_exception_handler(DjangoValidationError, _django_validation)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Problem, _problem)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(PermissionDenied, _forbidden)
    api.add_exception_handler(Exception, _server_error)


@csrf_exempt  # it changes nothing; an unsafe method is answered 404 like any other
def not_found_view(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /api/v1/."""
    return problem_response(404, "There is no such endpoint; see /api/v1/docs.",
                            slug="not-found")
