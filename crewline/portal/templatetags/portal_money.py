from decimal import Decimal

from django import template

from crewline.billing.pdf import money as format_money

register = template.Library()


@register.filter
def money(value: Decimal | None, currency: str = "") -> str:
    """``value`` grouped and separated as the active language writes it, with its currency."""
    if value is None:
        return ""
    text = format_money(value)
    return f"{text}\u00a0{currency}" if currency else text
