"""The customer's own pages, opened from the link the office sent: no account, the link's
token is the key. An unknown, tampered, expired or revoked link, and another customer's
record, are all a 404. A GET changes nothing (mail scanners open links before people do);
answering a quote is a POST.
"""

from __future__ import annotations

from csp.decorators import csp_replace
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crewline.core.forms import errors_to_form
from crewline.core.middleware import client_ip
from crewline.core.models import Organization
from crewline.portal import selectors, services
from crewline.portal.forms import LinkRequestForm, WorkRequestForm
from crewline.portal.limits import link_request_allowed, work_request_allowed
from crewline.portal.models import PortalLink


def _dead(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/dead_link.html", {"form": LinkRequestForm()}, status=404)


class DeadLink(Http404):
    pass


def _open(request: HttpRequest, token: str) -> PortalLink:
    """The live link ``token`` opens, with the page set to its customer's language and its
    organization's time zone; DeadLink otherwise."""
    link = services.portal_link_for_token(token)
    if link is None:
        raise DeadLink("This link does not work.")
    timezone.activate(link.organization.tzinfo)
    translation.activate(link.customer.language_code)
    request.LANGUAGE_CODE = translation.get_language()
    return link


def portal_view(view):
    """Answer a dead link with the page that offers a new one (404)."""
    def wrapper(request: HttpRequest, token: str, *args, **kwargs) -> HttpResponse:
        try:
            link = _open(request, token)
        except DeadLink:
            return _dead(request)
        return view(request, link, token, *args, **kwargs)
    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _pdf(content, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@never_cache
@require_GET
@portal_view
def home(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    visits = list(selectors.portal_upcoming_visits(link))
    for visit in visits:
        visit.first_names = [m.user.get_short_name() for m in visit.crew.all()]
    return render(request, "portal/home.html", {
        "link": link, "token": token, "customer": link.customer,
        "organization_public": link.organization, "visits": visits,
        "jobs": selectors.portal_past_jobs(link), "quotes": selectors.portal_quotes(link),
        "invoices": selectors.portal_invoices(link), "sites": selectors.portal_sites(link),
        "offers": selectors.portal_window_offers(link),
    })


@never_cache
@csrf_protect
@require_POST
@portal_view
def window_pick(request: HttpRequest, link: PortalLink, token: str, pk: int) -> HttpResponse:
    """The customer picks one of the times offered to them."""
    context = {"token": token, "organization_public": link.organization,
               "customer": link.customer}
    try:
        visit = services.window_pick(link=link, offer_id=pk)
    except ValidationError as exc:
        taken = isinstance(exc, services.WindowTaken)
        status = 404 if getattr(exc, "code", "") == "not_found" else 409
        return render(request, "portal/window_picked.html",
                      {**context, "error": " ".join(exc.messages), "taken": taken},
                      status=status)
    return render(request, "portal/window_picked.html", {**context, "visit": visit})


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
@portal_view
def quote(request: HttpRequest, link: PortalLink, token: str, pk: int) -> HttpResponse:
    """The quote's page, the same one its own link opens: approving or declining it here is
    the same approval (``billing.public_views.quote_page``)."""
    from crewline.billing.public_views import quote_page

    found = selectors.portal_quote(link, pk)
    return quote_page(request, found,
                      page_url=reverse("portal_public:quote", args=[token, found.pk]),
                      pdf_url=reverse("portal_public:quote_pdf", args=[token, found.pk]),
                      back_url=reverse("portal_public:home", args=[token]) + "#quotes")


@never_cache
@require_GET
@portal_view
def quote_pdf(request: HttpRequest, link: PortalLink, token: str, pk: int) -> HttpResponse:
    from crewline.billing.pdf import quote_pdf as render_quote

    found = selectors.portal_quote(link, pk)
    return _pdf(render_quote(found), f"{found.reference}.pdf")


@never_cache
@require_GET
@portal_view
def invoice_pdf(request: HttpRequest, link: PortalLink, token: str, pk: int) -> HttpResponse:
    from crewline.billing.pdf import invoice_pdf as render_invoice

    found = selectors.portal_invoice(link, pk)
    return _pdf(render_invoice(found), f"{found.reference}.pdf")


@never_cache
@require_GET
@portal_view
def report_pdf(request: HttpRequest, link: PortalLink, token: str, pk: int) -> FileResponse:
    report = selectors.portal_report(link, pk)
    try:
        handle = report.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is missing.") from exc
    return FileResponse(handle, as_attachment=False, filename=report.filename,
                        content_type="application/pdf")


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def request_link(request: HttpRequest) -> HttpResponse:
    """Ask for a new link with the email or phone on file. The answer is the same whether or
    not it is on file; the matching and the email happen in the background."""
    form = LinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = form.cleaned_data["address"]
        if not link_request_allowed(address=address, ip=client_ip(request)):
            return render(request, "portal/request_link.html", {"form": form, "limited": True},
                          status=429)
        services.portal_link_request(address=address)
        return render(request, "portal/request_link.html", {"form": None, "asked": True})
    return render(request, "portal/request_link.html", {"form": form},
                  status=400 if form.is_bound else 200)


# The public request form ------------------------------------------------------------------

def _request_page(request: HttpRequest, organization: Organization, template: str, *,
                  customer=None, initial=None, **extra) -> HttpResponse:
    form = WorkRequestForm(request.POST or None, request.FILES or None, initial=initial)
    context = {"organization_public": organization, "form": form, **extra}
    if request.method != "POST":
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    data = form.cleaned_data
    if data["website"]:
        # A bot filled in the field people cannot see: thank it, keep nothing.
        return render(request, template, {**context, "sent": True})
    if not work_request_allowed(email=data["email"], phone=data["phone"],
                                ip=client_ip(request)):
        return render(request, template, {**context, "limited": True}, status=429)
    try:
        services.work_request_submit(
            organization=organization, name=data["name"], email=data["email"],
            phone=data["phone"], address_line1=data["address_line1"], city=data["city"],
            postal_code=data["postal_code"], description=data["description"],
            preferred_times=data["preferred_times"], photos=data["photos"], customer=customer)
    except ValidationError as exc:
        errors_to_form(form, exc)
        return render(request, template, context, status=400)
    return render(request, template, {**context, "sent": True})


def _organization(slug: str) -> Organization:
    organization = get_object_or_404(Organization, slug=slug)
    timezone.activate(organization.tzinfo)
    return organization


# No CSRF token: the form is meant to be embedded on the company's own website, where the
# browser keeps this site's cookies out of the frame; it acts for nobody (no session), and
# the honeypot and the rate limits hold spam back.
@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest, slug: str) -> HttpResponse:
    """The organization's public request form, at its own address."""
    return _request_page(request, _organization(slug), "portal/request_form.html")


@never_cache
@csrf_exempt
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
@require_http_methods(["GET", "POST"])
def request_embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The same form without the page around it, for an iframe on the company's website: the
    one page any site may frame."""
    return _request_page(request, _organization(slug), "portal/request_embed.html")


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
@portal_view
def portal_request(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    """The request form in the customer's portal: filled in from what is on file, and the
    work order is theirs without the office having to confirm who sent it."""
    customer = link.customer
    site = selectors.portal_sites(link).first()
    initial = {"name": customer.name, "email": customer.email, "phone": customer.phone}
    if site is not None:
        initial |= {"address_line1": site.address_line1, "city": site.city,
                    "postal_code": site.postal_code}
    return _request_page(request, link.organization, "portal/portal_request.html",
                         customer=customer, initial=initial, token=token)


# A visit's tracking page --------------------------------------------------------------------

def _tracked(token: str):
    """The visit a live tracking link opens, with the page set to its customer's language and
    its organization's time zone; 404 for an unknown, tampered or expired link."""
    from crewline.portal.tracking import tracking_link_for_token

    link = tracking_link_for_token(token)
    if link is None:
        raise Http404("This link does not work.")
    visit = link.visit
    timezone.activate(visit.work_order.organization.tzinfo)
    translation.activate(visit.work_order.customer.language_code)
    return visit


def _track_page(request: HttpRequest, visit, state_url: str, back_url: str = "") -> HttpResponse:
    from crewline.portal.tracking import MAP_RADIUS, tracking_state

    request.LANGUAGE_CODE = translation.get_language()
    return render(request, "portal/track.html", {
        "visit": visit, "state": tracking_state(visit), "back_url": back_url,
        "organization_public": visit.work_order.organization, "radius": MAP_RADIUS,
        "state_url": state_url})


@never_cache
@require_GET
def track(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page for one visit: who comes, when, and the van on a map while it is
    on the way (the page asks for ``track_state`` again every few seconds)."""
    return _track_page(request, _tracked(token),
                       reverse("portal_public:track_state", args=[token]))


@never_cache
@require_GET
@portal_view
def portal_track(request: HttpRequest, link: PortalLink, token: str, pk: int) -> HttpResponse:
    """The same page for one of the customer's upcoming visits, from their portal."""
    return _track_page(request, selectors.portal_visit(link, pk),
                       reverse("portal_public:portal_track_state", args=[token, pk]),
                       reverse("portal_public:home", args=[token]) + "#visits")


@never_cache
@require_GET
@portal_view
def portal_track_state(request: HttpRequest, link: PortalLink, token: str,
                       pk: int) -> JsonResponse:
    from crewline.portal.tracking import tracking_state

    return JsonResponse(tracking_state(selectors.portal_visit(link, pk)))


@never_cache
@require_GET
def track_state(request: HttpRequest, token: str) -> JsonResponse:
    """What the tracking page shows, as JSON: no position unless the visit is on the way."""
    from crewline.portal.tracking import tracking_state

    return JsonResponse(tracking_state(_tracked(token)))
