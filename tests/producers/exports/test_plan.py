"""The plan: every entity has a format, all four are used, keys sort in write order."""

from __future__ import annotations

from orion.catalog import entities, entity
from orion.landing import landing_prefix
from producers.exports.plan import PLANS, Format, file_key, month_of


def test_every_entity_is_planned_and_every_format_used() -> None:
    assert set(PLANS) == {e.stem for e in entities()}
    assert {p.format for p in PLANS.values()} == set(Format)
    assert PLANS["finance.payments"].format is Format.JSONL
    assert PLANS["supplier.procurement"].format is Format.XLSX
    assert PLANS["erp.inventory"].delimiter == ";"
    assert [s for s, p in PLANS.items() if p.decimal_comma] == ["erp.production_costs"]


def test_keys_are_under_the_landing_prefix_and_sort_in_number_order() -> None:
    sales = entity("erp.sales")
    key = file_key(sales, 1, Format.CSV)
    assert key == "landing/erp/sales/orion-erp-sales-000001.csv"
    assert key.startswith(landing_prefix(sales))
    keys = [file_key(sales, n, Format.CSV) for n in (1, 2, 9, 10, 99, 100, 999_999)]
    assert keys == sorted(keys)


def test_months_are_south_african() -> None:
    # 2025-03-31T22:30Z is 2025-04-01 00:30 in South Africa.
    assert month_of(1743460200000) == 2025 * 12 + 3
    assert month_of(1743460200000 - 3_600_000) == 2025 * 12 + 2
