from django import template

from crewline.portal.selectors import customer_link_state

register = template.Library()


@register.inclusion_tag("portal/_customer_card.html", takes_context=True)
def portal_card(context, customer):
    """The customer's page's card: links to their portal, send one, revoke them."""
    return {"customer": customer, "state": customer_link_state(customer),
            "csrf_token": context.get("csrf_token")}
