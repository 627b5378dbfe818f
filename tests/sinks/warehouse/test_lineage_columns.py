"""The loader's lineage columns, without a database: from Kafka coordinates and headers to COPY."""

from __future__ import annotations

import datetime as dt

from orion.provenance import clean_headers, provenance
from sinks.warehouse.load import Item, Load
from sinks.warehouse.staging import encode_rows, staged_columns
from sinks.warehouse.tables import LINEAGE, columns


def _item(headers: list[tuple[str, bytes | None]] | None) -> Item:
    record = {"event_id": "e-1"}
    return Item("erp.sales", "p.clean.erp.sales", 2, 41, record, provenance(headers))


def test_a_record_with_provenance_names_its_clean_and_raw_coordinates() -> None:
    headers = clean_headers("p.raw.erp.sales", 1, 7, 1_767_225_600_123, ["TRIM"])
    lineage = _item([(k, v if isinstance(v, bytes) else None) for k, v in headers]).lineage(12)
    assert lineage == {
        "clean_topic": "p.clean.erp.sales",
        "clean_partition": 2,
        "clean_offset": 41,
        "raw_topic": "p.raw.erp.sales",
        "raw_partition": 1,
        "raw_offset": 7,
        "raw_timestamp": dt.datetime(2026, 1, 1, 0, 0, 0, 123_000, tzinfo=dt.UTC),
        "load_batch_id": 12,
    }
    assert set(lineage) == {c.name for c in LINEAGE}


def test_a_record_without_provenance_gets_nulls_for_the_raw_side() -> None:
    lineage = _item(None).lineage()
    assert lineage["clean_offset"] == 41
    assert {k: v for k, v in lineage.items() if k.startswith("raw_")} == dict.fromkeys(
        ("raw_topic", "raw_partition", "raw_offset", "raw_timestamp")
    )
    # an empty timestamp header (the raw record had none) is a NULL timestamp, not an error
    no_ts = clean_headers("raw.erp.sales", 0, 3, None, [])
    got = _item([(k, v if isinstance(v, bytes) else None) for k, v in no_ts]).lineage()
    assert (got["raw_offset"], got["raw_timestamp"]) == (3, None)


def test_staged_rows_end_with_the_lineage_columns() -> None:
    stem = "finance.expenses"
    assert staged_columns(stem) == (*columns(stem), *LINEAGE)
    record = {
        "event_id": "e",
        "event_type": "ExpenseRecorded",
        "source_system": "finance",
        "event_time": dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        "produced_at": dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        "expense_id": "X1",
        "expense_date": dt.date(2026, 1, 2),
        "category": "TRAVEL",
        "cost_centre": "CC1",
        "province": "Gauteng",
        "amount": 10,
        "description": None,
    }
    load = Load(items=[Item(stem, "clean.finance.expenses", 0, 5, record)])
    [row] = load.by_stem()[stem]
    line = encode_rows(stem, [row]).getvalue().rstrip("\n").split("\t")
    assert len(line) == len(staged_columns(stem))
    assert line[-len(LINEAGE) :] == ["clean.finance.expenses", "0", "5", *["\\N"] * 5]
