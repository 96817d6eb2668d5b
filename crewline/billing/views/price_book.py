"""Price book pages: the list, an item's form, CSV export, template and import.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crewline.billing import importing, selectors, services
from crewline.billing.access import prices_required
from crewline.billing.forms import ImportForm, PriceBookItemForm
from crewline.billing.models import UNITS, PriceBookItem
from crewline.billing.views.common import _context, _page
from crewline.core.access import get_for_org_or_404, office_required
from crewline.core.forms import errors_to_form
from crewline.core.redirects import next_url

IMPORT_SESSION_KEY = "pricebook_import"


@prices_required
def price_book(request: HttpRequest) -> HttpResponse:
    org = request.organization
    state = request.GET.get("state", "active")
    if state not in ("active", "inactive", "all"):
        state = "active"
    q = request.GET.get("q", "").strip()[:100]
    page = _page(request, selectors.price_items(org, q=q, state=state))
    context = _context(request, "price_book", page=page, filters={"q": q, "state": state},
                       currency=org.currency)
    if request.htmx:
        return render(request, "billing/_price_rows.html", context)
    return render(request, "billing/price_book.html", context)


@office_required
def price_item_create(request: HttpRequest) -> HttpResponse:
    return _price_item_form(request, None)


@office_required
def price_item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _price_item_form(request, get_for_org_or_404(PriceBookItem, request.organization,
                                                        pk=pk))


def _price_item_form(request: HttpRequest, item: PriceBookItem | None) -> HttpResponse:
    org = request.organization
    form = PriceBookItemForm(request.POST or None, instance=item, organization=org)
    if request.method == "POST" and form.is_valid():
        try:
            if item is None:
                services.price_item_create(organization=org, by=request.member,
                                           **form.cleaned_data)
            else:
                services.price_item_update(item=item, by=request.member, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Price book saved."))
            return redirect("billing:price_book")
    title = _("New price book item") if item is None else _("Edit %(code)s") % {
        "code": item.code}
    return render(request, "billing/form.html", _context(
        request, "price_book", form=form, title=title, units=UNITS,
        cancel_url=reverse("billing:price_book")))


@office_required
@require_POST
def price_item_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_for_org_or_404(PriceBookItem, request.organization, pk=pk)
    services.price_item_update(item=item, by=request.member,
                               is_active=request.POST.get("active") == "1")
    return redirect(next_url(request, reverse("billing:price_book")))


@office_required
def price_book_export(request: HttpRequest) -> StreamingHttpResponse:
    items = selectors.price_items(request.organization, state="all")
    response = StreamingHttpResponse(importing.export_rows(items),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="price-book.csv"'
    return response


@office_required
def price_book_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("\ufeff" + importing.template_csv(),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="price-book-template.csv"'
    return response


@office_required
def price_book_import(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            parsed = importing.parse_csv(form.cleaned_data["file"].read(), organization=org)
        except importing.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            request.session[IMPORT_SESSION_KEY] = parsed.to_json()
            return redirect("billing:price_book_preview")
    return render(request, "billing/import.html", _context(
        request, "price_book", form=form, columns=importing.COLUMNS))


@office_required
def price_book_preview(request: HttpRequest) -> HttpResponse:
    data = request.session.get(IMPORT_SESSION_KEY)
    if not data:
        messages.info(request, _("Upload a file to import."))
        return redirect("billing:price_book_import")
    parsed = importing.ParseResult.from_json(data)
    return render(request, "billing/import_preview.html", _context(
        request, "price_book", parsed=parsed, shown=parsed.rows[:300]))


@office_required
@require_POST
def price_book_confirm(request: HttpRequest) -> HttpResponse:
    data = request.session.pop(IMPORT_SESSION_KEY, None)
    if not data:
        messages.error(request, _("That import has expired or was already done. Upload the "
                                  "file again."))
        return redirect("billing:price_book_import")
    if request.POST.get("action") == "cancel":
        messages.info(request, _("Import cancelled; nothing was changed."))
        return redirect("billing:price_book")
    parsed = importing.ParseResult.from_json(data)
    try:
        result = importing.apply_import(organization=request.organization, by=request.member,
                                        rows=parsed.rows)
    except ValidationError as exc:
        messages.error(request, _("Nothing was imported: %(error)s")
                       % {"error": "; ".join(exc.messages)})
        return redirect("billing:price_book_import")
    messages.success(request, _("Imported %(created)s new items and updated %(updated)s.")
                     % {"created": result.created, "updated": result.updated})
    return redirect("billing:price_book")
