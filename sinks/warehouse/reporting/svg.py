"""Static SVG charts: horizontal and vertical bars, lines, a 100 % share bar.

Why our own: the report is one self-contained page that must open with no
network, and the charts it needs are four simple shapes. A JavaScript
library would have to be inlined; matplotlib (the one well-kept Python
library that writes static SVG) brings numpy and a 40 MB install for
megabytes of path data per chart. These functions are pure: values in,
markup out, every label escaped, so they are tested without I/O.

Text widths are estimated (``CHAR_W`` per character at 12 px), not measured:
a label that would not fit is shortened with an ellipsis and keeps its full
text in a ``<title>`` tooltip, so no two labels overlap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["PALETTE", "Point", "Series", "bar_chart", "hbar_chart", "line_chart", "share_bar"]

Format = Callable[[float], str]

PALETTE = ("#1f4e79", "#2e86ab", "#f18f01", "#c73e1d", "#3b8b5a", "#6c4f9c", "#8d99ae", "#e0a458")
INK = "#1b2631"
MUTED = "#5d6d7e"
GRID = "#d5dbe1"
FONT = 12
CHAR_W = 6.8  # estimated advance of one character at FONT px


@dataclass(frozen=True)
class Point:
    """One bar or slice: its label, its value, and the value as the reader should see it."""

    label: str
    value: float
    text: str


@dataclass(frozen=True)
class Series:
    """One line of a line chart: a name for the legend and one value per x label."""

    name: str
    values: Sequence[float]


def _e(text: str) -> str:
    return escape(text, quote=True)


def _text_w(text: str) -> float:
    """Estimated width at FONT px: capitals and digits are wider than the average."""
    wide = sum(1 for c in text if c.isupper() or c in "mwMW%")
    return (len(text) - wide) * CHAR_W + wide * CHAR_W * 1.3


def _fit(text: str, width: float) -> str:
    """``text`` shortened with an ellipsis to about ``width`` px."""
    if _text_w(text) <= width:
        return text
    while len(text) > 1 and _text_w(text + "\u2026") > width:
        text = text[:-1]
    return text.rstrip() + "\u2026"


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="Segoe UI, Helvetica, Arial, sans-serif" font-size="{FONT}">'
        f"<title>{_e(title)}</title>" + "".join(body) + "</svg>"
    )


def _label(x: float, y: float, text: str, anchor: str = "start", fill: str = INK) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{_e(text)}</text>'


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (1, 2, 2.5 or 5 times a power of ten)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def hbar_chart(
    points: Sequence[Point], title: str, *, width: float = 1000, bar_h: float = 22
) -> str:
    """Ranked horizontal bars, largest scale at full width; labels left, values at the bar end."""
    label_w = min(max((_text_w(p.label) for p in points), default=0) + 12, width * 0.38)
    value_w = max((_text_w(p.text) for p in points), default=0) + 12
    plot_w = max(width - label_w - value_w, 40)
    top = max((p.value for p in points), default=0) or 1
    gap = 6
    height = len(points) * (bar_h + gap) + gap
    body: list[str] = []
    for i, p in enumerate(points):
        y = gap + i * (bar_h + gap)
        w = max(plot_w * max(p.value, 0) / top, 0)
        body.append(
            f'<g class="bar"><title>{_e(p.label)}: {_e(p.text)}</title>'
            f'<rect x="{label_w:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h:.1f}" '
            f'fill="{PALETTE[0]}" rx="2"/></g>'
        )
        mid = y + bar_h / 2 + FONT * 0.35
        body.append(_label(label_w - 8, mid, _fit(p.label, label_w - 12), "end"))
        body.append(_label(label_w + w + 6, mid, p.text, fill=MUTED))
    return _svg(width, height, title, body)


def bar_chart(
    points: Sequence[Point], title: str, axis: Format, *, width: float = 1000, height: float = 280
) -> str:
    """Vertical bars over a value axis with gridlines; the value above each bar."""
    left, right, top_pad, bottom = 78.0, 12.0, 22.0, 30.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    ticks = nice_ticks(max((p.value for p in points), default=0))
    scale = plot_h / (ticks[-1] or 1)
    body = _grid(ticks, scale, left, width - right, top_pad + plot_h, axis)
    slot = plot_w / max(len(points), 1)
    bar_w = min(slot * 0.62, 90)
    for i, p in enumerate(points):
        h = max(p.value, 0) * scale
        x = left + i * slot + (slot - bar_w) / 2
        y = top_pad + plot_h - h
        body.append(
            f'<g class="bar"><title>{_e(p.label)}: {_e(p.text)}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{PALETTE[0]}" rx="2"/></g>'
        )
        cx = x + bar_w / 2
        if _text_w(p.text) <= slot:
            body.append(_label(cx, y - 6, p.text, "middle", fill=MUTED))
        body.append(_label(cx, height - 10, _fit(p.label, slot - 4), "middle"))
    return _svg(width, height, title, body)


def _grid(
    ticks: Sequence[float], scale: float, x0: float, x1: float, base: float, axis: Format
) -> list[str]:
    out = []
    for t in ticks:
        y = base - t * scale
        out.append(
            f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x1:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(_label(x0 - 8, y + FONT * 0.35, axis(t), "end", fill=MUTED))
    return out


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    title: str,
    axis: Format,
    *,
    width: float = 1000,
    height: float = 300,
) -> str:
    """Lines over shared x labels, a legend above; x labels thinned so they never overlap."""
    left, top_pad, bottom = 78.0, 34.0, 30.0
    right = max(16.0, _text_w(x_labels[-1]) / 2 + 6 if x_labels else 0)
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max((v for s in series for v in s.values), default=0)
    ticks = nice_ticks(top)
    scale = plot_h / (ticks[-1] or 1)
    base = top_pad + plot_h
    body = _grid(ticks, scale, left, width - right, base, axis)
    n = len(x_labels)
    step_x = plot_w / max(n - 1, 1)
    widest = max((_text_w(x) for x in x_labels), default=0) + 10
    every = max(math.ceil(widest / step_x), 1) if n > 1 else 1
    for i, x in enumerate(x_labels):
        if i % every == 0:
            body.append(_label(left + i * step_x, height - 10, x, "middle"))
    lx = left
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        pts = [(left + i * step_x, base - max(v, 0) * scale) for i, v in enumerate(s.values)]
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        dash = ' stroke-dasharray="6 4"' if k else ""
        body.append(
            f'<polyline class="line" points="{coords}" fill="none" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/>'
        )
        if k == 0:
            body.extend(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>'
                f"{_e(x_labels[i])}: {_e(axis(s.values[i]))}</title></circle>"
                for i, (x, y) in enumerate(pts)
            )
        body.append(
            f'<line x1="{lx:.1f}" y1="14" x2="{lx + 22:.1f}" y2="14" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/>'
        )
        body.append(_label(lx + 28, 14 + FONT * 0.35, s.name))
        lx += 28 + _text_w(s.name) + 24
    return _svg(width, height, title, body)


def share_bar(points: Sequence[Point], title: str, *, width: float = 1000) -> str:
    """One 100 % bar split by share, a legend row per part (label, value, share)."""
    total = sum(max(p.value, 0) for p in points) or 1
    bar_h, row_h, x0, plot_w = 34.0, 22.0, 4.0, width - 8
    body: list[str] = []
    x = x0
    for i, p in enumerate(points):
        w = plot_w * max(p.value, 0) / total
        share = f"{100 * max(p.value, 0) / total:.1f} %"
        body.append(
            f'<g class="bar"><title>{_e(p.label)}: {_e(p.text)} ({share})</title>'
            f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="{bar_h:.1f}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/></g>'
        )
        if _text_w(share) + 8 <= w:
            body.append(
                _label(x + w / 2, 4 + bar_h / 2 + FONT * 0.35, share, "middle", fill="#fff")
            )
        x += w
    label_w = min(max((_text_w(p.label) for p in points), default=0), width * 0.38)
    value_x = x0 + 20 + label_w + 24 + max((_text_w(p.text) for p in points), default=0)
    for i, p in enumerate(points):
        y = bar_h + 18 + i * row_h
        share = f"{100 * max(p.value, 0) / total:.1f} %"
        body.append(
            f'<rect x="{x0:.1f}" y="{y - 10:.1f}" width="12" height="12" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        body.append(_label(x0 + 20, y, _fit(p.label, label_w)))
        body.append(_label(value_x, y, p.text, "end", fill=MUTED))
        body.append(_label(value_x + 64, y, share, "end", fill=MUTED))
    height = bar_h + 18 + len(points) * row_h
    return _svg(width, height, title, body)
