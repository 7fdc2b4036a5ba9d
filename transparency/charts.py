"""Small, accessible SVG charts drawn on the server (no JavaScript, no CDN).

Each chart is an ``<svg role="img">`` named by its ``<title>`` and ``<desc>`` (both referenced by
``aria-labelledby``), with every value also written as text next to its bar, so the chart reads
without colour; the page puts the same numbers in a table beside it. Pure functions, no Django:
text is escaped here, and the caller marks the returned markup safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# GOV.UK palette colours with at least 3:1 contrast against white (WCAG 1.4.11).
COLOURS = ("#1d70b8", "#8f2d2d", "#00703c", "#6f72af", "#b58840")
TEXT = "#0b0c0c"
AXIS = "#505a5f"
FONT = 'font-family="Noto Sans CJK SC, PingFang SC, Microsoft YaHei, Arial, sans-serif"'


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def _number(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.1f}%"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _text_width(text: str, size: int = 14) -> int:
    """Rough width of a label: CJK characters are square, Latin ones about half as wide."""
    return sum(size if ord(char) > 0x2E80 else size * 0.6 for char in text).__ceil__()


def _open(chart_id: str, title: str, description: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {FONT}>',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    percent: bool = False,
    width: int = 640,
) -> str:
    """Horizontal bars, one group per label and one bar per series (a legend when several).

    Drawn at its natural size (``width`` px, 14 px text) and scaled down, never up, by CSS."""
    bar = 18
    gap = 4
    group_gap = 14
    size = 14
    label_width = min(max((_text_width(label, size) for label in labels), default=40) + 14, 260)
    # Legend items flow onto as many rows as they need.
    legend_items: list[tuple[int, int, int, str]] = []
    x, row = label_width, 0
    for index, item in enumerate(series if len(series) > 1 else []):
        item_width = 26 + _text_width(item.name, size)
        if x + item_width > width and x > label_width:
            x, row = label_width, row + 1
        legend_items.append((x, row, index, item.name))
        x += item_width + 16
    legend = (legend_items[-1][1] + 1) * 24 + 4 if legend_items else 0
    groups = max(len(labels), 1)
    group_height = len(series) * (bar + gap) - gap
    height = legend + groups * (group_height + group_gap) + 10
    value_space = 80
    plot_width = width - label_width - value_space
    peak = max((v for s in series for v in s.values), default=0) or 1
    parts = _open(chart_id, title, description, width, height)
    for x, row, index, name in legend_items:
        colour = COLOURS[index % len(COLOURS)]
        y = 4 + row * 24
        parts.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 20}" y="{y + 12}" font-size="{size}" fill="{TEXT}">{escape(name)}</text>'
        )
    y = legend + 5
    for row, label in enumerate(labels):
        centre = y + group_height / 2
        parts.append(
            f'<text x="{label_width - 8}" y="{centre + 5:.1f}" font-size="{size}" '
            f'text-anchor="end" fill="{TEXT}">{escape(label)}</text>'
        )
        for index, item in enumerate(series):
            value = item.values[row] if row < len(item.values) else 0
            length = max(plot_width * value / peak, 0)
            colour = COLOURS[index % len(COLOURS)]
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" '
                f'fill="{colour}"/>'
            )
            parts.append(
                f'<text x="{label_width + length + 6:.1f}" y="{y + bar - 4}" font-size="13" '
                f'fill="{TEXT}">{_number(value, percent)}</text>'
            )
            y += bar + gap
        y += group_gap - gap
    parts.append(
        f'<line x1="{label_width}" y1="{legend}" x2="{label_width}" y2="{height - 5}" '
        f'stroke="{AXIS}" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def column_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float],
    width: int = 640,
    height: int = 240,
) -> str:
    """Vertical columns over time (one per day), with the first, middle and last day named on
    the axis and the highest value marked."""
    left, right, top, bottom = 50, 10, 20, 40
    plot_width = width - left - right
    plot_height = height - top - bottom
    count = max(len(values), 1)
    slot = plot_width / count
    column = max(slot * 0.75, 1)
    peak = max(values, default=0) or 1
    parts = _open(chart_id, title, description, width, height)
    parts.append(
        f'<line x1="{left}" y1="{top + plot_height}" x2="{width - right}" '
        f'y2="{top + plot_height}" stroke="{AXIS}"/>'
    )
    # Gridlines at whole numbers: the top value and, when there is room, about half of it.
    ticks = {float(peak)} | ({float(round(peak / 2))} if peak >= 4 else set())
    for fraction in sorted(tick / peak for tick in ticks):
        y = top + plot_height * (1 - fraction)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="#b1b4b6" stroke-dasharray="4 4"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 5:.1f}" font-size="12" text-anchor="end" '
            f'fill="{TEXT}">{_number(round(peak * fraction), False)}</text>'
        )
    named = {0, len(values) // 2, len(values) - 1}
    for index, value in enumerate(values):
        x = left + index * slot + (slot - column) / 2
        length = plot_height * value / peak
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_height - length:.1f}" width="{column:.1f}" '
            f'height="{length:.1f}" fill="{COLOURS[0]}"><title>{escape(labels[index])}: '
            f"{_number(value, False)}</title></rect>"
        )
        if index in named and index < len(labels):
            parts.append(
                f'<text x="{x + column / 2:.1f}" y="{height - bottom + 18}" font-size="12" '
                f'text-anchor="middle" fill="{TEXT}">{escape(labels[index])}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)
