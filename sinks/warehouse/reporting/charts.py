"""Which questions get a chart, which chart, and how many rows it shows.

A chart is drawn from exactly the rows of the table beneath it (the same
:class:`Answer`), so picture and numbers never disagree. Questions not listed
here are tables only. The order of :data:`CHARTS` is the order of the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sinks.warehouse.report import Answer
from sinks.warehouse.reporting import svg
from sinks.warehouse.reporting.formatting import Kind, compact_zar, display, zar

__all__ = ["CHARTS", "Chart", "dead_letter_chart"]


@dataclass(frozen=True)
class Chart:
    """``draw`` turns the answer into SVG; ``limit`` is the rows read (None: all)."""

    draw: Callable[[Answer], str]
    limit: int | None
    note: str = ""


def _col(a: Answer, name: str) -> list[Any]:
    i = a.columns.index(name)
    return [r[i] for r in a.rows]


def _f(v: Any) -> float:
    return float(v) if isinstance(v, int | float | Decimal) else 0.0


def _count(v: Any, unit: str) -> str:
    """``1 sale``, ``12 sales``."""
    return f"{display(v, Kind.integer)} {unit.removesuffix('s') if v == 1 else unit}"


def _points(
    a: Answer, label: Callable[[dict[str, Any]], str], value: str, text: Callable[[Any], str]
) -> list[svg.Point]:
    rows = [dict(zip(a.columns, r, strict=True)) for r in a.rows]
    return [svg.Point(label(r), _f(r[value]), text(r[value])) for r in rows]


_ACRONYMS = frozenset({"SUV", "EFT"})


def _title(code: Any) -> str:
    """``KWAZULU_NATAL`` -> ``Kwazulu Natal``: codes as chart labels."""
    words = str(code).split("_")
    return " ".join(w if w in _ACRONYMS else w.capitalize() for w in words)


def _month(v: Any) -> str:
    return v.strftime("%b %Y") if isinstance(v, dt.date) else str(v)


def _revenue_trend(a: Answer) -> str:
    months = [_month(m) for m in _col(a, "month")]
    series = [
        svg.Series("Revenue", [_f(v) for v in _col(a, "revenue")]),
        svg.Series("3-month average", [_f(v) for v in _col(a, "revenue_3m_avg")]),
    ]
    return svg.line_chart(months, series, a.question.title, compact_zar)


def _money_bars(
    label: Callable[[dict[str, Any]], str], value: str = "revenue"
) -> Callable[[Answer], str]:
    def draw(a: Answer) -> str:
        return svg.hbar_chart(_points(a, label, value, zar), a.question.title)

    return draw


def _by_year(a: Answer) -> str:
    pts = _points(a, lambda r: str(r["fiscal_year"]), "revenue", zar)
    return svg.bar_chart(pts, a.question.title, compact_zar)


def _top_dealers(a: Answer) -> str:
    pts = _points(
        a, lambda r: f"{r['rank']}. {r['dealer_name']}", "sales", lambda v: _count(v, "sales")
    )
    return svg.hbar_chart(pts, a.question.title)


def _vehicle_mix(a: Answer) -> str:
    pts = _points(
        a,
        lambda r: f"{_title(r['body_type'])} \u00b7 {_title(r['engine_type'])}",
        "units",
        lambda v: _count(v, "units"),
    )
    return svg.hbar_chart(pts, a.question.title)


def _payment_status(a: Answer) -> str:
    rows = [dict(zip(a.columns, r, strict=True)) for r in a.rows]
    pts = [
        svg.Point(
            _title(r["payment_status"]),
            _f(r["payments"]),
            f"{_count(r['payments'], 'payments')} \u00b7 {zar(r['amount'] or 0)}",
        )
        for r in rows
    ]
    return svg.share_bar(pts, a.question.title)


def _financing(a: Answer) -> str:
    pts = _points(
        a,
        lambda r: _title(r["payment_method"]),
        "sales",
        lambda v: _count(v, "sales"),
    )
    return svg.share_bar(pts, a.question.title)


def _discounts(a: Answer) -> str:
    if not a.rows:
        return svg.share_bar([], a.question.title)
    r = dict(zip(a.columns, a.rows[0], strict=True))
    discounted, sales = int(r["discounted_sales"] or 0), int(r["sales"] or 0)
    pts = [
        svg.Point("Sold with a discount", discounted, _count(discounted, "sales")),
        svg.Point("Sold at list price", sales - discounted, _count(sales - discounted, "sales")),
    ]
    return svg.share_bar(pts, a.question.title)


CHARTS: dict[str, Chart] = {
    "revenue_growth": Chart(_revenue_trend, None),
    "revenue_by_year": Chart(_by_year, None),
    "top_dealers_this_quarter": Chart(_top_dealers, 10, "the ten dealers with most sales"),
    "revenue_by_dealer": Chart(_money_bars(lambda r: str(r["dealer_name"])), 10, "the ten largest"),
    "revenue_by_model": Chart(
        _money_bars(lambda r: f"{r['brand']} {r['model']}"), 12, "the twelve largest"
    ),
    "revenue_by_province": Chart(_money_bars(lambda r: _title(r["province"])), None),
    "vehicle_type_mix": Chart(_vehicle_mix, 12, "the twelve largest"),
    "payment_status_share": Chart(_payment_status, None),
    "financing_methods": Chart(_financing, None),
    "discounts": Chart(_discounts, None),
}


def dead_letter_chart(by_reason: dict[str, int]) -> str:
    """Dead letters per reason, largest first."""
    pts = [svg.Point(reason, n, _count(n, "records")) for reason, n in by_reason.items()]
    return svg.hbar_chart(pts, "Dead letters by reason")
