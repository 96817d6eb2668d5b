"""The office's pages: the organization's messaging settings (the owner's) and one message as
it was sent (the office's)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crewline.core.access import get_for_org_or_404, office_required, owner_required
from crewline.core.forms import errors_to_form
from crewline.messaging.forms import MessagingSettingsForm
from crewline.messaging.models import Message
from crewline.messaging.services import messaging_settings, messaging_settings_update
from crewline.messaging.sms import sms_configured


@owner_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    current = messaging_settings(request.organization)
    form = MessagingSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            messaging_settings_update(organization=request.organization, by=request.member,
                                      values={k: form.cleaned_data[k] for k in form.fields})
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Message settings saved."))
            return redirect("messaging:settings")
    return render(request, "messaging/settings.html", {
        "form": form, "tab": "messages", "sms_on": sms_configured(),
        "inbound_url": settings.SITE_URL + reverse("messaging_hooks:twilio_inbound"),
        "organization": request.organization,
    }, status=400 if request.method == "POST" else 200)


@office_required
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_for_org_or_404(Message.objects.select_related("work_order", "customer",
                                                                 "visit"),
                                 request.organization, pk=pk)
    return render(request, "messaging/detail.html", {"message": message})
