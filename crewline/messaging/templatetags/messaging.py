from django import template

from crewline.messaging.models import Feedback, Message, MessageKind, SmsOptOut

register = template.Library()


@register.inclusion_tag("messaging/_work_order_card.html")
def customer_messages_card(wo):
    """On the work order: what its customer was sent (and what became of it), and their
    feedback."""
    messages = list(Message.objects.filter(organization_id=wo.organization_id,
                                           work_order_id=wo.pk)
                    .order_by("-scheduled_for", "-pk")[:20])
    # Feedback comes only through a feedback request: without one, no query for it.
    asked = any(m.kind == MessageKind.FEEDBACK for m in messages)
    return {"messages": messages,
            "feedback": Feedback.objects.filter(organization_id=wo.organization_id,
                                                work_order_id=wo.pk).first() if asked else None}


@register.inclusion_tag("messaging/_customer_card.html")
def sms_opt_out_card(customer):
    """On the customer's page: their numbers and whether each replied STOP."""
    from crewline.messaging.services import _primary_contact
    from crewline.messaging.sms import normalize_number

    country = customer.organization.country if hasattr(customer, "organization") else "US"
    numbers = []
    for raw in (customer.phone, _primary_contact(customer, "phone")):
        number = normalize_number(raw, country)
        if number and number not in [n["number"] for n in numbers]:
            numbers.append({"number": number})
    rows = {row.number: row for row in SmsOptOut.objects.filter(
        organization_id=customer.organization_id, number__in=[n["number"] for n in numbers])}
    for n in numbers:
        row = rows.get(n["number"])
        n["opted_out"] = bool(row and row.active)
        n["changed_at"] = row.changed_at if row else None
    return {"numbers": numbers}
