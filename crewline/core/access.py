"""Who may open what: role decorators and organization-scoped lookups.

Another organization's object is always a 404, never a 403 that would confirm it exists.
A role that may not act gets a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse

from crewline.core.models import Member, Organization

M = TypeVar("M", bound=models.Model)
View = Callable[..., HttpResponse]


def role_required(check: Callable[[Member], bool], level: str,
                  refusal: str = "Your role does not allow this.") -> Callable[[View], View]:
    """A decorator that lets a view run for a logged-in member passing ``check``.

    ``level`` ("member", "office" or "owner") says who may open the view in principle; the tests
    that walk every URL read it.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            member = getattr(request, "member", None)
            if member is None:
                raise PermissionDenied("You are not a member of any organization.")
            if not check(member):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        # Who may open the view, for tests that walk every URL (crewline/core/tests).
        wrapper.access = level
        return wrapper

    return decorator


member_required = role_required(lambda m: True, "member")
office_required = role_required(lambda m: m.is_office, "office")
owner_required = role_required(lambda m: m.is_owner, "owner")


def get_for_org_or_404(queryset: models.QuerySet[M] | type[M], organization: Organization,
                       **lookup) -> M:
    """The object matching ``lookup`` within ``organization``, or 404."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    try:
        return queryset.get(organization=organization, **lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404(f"No {queryset.model._meta.verbose_name} found.") from exc
