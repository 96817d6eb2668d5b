"""The rounding rule and totals as properties."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from crewline.billing.money import line_amounts, round_money, totals

quantities = st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False,
                         allow_infinity=False)
prices = st.decimals(min_value=0, max_value=100_000, places=4, allow_nan=False,
                     allow_infinity=False)
discounts = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False,
                        allow_infinity=False)
rates = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False)
lines = st.lists(st.tuples(quantities, prices, discounts, rates), max_size=30)


@given(quantities, prices, discounts, rates)
def test_it_rounds_each_line_half_up_to_the_cent(quantity, price, discount, rate):
    amounts = line_amounts(quantity=quantity, unit_price=price, discount=discount,
                           tax_rate=rate)
    expected_net = max(quantity * price - discount, Decimal(0)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert amounts.net == expected_net
    assert amounts.tax == (expected_net * rate / 100).quantize(Decimal("0.01"),
                                                               rounding=ROUND_HALF_UP)
    assert amounts.net.as_tuple().exponent == -2
    assert amounts.tax.as_tuple().exponent == -2


@given(quantities, prices, discounts, rates)
def test_it_never_lets_a_discount_push_a_line_below_zero(quantity, price, discount, rate):
    amounts = line_amounts(quantity=quantity, unit_price=price, discount=discount,
                           tax_rate=rate)
    assert amounts.net >= 0
    assert amounts.tax >= 0


@given(lines)
def test_it_totals_the_sum_of_the_rounded_lines(values):
    amounts = [line_amounts(quantity=q, unit_price=p, discount=d, tax_rate=r)
               for q, p, d, r in values]
    result = totals(amounts)
    assert result.subtotal == sum((a.net for a in amounts), Decimal(0))
    assert result.tax == sum((a.tax for a in amounts), Decimal(0))
    assert result.total == result.subtotal + result.tax
    assert result.tax >= 0


@given(lines, st.randoms(use_true_random=False))
def test_it_gives_the_same_totals_in_any_order_of_lines(values, rnd: random.Random):
    amounts = [line_amounts(quantity=q, unit_price=p, discount=d, tax_rate=r)
               for q, p, d, r in values]
    shuffled = list(amounts)
    rnd.shuffle(shuffled)
    assert totals(amounts) == totals(shuffled)


def test_it_rounds_half_cents_up():
    assert round_money(Decimal("0.005")) == Decimal("0.01")
    assert round_money(Decimal("2.675")) == Decimal("2.68")
    amounts = line_amounts(quantity=Decimal(3), unit_price=Decimal("0.335"),
                           tax_rate=Decimal(10))
    assert amounts.net == Decimal("1.01")  # 1.005 → 1.01
    assert amounts.tax == Decimal("0.10")  # 0.101 → 0.10


def test_it_refuses_negative_inputs():
    import pytest

    with pytest.raises(ValueError):
        line_amounts(quantity=Decimal(-1), unit_price=Decimal(1))
