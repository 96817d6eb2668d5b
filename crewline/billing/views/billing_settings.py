"""The billing settings page: settings, the default labor rate, Xero tax types and
members' rates.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crewline.billing import selectors, services
from crewline.billing.forms import (
    BillingSettingsForm,
    DefaultLaborRateForm,
    RateForm,
    XeroTaxTypesForm,
)
from crewline.billing.models import MemberRate
from crewline.billing.views.common import _context
from crewline.core.access import get_for_org_or_404, office_required
from crewline.core.forms import errors_to_form
from crewline.core.models import Member
from crewline.core.redirects import next_url


def _settings_page(request: HttpRequest, *, form=None, labor_form=None, tax_form=None,
                   status: int = 200) -> HttpResponse:
    org = request.organization
    settings = services.billing_settings_for(org)
    labor_item = services.labor_item_for(org, request.member)
    members = list(Member.objects.filter(organization=org, is_active=True)
                   .select_related("user").order_by("user__full_name"))
    rates = dict(MemberRate.objects.filter(organization=org)
                 .values_list("member_id", "hourly_rate"))
    for member in members:
        member.rate = rates.get(member.pk)
    return render(request, "billing/settings.html", _context(
        request, "settings", form=form or BillingSettingsForm(instance=settings),
        labor_form=labor_form or DefaultLaborRateForm(
            initial={"hourly_rate": labor_item.unit_price.quantize(Decimal("0.01"))
                     if labor_item.unit_price else None}),
        tax_form=tax_form or XeroTaxTypesForm(rates=selectors.tax_rates_in_use(org),
                                              tax_types=settings.xero_tax_types),
        members=members, labor_item=labor_item, currency=org.currency,
        labor_rate_set=services.labor_rate_is_set(org)), status=status)


@office_required
def billing_settings(request: HttpRequest) -> HttpResponse:
    org = request.organization
    if request.method != "POST":
        return _settings_page(request)
    if not request.member.is_owner:
        messages.error(request, _("Only the owner can change billing settings."))
        return redirect("billing:settings")
    form = BillingSettingsForm(request.POST, instance=services.billing_settings_for(org))
    if form.is_valid():
        try:
            services.billing_settings_update(organization=org, by=request.member,
                                             **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Billing settings saved."))
            return redirect("billing:settings")
    return _settings_page(request, form=form, status=400)


@office_required
@require_POST
def default_labor_rate(request: HttpRequest) -> HttpResponse:
    form = DefaultLaborRateForm(request.POST)
    if form.is_valid():
        try:
            services.default_labor_rate_set(organization=request.organization,
                                            hourly_rate=form.cleaned_data["hourly_rate"],
                                            by=request.member)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Default labor rate saved."))
            return redirect(next_url(request, reverse("billing:settings") + "#labor-rates"))
    return _settings_page(request, labor_form=form, status=400)


@office_required
@require_POST
def xero_tax_types(request: HttpRequest) -> HttpResponse:
    """The name of each tax rate in the organization's Xero. The office may set them, as it
    sets the default labor rate: the bookkeeper who exports knows the names in Xero, they
    change no amount on any invoice, and the Xero export cannot run without them."""
    org = request.organization
    settings = services.billing_settings_for(org)
    form = XeroTaxTypesForm(request.POST, rates=selectors.tax_rates_in_use(org),
                            tax_types=settings.xero_tax_types)
    if form.is_valid():
        try:
            services.billing_settings_update(organization=org, by=request.member,
                                             xero_tax_types=form.tax_types())
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Xero tax types saved."))
            return redirect(reverse("billing:settings") + "#xero-tax-types")
    return _settings_page(request, tax_form=form, status=400)


@office_required
@require_POST
def member_rate(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_for_org_or_404(Member, request.organization, pk=pk)
    form = RateForm(request.POST)
    if form.is_valid():
        services.member_rate_set(member=member, hourly_rate=form.cleaned_data["hourly_rate"],
                                 by=request.member)
        messages.success(request, _("Rate for %(name)s saved.") % {"name": member.name})
    else:
        messages.error(request, _("Enter a rate of zero or more, or leave it empty."))
    return redirect("billing:settings")
