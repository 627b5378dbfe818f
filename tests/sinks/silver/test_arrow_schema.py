"""The silver Arrow schema follows the clean .avsc: every entity converts, types stay strict."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from orion.catalog import entities, entity, load_schema
from orion.exceptions import SchemaError
from sinks.silver.arrow_schema import COORDINATES, arrow_schema, arrow_type
from sinks.silver.parquet_format import ParquetFormat
from tests.warehouse_sql.support import clean_events, to_clean


@pytest.mark.parametrize("stem", [e.stem for e in entities()])
def test_every_clean_entity_converts_field_for_field(stem: str) -> None:
    schema = arrow_schema(stem)
    avro = load_schema(entity(stem).schema_path("clean"))
    assert schema.names == [f["name"] for f in avro["fields"]] + [c.name for c in COORDINATES]
    for f in avro["fields"]:
        t = f["type"]
        nullable = isinstance(t, list) and "null" in t
        assert schema.field(f["name"]).nullable == nullable, f["name"]
        if isinstance(t, dict) and t.get("logicalType") == "decimal":
            assert schema.field(f["name"]).type == pa.decimal128(t["precision"], t["scale"])
        if isinstance(t, dict) and t.get("logicalType") == "date":
            assert schema.field(f["name"]).type == pa.date32()
        if isinstance(t, dict) and t.get("logicalType") == "timestamp-millis":
            assert schema.field(f["name"]).type == pa.timestamp("ms", tz="UTC")
        if isinstance(t, dict) and t.get("type") == "enum":
            assert schema.field(f["name"]).type == pa.string()


def test_money_is_decimal_with_the_avsc_scale() -> None:
    sales = arrow_schema("erp.sales")
    assert sales.field("final_price").type == pa.decimal128(18, 2)
    assert sales.field("sale_date").type == pa.date32()
    assert sales.field("event_time").type == pa.timestamp("ms", tz="UTC")
    assert arrow_schema("iot.telemetry").field("error_codes").type == pa.list_(pa.string())


def test_unions_and_named_types() -> None:
    assert arrow_type(["null", "int"]) == (pa.int32(), True)
    named: dict[str, pa.DataType] = {}
    arrow_type({"type": "enum", "name": "Colour", "namespace": "x", "symbols": ["A"]}, named)
    assert arrow_type("x.Colour", named) == (pa.string(), False)
    with pytest.raises(SchemaError):
        arrow_type(["null", "int", "string"])
    with pytest.raises(SchemaError):
        arrow_type({"type": "map", "values": "string"})


def test_simulated_records_of_every_entity_become_typed_parquet() -> None:
    rows: dict[str, list[dict[str, object]]] = {}
    for stem, _key, expected in clean_events(3, 4000):
        rows.setdefault(stem, []).append(to_clean(stem, expected))
    assert set(rows) == {e.stem for e in entities()}
    fmt = ParquetFormat()
    for stem, rs in rows.items():
        offsets = list(range(10, 10 + len(rs)))
        table = fmt.table(stem, f"clean.{stem}", 2, rs, offsets, (10, offsets[-1] + 5))
        body = fmt.encode(table)
        again = fmt.encode(fmt.table(stem, f"clean.{stem}", 2, rs, offsets, (10, offsets[-1] + 5)))
        assert body == again, "the same rows must give the same bytes"
        coverage = fmt.coverage(body)
        assert (coverage.first_offset, coverage.last_offset) == (10, offsets[-1] + 5)
        assert coverage.rows == [(o, r["event_id"]) for o, r in zip(offsets, rs, strict=True)]
    sale = rows["erp.sales"][0]
    table = fmt.table("erp.sales", "clean.erp.sales", 0, [sale], [0], (0, 0))
    got = table.to_pylist()[0]
    assert isinstance(got["final_price"], Decimal) and got["final_price"] == sale["final_price"]
    assert isinstance(got["sale_date"], dt.date)
    assert got["event_time"] == sale["event_time"]
    assert (got["kafka_topic"], got["kafka_partition"], got["kafka_offset"]) == (
        "clean.erp.sales",
        0,
        0,
    )
