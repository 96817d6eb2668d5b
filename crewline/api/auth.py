"""Who is calling: an API key (bearer) acting as its organization within its scopes, or a
logged-in member of the office acting as their role allows (CSRF checked for writes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from crewline.api import services
from crewline.api.models import GROUPS, SCOPES, ApiKey
from crewline.api.problems import Problem
from crewline.core.models import Member, Organization, Role

# What a member's session may do through the API: the office what its pages let it do; the
# owner everything; technicians work from the phone app.
ROLE_SCOPES = {
    Role.OWNER: frozenset(SCOPES),
    Role.OFFICE: frozenset({*(f"{v}:{g}" for g in GROUPS if g != "team"
                              for v in ("read", "write")), "read:team"}),
    Role.TECHNICIAN: frozenset(),
}


@dataclass(frozen=True)
class Principal:
    organization: Organization
    scopes: frozenset[str]
    api_key: ApiKey | None = None
    member: Member | None = None
    label: str = field(default="")

    def allows(self, scope: str) -> bool:
        """A write scope includes reading the same group."""
        if scope in self.scopes:
            return True
        verb, _, group = scope.partition(":")
        return verb == "read" and f"write:{group}" in self.scopes


def need(request: HttpRequest, scope: str) -> Principal:
    """The caller, if it holds ``scope``; else 403. A key's use of a write scope is audited by
    the write (``services.api_key_write_used``)."""
    principal: Principal = request.auth
    if not principal.allows(scope):
        raise Problem(403, "missing-scope", f"This needs the scope {scope}.",
                      title="Missing scope", scope=scope)
    return principal


class BearerKey(HttpBearer):
    """``Authorization: Bearer cl_<prefix>_<secret>``. A header that is there but wrong is a
    401 at once (no falling back to the session)."""

    def __call__(self, request: HttpRequest):
        value = request.headers.get("Authorization")
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError()
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str):
        key = services.api_key_authenticate(token)
        if key is None:
            raise AuthenticationError()
        timezone.activate(key.organization.tzinfo)
        return Principal(organization=key.organization, scopes=frozenset(key.scopes),
                         api_key=key, label=f"key {key.prefix}")


class OfficeSession(APIKeyCookie):
    """The office's own browser: Django's session cookie, with CSRF for unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest):
        if request.headers.get("Authorization"):
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None):
        member = getattr(request, "member", None)
        if not request.user.is_authenticated or member is None:
            return None
        return Principal(organization=member.organization,
                         scopes=ROLE_SCOPES.get(member.role, frozenset()), member=member,
                         label=f"member {member.pk}")
