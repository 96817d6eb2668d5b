"""Small bar charts drawn on the server as inline SVG: no script, crisp at any size."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str
    empty: bool


@dataclass
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    peak: float

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def bar_chart(values: list[float | None], titles: list[str], *, width: int = 300,
              height: int = 64, gap: float = 0.2) -> BarChart:
    """One bar per value, scaled to the largest; ``None`` and zero draw a thin baseline mark so
    that a quiet day still shows as a day. ``titles`` become each bar's tooltip."""
    if len(values) != len(titles):
        raise ValueError("One title per value.")
    peak = max((v for v in values if v), default=0)
    slot = width / max(len(values), 1)
    bar_width = max(slot * (1 - gap), 1)
    bars = []
    for i, (value, title) in enumerate(zip(values, titles, strict=True)):
        empty = not value
        h = 1.5 if empty else max(height * value / peak, 2)
        bars.append(Bar(x=round(i * slot + (slot - bar_width) / 2, 2), y=round(height - h, 2),
                        width=round(bar_width, 2), height=round(h, 2), title=title,
                        empty=empty))
    return BarChart(width=width, height=height, bars=bars, peak=peak)
