from decimal import Decimal

import pytest

from crewline.billing.quantities import quantity_with_unit


@pytest.mark.parametrize(("quantity", "unit", "expected"), [
    ("1.5000", "hour", "1.5 hours"),
    ("1.0000", "hour", "1 hour"),
    ("0.2500", "hour", "0.25 hours"),
    ("1.3333", "hour", "1 h 20 min"),  # 80 minutes of labor
    ("0.3333", "hour", "20 min"),
    ("2.0000", "hour", "2 hours"),
    ("2.0000", "each", "2"),
    ("1.0000", "", "1"),
    ("3.0000", "day", "3 days"),
    ("1.0000", "visit", "1 visit"),
    ("12.5000", "m", "12.5 m"),
    ("10.0000", "kg", "10 kg"),
    ("0.1234", "hour", "0.1234 hours"),  # not whole minutes: as it is
])
def test_it_reads_naturally(quantity, unit, expected):
    assert quantity_with_unit(Decimal(quantity), unit) == expected
