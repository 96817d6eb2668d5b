"""What the billing pages share: paging, the page context, filtered lists, and the line,
PDF and sending views that invoices and quotes handle alike (``_Document``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from crewline.billing import services
from crewline.billing.forms import SendForm
from crewline.billing.money import ROUNDING_RULE
from crewline.core.access import get_for_org_or_404
from crewline.core.forms import errors_to_form

PER_PAGE = 50


def _page(request: HttpRequest, queryset) -> Any:
    return Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))


def _context(request: HttpRequest, tab: str, **extra: Any) -> dict[str, Any]:
    return {"nav": "billing", "tab": tab, "rounding_rule": _(ROUNDING_RULE),
            "can_edit": request.member.is_office, **extra}


def _filtered_list(request: HttpRequest, tab: str, statuses, rows) -> dict[str, Any]:
    """The context of a list filtered by ``?status=`` (one of ``statuses``) and ``?q=``."""
    status = request.GET.get("status", "")
    if status not in statuses.values:
        status = ""
    q = request.GET.get("q", "").strip()[:100]
    page = _page(request, rows(request.organization, status=status, q=q))
    return _context(request, tab, page=page, filters={"status": status, "q": q},
                    statuses=statuses.choices)



@dataclass(frozen=True)
class _Document:
    """What differs between invoice and quote pages that handle lines and sending: ``name``
    is the services' prefix (``invoice_line_add``...), the line's foreign key and the URL."""

    name: str
    detail: Callable[[Any], Any]
    line_model: type
    line_form: type
    page: Callable[..., HttpResponse]

    def service(self, verb: str) -> Callable[..., Any]:
        return getattr(services, f"{self.name}_{verb}")



def _pdf(request: HttpRequest, pk: int, kind: _Document) -> HttpResponse:
    from crewline.billing import pdf

    document = get_for_org_or_404(kind.detail(request.organization), request.organization,
                                  pk=pk)
    render_pdf = getattr(pdf, f"{kind.name}_pdf")
    response = HttpResponse(render_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.reference}.pdf"'
    return response


def _line_add(request: HttpRequest, pk: int, kind: _Document) -> HttpResponse:
    org = request.organization
    document = get_for_org_or_404(kind.detail(org), org, pk=pk)
    form = kind.line_form(request.POST, organization=org, prefix="line")
    if form.is_valid():
        try:
            kind.service("line_add")(**{kind.name: document}, by=request.member,
                                     **form.values())
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            document = kind.detail(org).get(pk=document.pk)
            return kind.page(request, document,
                             line_form=kind.line_form(organization=org, prefix="line"))
    return kind.page(request, document, line_form=form, status=422 if request.htmx else 200)


def _line_remove(request: HttpRequest, pk: int, kind: _Document) -> HttpResponse:
    org = request.organization
    line = get_for_org_or_404(kind.line_model.objects.select_related(kind.name), org, pk=pk)
    try:
        kind.service("line_remove")(line=line, by=request.member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    document = kind.detail(org).get(pk=getattr(line, f"{kind.name}_id"))
    if request.htmx:
        return kind.page(request, document,
                         line_form=kind.line_form(organization=org, prefix="line"))
    return redirect(f"billing:{kind.name}", pk=document.pk)


def _send(request: HttpRequest, pk: int, kind: _Document, sent_message: str) -> HttpResponse:
    document = get_for_org_or_404(kind.detail(request.organization), request.organization,
                                  pk=pk)
    form = SendForm(request.POST)
    if form.is_valid():
        try:
            kind.service("send")(**{kind.name: document}, by=request.member,
                                 to=form.cleaned_data["to"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, sent_message % {"to": form.cleaned_data["to"]})
    else:
        messages.error(request, _("Enter a valid email address."))
    return redirect(f"billing:{kind.name}", pk=document.pk)
