"""Members' colours (a free choice of #rrggbb) and the text colour that stays readable on them."""

from __future__ import annotations

import re

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
FALLBACK = "#6c757d"


def clean(colour: str) -> str:
    """``colour`` if it is #rrggbb, else a neutral grey (the value is written into a
    stylesheet, so nothing else may pass)."""
    return colour.lower() if colour and HEX.match(colour) else FALLBACK


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(colour: str) -> str:
    """Black or white, whichever contrasts more with ``colour``: one of them always reaches
    4.5:1, the least that WCAG AA asks of text."""
    colour = clean(colour)
    return "#ffffff" if contrast(colour, "#ffffff") >= contrast(colour, "#000000") else "#000000"
