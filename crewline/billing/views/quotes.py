"""Quote pages: the list, the form, the quote and its actions.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crewline.billing import selectors, services
from crewline.billing.forms import QuoteForm, QuoteLineForm, SendForm
from crewline.billing.models import QuoteLine, QuoteStatus
from crewline.billing.views.common import (
    _context,
    _Document,
    _filtered_list,
    _line_add,
    _line_remove,
    _pdf,
    _send,
)
from crewline.core.access import get_for_org_or_404, office_required
from crewline.core.forms import errors_to_form


@office_required
def quote_list(request: HttpRequest) -> HttpResponse:
    context = _filtered_list(request, "quotes", QuoteStatus, selectors.quotes)
    if request.htmx:
        return render(request, "billing/_quote_rows.html", context)
    return render(request, "billing/quote_list.html", context)


@office_required
def quote_create(request: HttpRequest) -> HttpResponse:
    org = request.organization
    initial = {}
    if request.GET.get("customer", "").isdigit():
        initial["customer"] = request.GET["customer"]
    form = QuoteForm(request.POST or None, organization=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(organization=org, by=request.member,
                                          **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return redirect("billing:quote", pk=quote.pk)
    return render(request, "billing/quote_form.html", _context(
        request, "quotes", form=form, title=_("New quote"),
        cancel_url=reverse("billing:quotes")))


@office_required
def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.organization
    quote = get_for_org_or_404(selectors.quote_detail(org), org, pk=pk)
    if not quote.is_editable:
        messages.error(request, _("This quote can no longer be changed."))
        return redirect("billing:quote", pk=quote.pk)
    form = QuoteForm(request.POST or None, instance=quote, organization=org)
    if request.method == "POST" and form.is_valid():
        try:
            services.quote_update(quote=quote, by=request.member, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return redirect("billing:quote", pk=quote.pk)
    return render(request, "billing/quote_form.html", _context(
        request, "quotes", form=form, title=_("Edit %(ref)s") % {"ref": quote.reference},
        cancel_url=reverse("billing:quote", args=[quote.pk])))


def _quote_context(request: HttpRequest, quote, *, line_form=None) -> dict:
    org = request.organization
    return _context(
        request, "quotes", quote=quote, lines=list(quote.lines.all()),
        editable=quote.is_editable,
        line_form=line_form or QuoteLineForm(organization=org, prefix="line"),
        send_form=SendForm(initial={"to": quote.sent_to or quote.customer.email}))


def _quote_page(request: HttpRequest, quote, *, line_form=None, status: int = 200
                ) -> HttpResponse:
    context = _quote_context(request, quote, line_form=line_form)
    if request.htmx and line_form is not None:
        return render(request, "billing/_quote_lines.html", context, status=status)
    return render(request, "billing/quote_detail.html", context, status=status)


@office_required
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.organization
    quote = get_for_org_or_404(selectors.quote_detail(org), org, pk=pk)
    if quote.is_expired:
        quote = services.quote_expire(quote=quote)
        quote = selectors.quote_detail(org).get(pk=quote.pk)
    return _quote_page(request, quote)


@office_required
@require_GET
def quote_live_parts(request: HttpRequest, pk: int) -> HttpResponse:
    """The quote page's parts a change of the quote touches (``what=quote``: its status, from
    the office or the customer's answer), each rendered alone by the partial the page includes,
    for ``live.js`` to swap by id."""
    org = request.organization
    quote = get_for_org_or_404(selectors.quote_detail(org), org, pk=pk)
    if request.GET.get("what") != "quote":
        raise Http404("Nothing of the page changed.")
    context = _quote_context(request, quote)
    return HttpResponse("".join(
        render_to_string(f"billing/{name}.html", context, request=request)
        for name in ("_quote_head", "_quote_lines", "_quote_side")))


@office_required
def quote_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _pdf(request, pk, QUOTE)


@office_required
@require_POST
def quote_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _line_add(request, pk, QUOTE)


@office_required
@require_POST
def quote_line_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _line_remove(request, pk, QUOTE)


@office_required
@require_POST
def quote_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _send(request, pk, QUOTE, _("The quote is on its way to %(to)s."))


@office_required
@require_POST
def quote_convert(request: HttpRequest, pk: int) -> HttpResponse:
    quote = get_for_org_or_404(selectors.quote_detail(request.organization),
                               request.organization, pk=pk)
    try:
        work_order = services.quote_convert(quote=quote, by=request.member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("billing:quote", pk=quote.pk)
    messages.success(request, _("Work order %(ref)s raised from %(quote)s.")
                     % {"ref": work_order.reference, "quote": quote.reference})
    return redirect("workorders:detail", number=work_order.number)



QUOTE = _Document("quote", selectors.quote_detail, QuoteLine, QuoteLineForm, _quote_page)
