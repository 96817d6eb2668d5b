"""The page a customer opens from the quote email: read the quote, tick optional lines, approve
with name and drawn signature, or decline with a reason. No account: the token is the key, and
an unknown, replaced, answered or expired link says so plainly."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from crewline.billing import services
from crewline.billing.forms import ApproveForm, DeclineForm
from crewline.billing.models import Quote, QuoteStatus
from crewline.billing.money import ROUNDING_RULE, Totals
from crewline.billing.selectors import quote_totals_for_choice
from crewline.core.forms import errors_to_form


@never_cache
@csrf_protect
def quote_public(request: HttpRequest, token: str) -> HttpResponse:
    quote = services.quote_for_token(token)
    if quote is None:
        return render(request, "billing/public_quote.html", {"state": "unknown"}, status=404)
    return quote_page(request, quote,
                      page_url=reverse("billing_public:quote", kwargs={"token": token}),
                      pdf_url=reverse("billing_public:quote_pdf", kwargs={"token": token}))


def quote_page(request: HttpRequest, quote: Quote, *, page_url: str, pdf_url: str,
               back_url: str = "") -> HttpResponse:
    """The customer's page of ``quote``, which the caller has found from a link it trusts (the
    quote's own, or the customer's portal link): read it, approve it or decline it. Its forms
    post back to ``page_url``, the page's own address as the caller reversed it (never the
    request's path, which a crafted address could turn into another site's); ``back_url`` leads
    to where the customer came from.
    """
    # The customer has no account: the page speaks in the company's time zone (the approval
    # time, the day a quote expires), as its emails and PDFs do.
    timezone.activate(quote.organization.tzinfo)
    # ... and in the customer's language, whatever the browser asks for.
    translation.activate(quote.customer.language_code)
    request.LANGUAGE_CODE = translation.get_language()
    if quote.is_expired:
        quote = services.quote_expire(quote=quote)
    approve_form = ApproveForm(prefix="approve")
    decline_form = DeclineForm(prefix="decline")
    status = 200
    if request.method == "POST" and quote.status == QuoteStatus.SENT:
        action = request.POST.get("action")
        if action == "approve":
            approve_form = ApproveForm(request.POST, prefix="approve")
            if approve_form.is_valid():
                try:
                    services.quote_approve(
                        quote=quote, name=approve_form.cleaned_data["name"],
                        signature_png=approve_form.cleaned_data["signature"],
                        selected_optional_ids=[
                            int(v) for v in request.POST.getlist("optional") if v.isdigit()])
                except ValidationError as exc:
                    errors_to_form(approve_form, exc)
                else:
                    return redirect(page_url)
            status = 400
        elif action == "decline":
            decline_form = DeclineForm(request.POST, prefix="decline")
            if decline_form.is_valid():
                try:
                    services.quote_decline(quote=quote,
                                           reason=decline_form.cleaned_data["reason"])
                except ValidationError as exc:
                    errors_to_form(decline_form, exc)
                else:
                    return redirect(page_url)
            status = 400
    quote.refresh_from_db()
    lines = list(quote.lines.all())
    chosen = {int(v) for v in request.POST.getlist("optional") if v.isdigit()}
    required_lines = [line for line in lines if not line.is_optional]
    if quote.status == QuoteStatus.SENT:
        shown = quote_totals_for_choice(lines, chosen)
    else:
        shown = Totals(subtotal=quote.subtotal, tax=quote.tax_total)
    base = quote_totals_for_choice(required_lines, ())
    state = {QuoteStatus.SENT: "open", QuoteStatus.APPROVED: "approved",
             QuoteStatus.CONVERTED: "approved", QuoteStatus.DECLINED: "declined",
             QuoteStatus.EXPIRED: "expired"}.get(quote.status, "unknown")
    return render(request, "billing/public_quote.html", {
        "state": state, "quote": quote, "organization_public": quote.organization,
        "lines": lines, "required_lines": required_lines,
        "optional_lines": [line for line in lines if line.is_optional],
        "approve_form": approve_form, "decline_form": decline_form, "pdf_url": pdf_url,
        "back_url": back_url,
        "rounding_rule": _(ROUNDING_RULE),
        "chosen": chosen, "shown": shown, "base": base,
        "decimal_separator": get_format("DECIMAL_SEPARATOR"),
    }, status=status)


@never_cache
def quote_public_pdf(request: HttpRequest, token: str) -> HttpResponse:
    from crewline.billing.pdf import quote_pdf

    quote = services.quote_for_token(token)
    if quote is None:
        return render(request, "billing/public_quote.html", {"state": "unknown"}, status=404)
    response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.reference}.pdf"'
    return response
