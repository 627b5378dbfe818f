"""A source row to the raw record: text kept as sent, envelope parsed, id derived."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orion.catalog import entity
from orion.landing import row_event_id
from producers.landing.headers import map_columns
from producers.landing.readers import SourceRow
from producers.landing.rows import RawRow, RowBuilder, RowError, as_text, parse_instant

SHA = "ab" * 32
T = int(datetime(2025, 3, 1, 8, 15, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (None, None),
        ("", None),
        (" R 1 234,50 ", " R 1 234,50 "),
        (5.0, "5"),
        (1234.5, "1234.5"),
        (7, "7"),
        (True, "true"),
        (datetime(2025, 3, 7), "2025-03-07"),
        (datetime(2025, 3, 7, 14, 0, 1, 250000), "2025-03-07T14:00:01.250Z"),
        ([1, "a"], '[1,"a"]'),
    ],
)
def test_cells_become_the_text_a_source_would_have_written(cell: object, text: str | None) -> None:
    assert as_text(cell) == text


@pytest.mark.parametrize(
    "cell",
    [
        "2025-03-01T08:15:00.000Z",
        "2025-03-01T10:15:00+02:00",
        "2025-03-01 08:15:00",
        datetime(2025, 3, 1, 8, 15),
        T,
        str(T),
    ],
)
def test_instants_in_every_accepted_form(cell: object) -> None:
    assert parse_instant(cell) == T


def build(stem: str, headers: list[str], cells: list[object], index: int = 0) -> RawRow | RowError:
    e = entity(stem)
    return RowBuilder(e, map_columns(e, headers), SHA).build(index, SourceRow(9, tuple(cells)))


def test_a_row_keeps_business_text_and_gets_defaults_and_the_derived_id() -> None:
    got = build(
        "iot.telemetry",
        ["telemetry_id", "VIN", "event_time", "error_codes", "speed_kmh", "event_id"],
        ["T-1", " 1hgcm82633a004352 ", "2025-03-01T08:15:00.000Z", "P0301|P0420", "9999", "x"],
        index=41,
    )
    assert isinstance(got, RawRow)
    assert got.key == "1hgcm82633a004352"
    rec = got.record
    assert rec["event_id"] == row_event_id(SHA, 41)
    assert rec["vin"] == " 1hgcm82633a004352 "  # the processors repair it, not the ingester
    assert rec["speed_kmh"] == "9999"  # and judge it
    assert rec["error_codes"] == ["P0301", "P0420"]
    assert rec["source_system"] == "IOT"
    assert rec["event_type"] == "telemetry.exported"
    assert rec["event_time"] == rec["produced_at"] == T
    assert rec["fuel_level_pct"] is None


def test_master_rows_take_operation_symbols_in_any_case() -> None:
    got = build(
        "erp.dealers",
        ["dealer_id", "event_time", "operation", "updated_at"],
        ["DLR-1", "2025-03-01T08:15:00Z", "delete", "2025-03-01T08:00:00Z"],
    )
    assert isinstance(got, RawRow)
    assert got.record["operation"] == "DELETE"
    assert got.record["updated_at"] == T - 15 * 60 * 1000


@pytest.mark.parametrize(
    ("cells", "field", "why"),
    [
        (["DLR-1", "", "UPSERT"], "event_time", "missing"),
        (["DLR-1", "yesterday", "UPSERT"], "event_time", "not an ISO-8601 instant"),
        (["DLR-1", "2025-03-01T08:15:00Z", "MERGE"], "operation", "not one of"),
        (["DLR-1", "2025-03-01T08:15:00Z", ""], "operation", "missing"),
    ],
)
def test_rows_the_raw_schema_cannot_hold_are_errors_with_field_and_line(
    cells: list[object], field: str, why: str
) -> None:
    got = build("erp.dealers", ["dealer_id", "event_time", "operation"], cells)
    assert isinstance(got, RowError)
    assert (got.line, got.field) == (9, field)
    assert why in got.reason
