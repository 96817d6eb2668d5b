"""Writes to API keys: making one (its secret shown once), revoking it, marking its use.

Each is audited in the transaction of the change (``crewline.core.audit.audit_record``); so is
every request that uses a key's write scope (``api_key_write_used``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.api.models import SCOPES, ApiKey
from crewline.core.audit import audit_record
from crewline.core.models import Member, Organization

KEY_PREFIX = "cl_"
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
MAX_RATE_LIMIT = 100_000


def _check_rate_limit(rate_limit: int | None) -> list[str]:
    if rate_limit is not None and not 1 <= rate_limit <= MAX_RATE_LIMIT:
        return [_("Between 1 and %(most)s requests a minute.") % {"most": MAX_RATE_LIMIT}]
    return []


def api_key_create(*, organization: Organization, by: Member | None, name: str,
                   scopes: Iterable[str], expires_at: dt.datetime | None = None,
                   rate_limit: int | None = None) -> tuple[ApiKey, str]:
    """Make a key for ``organization``; returns it and the full key, which is never stored
    and cannot be shown again."""
    if by is not None and by.organization_id != organization.pk:
        raise ValidationError(_("You are not a member of this organization."))
    name = (name or "").strip()
    wanted = list(dict.fromkeys(scopes))
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the key a name, e.g. the system that will use it.")]
    elif len(name) > 100:
        errors["name"] = [_("At most 100 characters.")]
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        errors["scopes"] = [_("Unknown scopes: %(scopes)s") % {"scopes": ", ".join(unknown)}]
    elif not wanted:
        errors["scopes"] = [_("Choose at least one scope.")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("The expiry must be in the future.")]
    if _check_rate_limit(rate_limit):
        errors["rate_limit"] = _check_rate_limit(rate_limit)
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(organization=organization, name=name, prefix=prefix,
                 hash=ApiKey.hash_secret(secret), scopes=[s for s in SCOPES if s in wanted],
                 expires_at=expires_at, created_by=by, rate_limit=rate_limit)
    with transaction.atomic():
        key.save(force_insert=True)
        audit_record(organization=organization, actor=by, action="api_key.create", obj=key,
                     changes={"name": [None, key.name], "scopes": [None, key.scopes],
                              "expires_at": [None, expires_at],
                              "rate_limit": [None, rate_limit]})
    return key, f"{KEY_PREFIX}{prefix}_{secret}"


def api_key_revoke(*, api_key: ApiKey, by: Member | None) -> ApiKey:
    """Revoke the key at once; a revoked key is refused (401) from its next request on."""
    if by is not None and by.organization_id != api_key.organization_id:
        raise ValidationError(_("You are not a member of this organization."))
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update(no_key=True).get(pk=api_key.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(organization=locked.organization, actor=by, action="api_key.revoke",
                     obj=locked, changes={"revoked_at": [None, locked.revoked_at]})
    api_key.revoked_at = locked.revoked_at
    return locked


def api_key_rate_limit_set(*, api_key: ApiKey, by: Member | None, rate_limit: int | None
                           ) -> ApiKey:
    """Give the key its own limit of requests a minute (None: the default, API_RATE_LIMIT)."""
    if by is not None and by.organization_id != api_key.organization_id:
        raise ValidationError(_("You are not a member of this organization."))
    errors = _check_rate_limit(rate_limit)
    if errors:
        raise ValidationError({"rate_limit": errors})
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update(no_key=True).get(pk=api_key.pk)
        if locked.rate_limit == rate_limit:
            return locked
        before = locked.rate_limit
        locked.rate_limit = rate_limit
        locked.save(update_fields=["rate_limit"])
        audit_record(organization=locked.organization, actor=by, action="api_key.rate_limit",
                     obj=locked, changes={"rate_limit": [before, rate_limit]})
    api_key.rate_limit = rate_limit
    return locked


def api_key_authenticate(token: str, *, now: dt.datetime | None = None) -> ApiKey | None:
    """The usable key that ``token`` (``cl_<prefix>_<secret>``) is, or None. Marks its last
    use (at most once a minute)."""
    if not token.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = token[len(KEY_PREFIX):].partition("_")
    if not sep or not secret or len(prefix) != 12:
        return None
    key = ApiKey.objects.select_related("organization").filter(prefix=prefix).first()
    if key is None or not secrets.compare_digest(key.hash, ApiKey.hash_secret(secret)):
        return None
    now = now or timezone.now()
    if not key.is_usable(now):
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_key_write_used(*, api_key: ApiKey, scope: str, method: str, path: str) -> None:
    """Audit a request that used ``api_key``'s write ``scope``; call inside the write's
    transaction."""
    audit_record(organization=api_key.organization, actor=None, action="api_key.write",
                 obj=api_key, changes={"scope": [None, scope],
                                       "request": [None, f"{method} {path}"]})
