"""Charts drawn on the server as SVG (no script, no CDN): the geometry is computed here and
templates/dashboard/_chart.html draws it, so every label goes through the template's escaping.
Each chart carries its own text alternative: a one-sentence summary (the SVG's <title> and
<desc>) and its data as a table the page shows under it."""
import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 720, 240
BAR_WIDTH = 480  # horizontal bar charts: narrower, so their labels stay readable on a phone
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 40  # plot margins for axis labels


@dataclass
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    shown: str  # the value as the table and the tooltip say it

    def __post_init__(self):  # the SVG needs no more than a tenth of a unit
        self.x, self.y, self.width, self.height = (round(v, 1) for v in (self.x, self.y, self.width, self.height))


@dataclass
class Tick:
    value: str
    y: float

    def __post_init__(self):
        self.y = round(self.y, 1)


@dataclass
class Chart:
    key: str  # unique on the page: ids of <title>/<desc>
    title: str
    unit: str
    summary: str
    bars: list = field(default_factory=list)
    ticks: list = field(default_factory=list)
    labels: list = field(default_factory=list)  # (x, text) under the axis, thinned to fit
    horizontal: bool = False
    width: int = WIDTH
    height: int = HEIGHT
    plot: tuple = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)

    @property
    def track(self) -> float:
        """The plot's width: a horizontal bar's full length."""
        return round(self.plot[2] - self.plot[0], 1)


def nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def shown(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def column_chart(key: str, title: str, unit: str, points: list[tuple[str, float]]) -> Chart:
    """Vertical bars, one per (label, value), over a y axis from 0 to a round maximum."""
    left, top, right, bottom = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM
    top_value = nice_max(max((v for _, v in points), default=0))
    slot = (right - left) / max(1, len(points))
    chart = Chart(key=key, title=title, unit=unit, summary=_summary(title, unit, points))
    for i, (label, value) in enumerate(points):
        h = (bottom - top) * value / top_value
        chart.bars.append(Bar(label, value, left + i * slot + slot * 0.1, bottom - h, max(1.0, slot * 0.8), h,
                              f"{shown(value)} {unit}"))
    chart.ticks = [Tick(shown(top_value * f), bottom - (bottom - top) * f) for f in (0, 0.25, 0.5, 0.75, 1)]
    every = max(1, math.ceil(len(points) / 8))  # at most 8 labels under the axis
    chart.labels = [(round(left + i * slot + slot / 2, 1), label) for i, (label, _v) in enumerate(points)
                    if i % every == 0]
    return chart


def bar_chart(key: str, title: str, unit: str, points: list[tuple[str, float]], limit: float | None = None,
              texts: list[str] | None = None, summary: str | None = None) -> Chart:
    """Horizontal bars, one row per (label, value); with `limit`, the bars are shares of it;
    `texts` say each value in words (default: the number)."""
    row, width = 26, BAR_WIDTH
    height = TOP + row * max(1, len(points)) + 12
    left, right = 130, width - 110
    top_value = limit if limit else nice_max(max((v for _, v in points), default=0))
    chart = Chart(key=key, title=title, unit=unit, summary=summary or _summary(title, unit, points), horizontal=True,
                  width=width, height=height, plot=(left, TOP, right, height - 12))
    for i, (label, value) in enumerate(points):
        w = (right - left) * min(value, top_value) / top_value if top_value else 0
        text = texts[i] if texts else f"{shown(value)} {unit}"
        chart.bars.append(Bar(label, value, left, TOP + i * row + 3, w, row - 8, text))
    return chart


def _summary(title: str, unit: str, points: list[tuple[str, float]]) -> str:
    if not points or not any(v for _, v in points):
        return f"{title}: nothing used in this period."
    total = sum(v for _, v in points)
    label, value = max(points, key=lambda p: p[1])
    return f"{title}: {shown(total)} {unit} in all; the highest is {label} with {shown(value)} {unit}."
