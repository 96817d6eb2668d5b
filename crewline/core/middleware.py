from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from crewline.core.audit import RequestInfo, reset_request_info, set_request_info
from crewline.core.models import Member

SESSION_ORG_KEY = "crewline_org_id"


def client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy, django-axes' ipware settings already decide which header to trust.
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR") or None


class MemberMiddleware:
    """Sets ``request.member`` and ``request.organization``, the organization's time zone and
    the member's language, and the request details the audit log records."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.member = None
        request.organization = None
        if request.user.is_authenticated:
            memberships = (Member.objects.select_related("organization", "user")
                           .filter(user=request.user, is_active=True)
                           .order_by("created_at", "id"))
            wanted = request.session.get(SESSION_ORG_KEY)
            member = None
            if wanted is not None:
                member = memberships.filter(organization_id=wanted).first()
            if member is None:
                member = memberships.first()
            if member is not None:
                request.member = member
                request.organization = member.organization
                timezone.activate(member.organization.tzinfo)
                if member.language:
                    translation.activate(member.language)
                    request.LANGUAGE_CODE = member.language
        token = set_request_info(RequestInfo(
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        ))
        try:
            response = self.get_response(request)
        finally:
            reset_request_info(token)
            timezone.deactivate()
        return response
