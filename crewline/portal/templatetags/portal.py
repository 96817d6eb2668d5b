from django import template

from crewline.portal.selectors import customer_link_state

register = template.Library()


@register.inclusion_tag("portal/_customer_card.html", takes_context=True)
def portal_card(context, customer):
    """The customer's page's card: links to their portal, send one, revoke them."""
    return {"customer": customer, "state": customer_link_state(customer),
            "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("portal/_work_request_card.html", takes_context=True)
def work_request_card(context, wo):
    """On a work order raised from the public form: who asked, and the office's confirmation
    of a customer matched by email or phone."""
    from crewline.portal.models import WorkRequest

    # A work order from the form has no author (the form acts for nobody): the office's own
    # work orders cost the page no query.
    request = None if wo.created_by_id is not None else (
        WorkRequest.objects.filter(organization_id=wo.organization_id, work_order_id=wo.pk)
        .select_related("customer").first())
    return {"work_request": request, "wo": wo, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("portal/_request_form_card.html")
def request_form_card(organization):
    """The organization's settings: the address of its public request form, and the markup
    that puts the form on the company's own website."""
    from django.conf import settings
    from django.urls import reverse

    return {"form_url": settings.SITE_URL + reverse("portal_public:request_form",
                                                     args=[organization.slug]),
            "embed_url": settings.SITE_URL + reverse("portal_public:request_embed",
                                                      args=[organization.slug])}


@register.inclusion_tag("portal/_window_offers_card.html", takes_context=True)
def window_offers_card(context, wo):
    """On an open work order without a time: offer the customer times to choose from in
    their portal, and see what is offered. Read from the page's visits when it has them: a
    scheduled job's page costs no query."""
    from crewline.portal.forms import WindowOfferForm
    from crewline.portal.selectors import work_order_window_offers
    from crewline.portal.services import work_order_offerable
    from crewline.workorders.models import OPEN_VISIT_STATUSES

    if not wo.is_open:
        return {"show": False}
    visits = context.get("visits")
    if visits is not None:
        offerable = not any(v.status in OPEN_VISIT_STATUSES and v.start is not None
                            for v in visits)
    else:
        offerable = work_order_offerable(wo)
    if not offerable:
        return {"show": False}
    request = context.get("request")
    member = getattr(request, "member", None)
    form = (WindowOfferForm(organization=wo.organization, tz=wo.organization.tzinfo)
            if member is not None and member.is_office else None)
    return {"show": True, "wo": wo, "offerable": True, "form": form,
            **work_order_window_offers(wo), "csrf_token": context.get("csrf_token")}
