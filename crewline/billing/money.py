"""Money arithmetic for quotes and invoices: Decimal only, one stated rounding rule.

The rule (printed on every quote and invoice):

* line net = round(quantity × unit price − discount, 2, half up), never below zero;
* line tax = round(line net × tax rate / 100, 2, half up);
* the subtotal, the tax total and the total are plain sums of the rounded lines, so the
  document's totals always add up from the lines a customer sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_noop

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

# Marked for translation; pages and PDFs show it through gettext.
ROUNDING_RULE = gettext_noop(
    "Each line is rounded to the cent (half up): net = quantity × unit price − discount; "
    "tax = net × rate. Totals are the sums of the rounded lines."
)


def round_money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def line_amounts(*, quantity: Decimal, unit_price: Decimal, discount: Decimal = ZERO,
                 tax_rate: Decimal = ZERO) -> LineAmounts:
    """Net and tax of one line by the rule above.

    Precondition: quantity, unit price, discount and tax rate are not negative. A discount
    larger than quantity × unit price makes the line zero, never negative.
    """
    for name, value in (("quantity", quantity), ("unit_price", unit_price),
                        ("discount", discount), ("tax_rate", tax_rate)):
        if value < 0:
            raise ValueError(f"{name} may not be negative")
    net = round_money(max(quantity * unit_price - discount, ZERO))
    tax = round_money(net * tax_rate / HUNDRED)
    return LineAmounts(net=net, tax=tax)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


def totals(lines: Iterable[LineAmounts]) -> Totals:
    """Sums of already rounded lines; the order of the lines does not matter."""
    subtotal, tax = ZERO, ZERO
    for line in lines:
        subtotal += line.net
        tax += line.tax
    return Totals(subtotal=subtotal, tax=tax)
