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
