"""Text on a member's colour stays readable: black or white, whichever passes WCAG AA."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crewline.core import colours


def test_it_picks_black_on_light_colours_and_white_on_dark_ones():
    # The demo's technicians: cyan, orange, teal and yellow had white initials at 1.6-2.6:1.
    for light in ("#0dcaf0", "#fd7e14", "#20c997", "#ffc107"):
        assert colours.text_on(light) == "#000000"
    for dark in ("#12355b", "#6f42c1", "#146c43", "#b02a37"):
        assert colours.text_on(dark) == "#ffffff"
    assert round(colours.contrast("#ffffff", "#ffc107"), 2) == 1.63


@given(st.integers(0, 0xFFFFFF))
def test_its_text_reaches_4_5_to_1_on_any_colour(value):
    colour = f"#{value:06x}"
    assert colours.contrast(colour, colours.text_on(colour)) >= 4.5


def test_it_lets_only_hex_colours_through():
    assert colours.clean("#A1B2C3") == "#a1b2c3"
    for bad in ("red", "#fff", "#12345g", "#123456;}", "", None):
        assert colours.clean(bad) == colours.FALLBACK
