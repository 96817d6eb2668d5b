from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

from crewline.core.audit import RequestInfo, reset_request_info, set_request_info
from crewline.core.models import Member
from crewline.core.services import member_last_language_record

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
                else:
                    # LocaleMiddleware chose it from the browser: what their emails follow.
                    member_last_language_record(member=member,
                                                language=translation.get_language())
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


class CompressionMiddleware(GZipMiddleware):
    """Django's gzip compression (with its BREACH mitigation: random bytes in each response's
    gzip header, and CSRF tokens masked anew per response), except for Server-Sent Events:
    gzip holds a streamed event in its buffer until more follows, so a live page would wait
    for its changes."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.get("Content-Type", "").startswith("text/event-stream"):
            return response
        return super().process_response(request, response)


class PrivatePagesMiddleware:
    """``Cache-Control: private, no-store`` on every answer to a logged-in member that does not
    say otherwise, so that no proxy and no shared computer's browser cache keeps a customer's
    details, and the back button after logging out shows nothing. Files that may be kept a
    while (photos, the logo) set their own ``private, max-age``; documents (job reports) do
    not."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
