"""Month arithmetic and export names of partition upkeep (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from sinks.warehouse.partitions import Partition, export_key, months_before


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 12, 1), 24, dt.date(2024, 12, 1)),
        (dt.date(2026, 1, 31), 1, dt.date(2025, 12, 1)),
        (dt.date(2026, 3, 15), 0, dt.date(2026, 3, 1)),
        (dt.date(2026, 11, 30), -2, dt.date(2027, 1, 1)),
    ],
)
def test_months_before_counts_whole_months_from_the_first(
    day: dt.date, months: int, expected: dt.date
) -> None:
    assert months_before(day, months) == expected


def test_export_key_names_family_month_and_partition() -> None:
    part = Partition("fact_telemetry_y2023m01", "fact_telemetry", dt.date(2023, 1, 1), True)
    assert export_key("/exports/warehouse/", part) == (
        "exports/warehouse/fact_telemetry/month=2023-01/fact_telemetry_y2023m01.parquet"
    )
