"""What the loader writes where: one spec per clean topic.

Column names and types come from ``schemas/avro/clean/*.avsc`` (Python does
not restate them), and so do an entity's natural key (``orion.business_key``)
and the dimensions a fact references (its ``orion.references`` to a
dimension's entity), through :mod:`orion.catalog`. What only the warehouse
knows is declared here: which table an entity lands in, SCD type 1 or 2, and
which date drives ``date_key``. The migrations in
``warehouse_sql/`` name their columns after the same fields, so adding a field
to a schema means one migration and, for a fact, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from orion.catalog import ENVELOPE, MASTER_ENVELOPE, Entity, entity, load_schema
from orion.exceptions import SchemaError

__all__ = [
    "DIMENSIONS",
    "ENVELOPE",
    "FACTS",
    "LINEAGE",
    "Column",
    "DimSpec",
    "FactSpec",
    "Ref",
    "columns",
    "fact_spec",
    "spec_for_stem",
]


PgType = Literal[
    "text",
    "timestamptz",
    "date",
    "numeric",
    "integer",
    "bigint",
    "double precision",
    "boolean",
    "text[]",
]


@dataclass(frozen=True)
class Column:
    """One field of a clean schema as a PostgreSQL column."""

    name: str
    pg_type: str
    kind: PgType
    nullable: bool


LINEAGE: tuple[Column, ...] = (
    Column("clean_topic", "text", "text", True),
    Column("clean_partition", "integer", "integer", True),
    Column("clean_offset", "bigint", "bigint", True),
    Column("raw_topic", "text", "text", True),
    Column("raw_partition", "integer", "integer", True),
    Column("raw_offset", "bigint", "bigint", True),
    Column("raw_timestamp", "timestamptz", "timestamptz", True),
    Column("load_batch_id", "bigint", "bigint", True),
)
"""Where a row came from: the clean record's Kafka coordinates and, from its
provenance headers (:mod:`orion.provenance`), the raw record's. Every
dimension version, change-log row and fact carries them beside ``event_id``
(``warehouse_sql/0008_lineage.sql``); the raw ones are NULL for records
written before the processors set those headers. ``load_batch_id`` names the
``metadata.load_batches`` row of the load that wrote it, whose ``committed_at``
less ``raw_timestamp`` is the row's end-to-end latency
(``0011_load_latency.sql``). Declared here once, like the envelope is in the
catalog: the staging tables, the merges and the lineage lookups all read
this tuple."""


@dataclass(frozen=True)
class DimSpec:
    """A dimension: SCD1 (latest state) or SCD2 (history from updated_at)."""

    stem: str
    name: str  # customer, vehicle, dealer, supplier
    key: str  # business id column
    scd: Literal[1, 2]

    @property
    def table(self) -> str:
        return f"dim_{self.name}"

    @property
    def surrogate(self) -> str:
        return f"{self.name}_key"

    @property
    def changes(self) -> str:
        return f"dim_{self.name}_changes"

    @property
    def attributes(self) -> tuple[str, ...]:
        """Business columns except the key: what the row hash covers."""
        skip = {*ENVELOPE, *MASTER_ENVELOPE, self.key}
        return tuple(c.name for c in columns(self.stem) if c.name not in skip)


@dataclass(frozen=True)
class Ref:
    """A fact's reference to a dimension by a business id column of the fact."""

    dim: str
    column: str


@dataclass(frozen=True)
class FactSpec:
    """A fact table, upserted on its natural key; the newest event wins."""

    stem: str
    table: str
    natural_key: tuple[str, ...]
    date_column: str
    refs: tuple[Ref, ...] = ()

    @property
    def business(self) -> tuple[str, ...]:
        """Every field of the clean schema the fact stores (all but the envelope)."""
        skip = {*ENVELOPE, *MASTER_ENVELOPE}
        return tuple(c.name for c in columns(self.stem) if c.name not in skip)


