"""Server-rendered SVG bar charts: geometry only, the template draws it.

No inline style (the CSP forbids it): colours come from classes in static/css/pages.css
(`series-<n>`, `outcome-<status>`), sizes from SVG attributes. Every chart has its
numbers in a table beside it; the SVG is one image with a title for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 640
LABEL_WIDTH = 170
VALUE_WIDTH = 90
BAR_HEIGHT = 14
GAP = 10
PLOT = WIDTH - LABEL_WIDTH - VALUE_WIDTH


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    value_text: str
    text_x: float = 0
    text_y: float = 0


@dataclass
class Row:
    label: str
    label_y: float
    bars: list[Bar] = field(default_factory=list)


@dataclass
class Chart:
    width: int
    height: int
    rows: list[Row]
    legend: list[tuple[str, str]]  # (class, name)
    label_x: int = LABEL_WIDTH - 8


def _scale(values) -> float:
    top = max((v for v in values if v), default=0)
    return PLOT / top if top else 0


def grouped(
    rows: list[tuple[str, list[float | None]]], series: list[tuple[str, str]], fmt
) -> Chart:
    """One group of horizontal bars per row, one bar per series (class, name)."""
    scale = _scale(v for _label, values in rows for v in values)
    group = len(series) * BAR_HEIGHT
    out = []
    y = GAP
    for label, values in rows:
        row = Row(label=label, label_y=y + group / 2 + 4)
        for i, value in enumerate(values):
            bar_y = y + i * BAR_HEIGHT
            width = (value or 0) * scale
            row.bars.append(
                Bar(
                    x=LABEL_WIDTH,
                    y=bar_y,
                    width=round(width, 1),
                    height=BAR_HEIGHT - 2,
                    css=series[i][0],
                    value_text=fmt(value) if value is not None else "–",
                    text_x=round(LABEL_WIDTH + width + 4, 1),
                    text_y=bar_y + BAR_HEIGHT - 4,
                )
            )
        out.append(row)
        y += group + GAP
    return Chart(width=WIDTH, height=int(y), rows=out, legend=series)


def stacked(rows: list[tuple[str, list[int]]], series: list[tuple[str, str]]) -> Chart:
    """One horizontal bar per row, split into the series' segments; the total at its end."""
    scale = _scale(sum(values) for _label, values in rows)
    out = []
    y = GAP
    height = BAR_HEIGHT + 6
    for label, values in rows:
        row = Row(label=label, label_y=y + height / 2 + 4)
        x = LABEL_WIDTH
        for i, value in enumerate(values):
            if not value:
                continue
            width = value * scale
            row.bars.append(
                Bar(
                    x=round(x, 1),
                    y=y,
                    width=round(width, 1),
                    height=height - 2,
                    css=series[i][0],
                    value_text=str(value),
                )
            )
            x += width
        total = sum(values)
        if row.bars:
            last = row.bars[-1]
            last.text_x, last.text_y = round(x + 4, 1), y + height - 6
            last.value_text = str(total)
        out.append(row)
        y += height + GAP
    return Chart(width=WIDTH, height=int(y), rows=out, legend=series)
