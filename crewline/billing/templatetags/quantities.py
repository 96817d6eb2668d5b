from __future__ import annotations

from django import template

from crewline.billing.quantities import quantity_with_unit

register = template.Library()


@register.filter
def quantity_unit(line) -> str:
    """``{{ line|quantity_unit }}``: the line's quantity and unit as a customer reads them."""
    return quantity_with_unit(line.quantity, line.unit)
