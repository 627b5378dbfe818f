"""How a value reads on the page: rand amounts, counts, percentages, dates.

South African style: ``R 1 234 567.89``, a space between groups of three
(a no-break space, so an amount never wraps), a point before the cents.
Which column is money is read from its name and type: the views return
money as ``numeric`` (Decimal) under names such as ``revenue`` or
``total_cost``, counts as integers, and shares under ``*_pct``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

__all__ = ["Kind", "compact_zar", "display", "kind_of", "plain", "zar"]

NBSP = "\u00a0"
_MONEY_WORDS = (
    "revenue",
    "amount",
    "price",
    "cost",
    "discount",
    "profit",
    "commission_total",
    "commission",
    "expenses",
    "materials",
    "labour",
    "overhead",
    "warranty",
)


class Kind(StrEnum):
    money = "money"
    percent = "percent"
    integer = "integer"
    number = "number"
    text = "text"


def kind_of(column: str, values: list[Any]) -> Kind:
    """The kind of a column from its name and the Python types of its values."""
    present = [v for v in values if v is not None]
    if not present or not all(isinstance(v, int | float | Decimal) for v in present):
        return Kind.text
    if all(isinstance(v, bool) for v in present):
        return Kind.text
    if "pct" in column:
        return Kind.percent
    if all(isinstance(v, int) for v in present):
        return Kind.integer
    if any(w in column for w in _MONEY_WORDS) and "rate" not in column:
        return Kind.money
    return Kind.number


def _group(digits: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return NBSP.join(parts)


def _fixed(value: Decimal | float | int, places: int) -> str:
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
    text = str(abs(q) if q == 0 else q)
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    return sign + _group(whole) + ("." + frac if frac else "")


def zar(value: Decimal | float | int) -> str:
    """``R 1 234 567.89`` (negative: ``-R 12.00``)."""
    text = _fixed(value, 2)
    return ("-R" + NBSP + text[1:]) if text.startswith("-") else "R" + NBSP + text


def compact_zar(value: float) -> str:
    """An axis label: ``R 0``, ``R 850 k``, ``R 12.5 m``, ``R 1.2 bn``."""
    for size, unit in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= size:
            text = f"{value / size:.1f}".removesuffix(".0")
            return f"R{NBSP}{text}{NBSP}{unit}"
    return f"R{NBSP}{value:.0f}"


def plain(value: Any) -> str:
    """The exact value as text (``data-value`` attributes, CSV-like): no rounding, no grouping."""
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def display(value: Any, kind: Kind) -> str:
    """The value as a finance reader expects it, for its column's kind."""
    if value is None:
        return "\u2013"
    if kind is Kind.money:
        return zar(value)
    if kind is Kind.percent:
        return _fixed(value, 2) + NBSP + "%"
    if kind is Kind.integer:
        return _fixed(value, 0)
    if kind is Kind.number:
        exponent = Decimal(str(value)).as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return _fixed(value, min(places, 6))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return plain(value)
