"""Who may see prices: office staff always; technicians only where the organization allows it
(``BillingSettings.technicians_see_prices``). Everyone else gets a 403."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from crewline.billing.services import billing_settings_for
from crewline.core.models import Member


def member_sees_prices(member: Member) -> bool:
    if member.is_office:
        return True
    return billing_settings_for(member.organization).technicians_see_prices


def prices_required(view):
    """Like ``member_required``, and a technician needs the organization's permission."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        member = getattr(request, "member", None)
        if member is None:
            raise PermissionDenied("You are not a member of any organization.")
        if not member_sees_prices(member):
            raise PermissionDenied("Your organization does not show prices to technicians.")
        return view(request, *args, **kwargs)

    wrapper.access = "member"
    return wrapper
