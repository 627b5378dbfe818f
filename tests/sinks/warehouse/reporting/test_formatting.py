"""Values as the page shows them: rand amounts, counts, shares."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sinks.warehouse.reporting.formatting import Kind, compact_zar, display, kind_of, zar

NB = "\u00a0"


def test_rand_amounts_group_thousands_with_no_break_spaces() -> None:
    assert zar(Decimal("1234567.891")) == f"R{NB}1{NB}234{NB}567.89"
    assert zar(0) == f"R{NB}0.00"
    assert zar(Decimal("-12")) == f"-R{NB}12.00"
    assert zar(Decimal("-0.001")) == f"R{NB}0.00"
    assert zar(999) == f"R{NB}999.00"


def test_axis_labels_are_compact() -> None:
    assert compact_zar(0) == f"R{NB}0"
    assert compact_zar(850_000) == f"R{NB}850{NB}k"
    assert compact_zar(12_500_000) == f"R{NB}12.5{NB}m"
    assert compact_zar(40_000_000) == f"R{NB}40{NB}m"


def test_column_kinds_come_from_names_and_types() -> None:
    assert kind_of("revenue", [Decimal("1.00")]) is Kind.money
    assert kind_of("commission_total", [Decimal("1.00")]) is Kind.money
    assert kind_of("expenses", [3]) is Kind.integer  # a count despite the money word
    assert kind_of("share_pct", [Decimal("12.50")]) is Kind.percent
    assert kind_of("average_rate", [Decimal("0.012500")]) is Kind.number
    assert kind_of("dealer_name", ["A & B"]) is Kind.text
    assert kind_of("revenue", [None]) is Kind.text


def test_display_per_kind() -> None:
    assert display(Decimal("12.5"), Kind.percent) == f"12.50{NB}%"
    assert display(1234567, Kind.integer) == f"1{NB}234{NB}567"
    assert display(Decimal("0.012500"), Kind.number) == "0.012500"
    assert display(None, Kind.money) == "\u2013"
    assert display(dt.date(2025, 7, 1), Kind.text) == "2025-07-01"
