"""`orion dq`'s table: each rate shown with its trend beside it, nothing recomputed."""

from __future__ import annotations

from decimal import Decimal

from orionctl.cli.dq import _merged


def test_rates_carry_their_trend_and_missing_trends_show_a_dash() -> None:
    columns = ["name", "events_in", "reject_pct", "reject_trend", "settled"]
    rows = [
        ("erp.sales", 200, Decimal("5.00"), Decimal("-0.25"), True),
        ("crm.customers", 10, Decimal("0.00"), None, False),
    ]
    shown, cells = _merged(columns, rows)
    assert shown == ["name", "events_in", "reject %", "settled"]
    assert cells == [
        ["erp.sales", "200", "5.00 (-0.25)", "yes"],
        ["crm.customers", "10", "0.00 (-)", "no"],
    ]


def test_the_rule_scorecard_names_its_rate() -> None:
    shown, cells = _merged(
        ["outcome", "rule_or_reason", "records", "pct", "trend"],
        [("rejected", "INVALID_VIN", 7, Decimal("0.70"), Decimal("0.10"))],
    )
    assert shown == ["outcome", "rule_or_reason", "records", "rate %"]
    assert cells == [["rejected", "INVALID_VIN", "7", "0.70 (+0.10)"]]
