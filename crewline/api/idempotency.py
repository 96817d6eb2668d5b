"""``Idempotency-Key`` on every POST and PATCH: a write made with a key is answered once and
that answer (status, headers, body) is replayed for the same key from the same caller for 24 h
(``KEEP``), with ``Idempotent-Replayed: true``. The same key with another method, path or body
is a 422. Only a write that was made is kept (2xx): a refused request (400, 403, 404, 409, 412,
422, 429, 500) changed nothing, and may be sent again with the same key once it is put right.

The record is inserted at the start of the write's transaction and filled in at its end, so
the write and its record commit together or not at all: a retry of a write whose answer was
lost finds the record, and two requests racing with one key are one write (on PostgreSQL the
second waits on the key's unique index until the first commits, then replays it).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja.utils import contribute_operation_callback

from crewline.api.models import IdempotentRequest
from crewline.api.problems import Problem

HEADER = "Idempotency-Key"
KEEP = dt.timedelta(hours=24)
MAX_KEY = 255
# Answer headers replayed with the body.
KEPT_HEADERS = ("Content-Type", "Location", "ETag")
# Expired records are deleted by the write that makes every PRUNE_EVERY-th record.
PRUNE_EVERY = 100


def principal_label(principal) -> str:
    if principal.api_key is not None:
        return f"key:{principal.api_key.pk}"
    return f"member:{principal.member.pk}"


def fingerprint(request: HttpRequest) -> str:
    """The method, path and body, canonically: JSON by its content (key order and spacing do
    not matter), a form by its fields and its files' names and contents."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    content_type = request.content_type or ""
    if content_type.startswith("multipart/form-data"):
        fields = sorted((k, v) for k in request.POST for v in request.POST.getlist(k))
        files = []
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                content = hashlib.sha256()
                for chunk in upload.chunks():
                    content.update(chunk)
                upload.seek(0)
                files.append((name, upload.name, content.hexdigest()))
        digest.update(json.dumps([fields, files]).encode())
    else:
        try:
            digest.update(json.dumps(json.loads(request.body or b"null"), sort_keys=True,
                                     separators=(",", ":")).encode())
        except (ValueError, UnicodeDecodeError):
            digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status)
    for name, value in record.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    response["Cache-Control"] = "private, no-store"
    return response


def _mismatch(record: IdempotentRequest) -> Problem:
    return Problem(422, "idempotency-key-reused",
                   f"This Idempotency-Key was used for another request ({record.method} "
                   f"{record.path} with another body) in the last 24 hours; use a new key "
                   "for a new request.", title="Idempotency key reused",
                   errors=[{"field": HEADER, "message": "Used for another request.",
                            "code": "reused"}])


def begin(request: HttpRequest) -> HttpResponse | None:
    """In the write's transaction: the stored answer for the request's key, or None after
    claiming the key for this request (``finish`` fills it in)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        raise Problem(400, "invalid-idempotency-key",
                      f"An Idempotency-Key is 1 to {MAX_KEY} printable ASCII characters "
                      "(a UUID is a good one).", title="Invalid idempotency key",
                      errors=[{"field": HEADER, "message": "Not a valid key.",
                               "code": "invalid"}])
    principal = request.auth
    label = principal_label(principal)
    now = timezone.now()
    record = IdempotentRequest(organization=principal.organization, principal=label, key=key,
                               fingerprint=fingerprint(request), method=request.method,
                               path=request.path[:500], created_at=now)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                record.save(force_insert=True)
        except IntegrityError:
            found = IdempotentRequest.objects.filter(principal=label, key=key).first()
            if found is None:
                continue  # it was pruned meanwhile
            if found.created_at <= now - KEEP:
                found.delete()
                continue
            if found.fingerprint != record.fingerprint:
                raise _mismatch(found) from None
            return _replay(found)
        else:
            request._idempotent_record = record
            if record.pk % PRUNE_EVERY == 0:
                IdempotentRequest.objects.filter(created_at__lte=now - KEEP).delete()
            return None
    raise Problem(409, "idempotency-conflict", "Another request with this Idempotency-Key "
                  "is being made; try again.", title="Conflict")


def finish(request: HttpRequest, response: HttpResponse) -> None:
    """Keep the answer of a write made under a key; undo the claim of one that was refused."""
    record: IdempotentRequest | None = getattr(request, "_idempotent_record", None)
    if record is None:
        return
    if not 200 <= response.status_code < 300:
        transaction.set_rollback(True)
        return
    record.status = response.status_code
    record.headers = {h: response[h] for h in KEPT_HEADERS if h in response}
    record.body = response.content
    record.save(update_fields=["status", "headers", "body"])


def idempotent(view: Callable) -> Callable:
    """Put under ``@api.post``/``@api.patch``: the view runs, with its answer, in one
    transaction that holds the request's idempotency record."""

    @functools.wraps(view)
    def claimed(request, *args, **kwargs):
        replay = begin(request)
        if replay is not None:
            return replay
        return view(request, *args, **kwargs)

    # Ninja reads the parameters' types from the signature, in the view's own module.
    claimed.__signature__ = inspect.signature(view, eval_str=True)

    def around_run(run):
        @functools.wraps(run)
        def wrapper(request, *args, **kwargs):
            if HEADER not in request.headers:
                return run(request, *args, **kwargs)
            with transaction.atomic():
                response = run(request, *args, **kwargs)
                finish(request, response)
            return response

        return wrapper

    def install(operation) -> None:
        operation.run = around_run(operation.run)
        if not hasattr(operation, "_run_decorators"):
            operation._run_decorators = []
        operation._run_decorators.append(around_run)

    contribute_operation_callback(claimed, install)
    return claimed
