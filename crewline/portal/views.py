"""The office's side of the portal: on the customer's page, send the customer a link to their
portal and revoke every link in one click; on a work order from the request form, confirm the
customer it was matched to."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crewline.core.access import get_for_org_or_404, office_required
from crewline.customers.selectors import customer_for_member
from crewline.portal import services
from crewline.portal.models import WorkRequest


def _back(pk: int) -> HttpResponse:
    return redirect(reverse("customers:detail", args=[pk]) + "#portal")


@office_required
@require_POST
def link_send(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for_member(request.member, pk)
    try:
        to = services.portal_link_send(customer=customer, by=request.member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("A link to their page is on its way to %(to)s.")
                         % {"to": to})
    return _back(customer.pk)


@office_required
@require_POST
def links_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for_member(request.member, pk)
    count = services.portal_links_revoke(customer=customer, by=request.member)
    if count:
        messages.success(request, ngettext("%(n)d link to the portal no longer works.",
                                           "%(n)d links to the portal no longer work.", count)
                         % {"n": count})
    else:
        messages.info(request, _("No link to the portal was working."))
    return _back(customer.pk)


@office_required
@require_POST
def request_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    work_request = get_for_org_or_404(WorkRequest.objects.select_related("work_order"),
                                      request.organization, pk=pk)
    services.work_request_confirm(request=work_request, by=request.member)
    messages.success(request, _("Customer confirmed."))
    return redirect(reverse("workorders:detail", args=[work_request.work_order.number])
                    + "#work-request")


def _work_order_back(number: int) -> HttpResponse:
    return redirect(reverse("workorders:detail", args=[number]) + "#offer-times")


@office_required
@require_POST
def windows_offer(request: HttpRequest, number: int) -> HttpResponse:
    """Offer the customer up to three times to choose from in their portal."""
    from crewline.portal.forms import WindowOfferForm
    from crewline.workorders.selectors import work_order_for_member

    wo = work_order_for_member(request.member, number)
    form = WindowOfferForm(request.POST, organization=request.organization,
                           tz=request.organization.tzinfo)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return _work_order_back(wo.number)
    try:
        offers = services.window_offers_make(work_order=wo, by=request.member,
                                             windows=form.cleaned_data["windows"],
                                             crew=form.cleaned_data["crew"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, ngettext(
            "%(n)d time offered: the customer chooses it in their portal.",
            "%(n)d times offered: the customer chooses one in their portal.", len(offers))
            % {"n": len(offers)})
    return _work_order_back(wo.number)


@office_required
@require_POST
def windows_withdraw(request: HttpRequest, number: int) -> HttpResponse:
    from crewline.workorders.selectors import work_order_for_member

    wo = work_order_for_member(request.member, number)
    if services.window_offers_withdraw(work_order=wo, by=request.member):
        messages.success(request, _("The times offered were withdrawn."))
    return _work_order_back(wo.number)