def _dimension(stem: str, name: str, scd: Literal[1, 2]) -> DimSpec:
    key = entity(stem).business_key
    if len(key) != 1:
        raise SchemaError(
            f"dimension {stem} needs a one-field orion.business_key, got {list(key)}",
            fix=f"correct schemas/avro/clean/{stem}.avsc",
        )
    return DimSpec(stem, name, key[0], scd)


DIMENSIONS: dict[str, DimSpec] = {
    d.name: d
    for d in (
        _dimension("erp.dealers", "dealer", 1),
        _dimension("supplier.suppliers", "supplier", 1),
        _dimension("crm.customers", "customer", 2),
        _dimension("erp.vehicles", "vehicle", 2),
    )
}
_DIM_OF_STEM = {d.stem: d.name for d in DIMENSIONS.values()}


def fact_spec(e: Entity, table: str, date_column: str) -> FactSpec:
    """A fact's natural key and dimension references, as its schema declares them.

    A reference to an entity that is no dimension (a payment's sale) is not a
    key in the warehouse: the fact keeps the business id as a column.
    """
    refs = tuple(Ref(_DIM_OF_STEM[r], f) for f, r in e.references if r in _DIM_OF_STEM)
    return FactSpec(e.stem, table, e.business_key, date_column, refs)


def _fact(stem: str, table: str, date_column: str) -> FactSpec:
    return fact_spec(entity(stem), table, date_column)


FACTS: dict[str, FactSpec] = {
    f.stem: f
    for f in (
        _fact("erp.sales", "fact_sales", "sale_date"),
        _fact("finance.payments", "fact_payments", "payment_date"),
        _fact("finance.commissions", "fact_commissions", "commission_date"),
        _fact("finance.expenses", "fact_expenses", "expense_date"),
        _fact("erp.production_costs", "fact_production_costs", "production_date"),
        _fact("erp.service_events", "fact_service_events", "service_date"),
        _fact("supplier.procurement", "fact_procurement", "order_date"),
        _fact("erp.inventory", "fact_inventory", "snapshot_date"),
        _fact("crm.interactions", "fact_interactions", "interaction_date"),
        _fact("iot.telemetry", "fact_telemetry", "event_time"),
    )
}


def _column(field: dict[str, Any]) -> Column:
    t = field["type"]
    nullable = isinstance(t, list)
    if nullable:
        t = next(x for x in t if x != "null")
    logical = t.get("logicalType") if isinstance(t, dict) else None
    base = t.get("type") if isinstance(t, dict) else t
    kind: PgType
    pg: str
    if logical == "timestamp-millis":
        kind = pg = "timestamptz"
    elif logical == "date":
        kind = pg = "date"
    elif logical == "decimal":
        kind, pg = "numeric", f"numeric({t['precision']}, {t.get('scale', 0)})"
    elif base == "array":
        kind = pg = "text[]"
    elif base == "int":
        kind = pg = "integer"
    elif base == "long":
        kind = pg = "bigint"
    elif base in ("double", "float"):
        kind = pg = "double precision"
    elif base == "boolean":
        kind = pg = "boolean"
    else:  # string, enum
        kind = pg = "text"
    return Column(field["name"], pg, kind, nullable)


@cache
def columns(stem: str) -> tuple[Column, ...]:
    """Every field of ``schemas/avro/clean/<stem>.avsc``, in schema order."""
    return tuple(_column(f) for f in load_schema(entity(stem).schema_path("clean"))["fields"])


@cache
def reader_schema(stem: str) -> dict[str, Any]:
    """The clean schema, as the loader's reader schema for Avro resolution."""
    return load_schema(entity(stem).schema_path("clean"))


def spec_for_stem(stem: str) -> DimSpec | FactSpec:
    """The dimension or fact a clean topic's records go to."""
    for d in DIMENSIONS.values():
        if d.stem == stem:
            return d
    return FACTS[stem]
