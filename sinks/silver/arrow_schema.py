"""The Arrow schema of an entity's silver files, derived from its clean ``.avsc``.

Nothing is restated: the fields, their order, types and nullability come
from ``schemas/avro/clean/<stem>.avsc`` through :mod:`orion.catalog`. The
mapping keeps the clean layer's strict types so a reader (DuckDB, pandas,
Spark) sees money as exact decimals and days as dates:

==========================  ==================================
Avro                        Arrow
==========================  ==================================
bytes/decimal(p, s)         decimal128(p, s)
int/date                    date32
long/timestamp-millis       timestamp("ms", tz="UTC")
enum, string                string
array<string>               list<string>
int, long, double, boolean  int32, int64, float64, bool
["null", T]                 T, nullable
==========================  ==================================

Every file also carries the record's Kafka coordinates,
:data:`COORDINATES` (``kafka_topic``, ``kafka_partition``,
``kafka_offset``), so a duplicate is visible as a repeated triple.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pyarrow as pa

from orion.catalog import entity, load_schema
from orion.exceptions import SchemaError

__all__ = ["COORDINATES", "arrow_schema", "arrow_type"]

COORDINATES = (
    pa.field("kafka_topic", pa.string(), nullable=False),
    pa.field("kafka_partition", pa.int32(), nullable=False),
    pa.field("kafka_offset", pa.int64(), nullable=False),
)

_PRIMITIVES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "bytes": pa.binary(),
}


def arrow_type(avro: Any, named: dict[str, pa.DataType] | None = None) -> tuple[pa.DataType, bool]:
    """(Arrow type, nullable) of one Avro field type; SchemaError for what silver cannot hold.

    ``named`` collects enums and records by full name as they are defined, so a
    later field may refer to a named type by its name, as Avro allows.
    """
    named = {} if named is None else named
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        if len(branches) != 1:
            raise SchemaError(
                f"union {avro} has {len(branches)} non-null branches",
                fix='silver maps only ["null", T] unions; give the field one type',
            )
        inner, _ = arrow_type(branches[0], named)
        return inner, len(branches) < len(avro)
    if isinstance(avro, str):
        if avro in _PRIMITIVES:
            return _PRIMITIVES[avro], False
        if avro in named:
            return named[avro], False
        raise SchemaError(f"unknown Avro type {avro!r}", fix="define named types before use")
    kind, logical = avro.get("type"), avro.get("logicalType")
    if kind == "bytes" and logical == "decimal":
        return pa.decimal128(int(avro["precision"]), int(avro.get("scale", 0))), False
    if kind == "int" and logical == "date":
        return pa.date32(), False
    if kind == "long" and logical == "timestamp-millis":
        return pa.timestamp("ms", tz="UTC"), False
    if kind == "enum":
        named[_full_name(avro)] = pa.string()
        return pa.string(), False
    if kind == "array":
        items, _ = arrow_type(avro["items"], named)
        return pa.list_(items), False
    if isinstance(kind, str) and kind in _PRIMITIVES and logical is None:
        return _PRIMITIVES[kind], False
    raise SchemaError(
        f"Avro type {avro} has no silver mapping", fix="extend sinks/silver/arrow_schema.py"
    )


def _full_name(named: dict[str, Any]) -> str:
    name = str(named["name"])
    namespace = named.get("namespace")
    return name if "." in name or not namespace else f"{namespace}.{name}"


@cache
def arrow_schema(stem: str) -> pa.Schema:
    """The silver schema of entity ``stem`` (e.g. ``erp.sales``): its clean fields, then the
    Kafka coordinates."""
    avro = load_schema(entity(stem).schema_path("clean"))
    named: dict[str, pa.DataType] = {}
    fields = []
    for f in avro["fields"]:
        kind, nullable = arrow_type(f["type"], named)
        fields.append(pa.field(f["name"], kind, nullable=nullable))
    clash = {f.name for f in fields} & {c.name for c in COORDINATES}
    if clash:
        raise SchemaError(
            f"{stem}: fields {sorted(clash)} collide with the silver Kafka columns",
            fix="rename the fields in the clean schema",
        )
    return pa.schema([*fields, *COORDINATES], metadata={"orion.entity": stem})
