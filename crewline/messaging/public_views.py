"""Pages and hooks for no one signed in: the customer's feedback page (opened from the
feedback request, a portal link: another customer's job, a tampered, expired or revoked link
are a 404; a GET changes nothing) and the SMS provider's callbacks (signed by the provider;
a bad signature is a 403)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from crewline.core.forms import errors_to_form
from crewline.messaging import services
from crewline.messaging.forms import FeedbackForm
from crewline.messaging.models import Feedback
from crewline.messaging.sms import sms_provider
from crewline.portal.models import PortalLink
from crewline.portal.public_views import portal_view


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
@portal_view
def feedback(request: HttpRequest, link: PortalLink, token: str, number: int) -> HttpResponse:
    from crewline.workorders.models import Status, WorkOrder

    wo = (WorkOrder.objects.filter(organization_id=link.organization_id,
                                   customer_id=link.customer_id, number=number,
                                   status__in=[Status.COMPLETED, Status.INVOICED])
          .select_related("site").first())
    if wo is None:
        raise Http404("No such job.")
    given = Feedback.objects.filter(organization_id=link.organization_id,
                                    work_order=wo).first()
    form = FeedbackForm(request.POST or None)
    status = 200
    if request.method == "POST" and given is None:
        if form.is_valid():
            try:
                given = services.feedback_submit(work_order=wo, customer=link.customer,
                                                 rating=form.cleaned_data["rating"],
                                                 comment=form.cleaned_data["comment"])
            except ValidationError as exc:
                errors_to_form(form, exc)
                status = 400
        else:
            status = 400
    return render(request, "messaging/feedback.html", {
        "wo": wo, "form": form, "given": given, "token": token,
        "organization_public": link.organization, "customer": link.customer,
    }, status=status)


def _signed(request: HttpRequest) -> bool:
    provider = sms_provider()
    if provider is None:
        raise Http404("Text messages are not set up.")
    url = settings.SITE_URL + request.get_full_path()
    return provider.signature_valid(url=url, params=request.POST.dict(),
                                    signature=request.headers.get("X-Twilio-Signature", ""))


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for a text we sent: delivered, undelivered, failed."""
    if not _signed(request):
        return HttpResponseForbidden("Bad signature.")
    services.message_status_update(provider_id=request.POST.get("MessageSid", ""),
                                   status=request.POST.get("MessageStatus", ""),
                                   error_code=request.POST.get("ErrorCode", ""))
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """A text to our number: STOP/START, or a reply for the office."""
    if not _signed(request):
        return HttpResponseForbidden("Bad signature.")
    services.sms_inbound(sender=request.POST.get("From", ""),
                         body=request.POST.get("Body", "")[:1600])
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
