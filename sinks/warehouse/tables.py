"""What the loader writes where: one spec per clean topic.

Column names and types come from ``schemas/avro/clean/*.avsc`` (Python does
not restate them); what a schema cannot say is declared here: which table an
entity lands in, its natural key, which dimensions a fact references and by
which business id, and which date drives ``date_key``. The migrations in
``warehouse_sql/`` name their columns after the same fields, so adding a field
to a schema means one migration and, for a fact, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from orion.catalog import entities, load_schema

__all__ = [
    "DIMENSIONS",
    "ENVELOPE",
    "FACTS",
    "Column",
    "DimSpec",
    "FactSpec",
    "Ref",
    "columns",
    "spec_for_stem",
]

ENVELOPE = ("event_id", "event_type", "source_system", "event_time", "produced_at")
MASTER_ENVELOPE = ("updated_at", "operation")

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


DIMENSIONS: dict[str, DimSpec] = {
    d.name: d
    for d in (
        DimSpec("erp.dealers", "dealer", "dealer_id", 1),
        DimSpec("supplier.suppliers", "supplier", "supplier_id", 1),
        DimSpec("crm.customers", "customer", "customer_id", 2),
        DimSpec("erp.vehicles", "vehicle", "vin", 2),
    )
}

_C, _V, _D, _S = (
    Ref("customer", "customer_id"),
    Ref("vehicle", "vin"),
    Ref("dealer", "dealer_id"),
    Ref("supplier", "supplier_id"),
)
FACTS: dict[str, FactSpec] = {
    f.stem: f
    for f in (
        FactSpec("erp.sales", "fact_sales", ("sale_id",), "sale_date", (_C, _V, _D)),
        FactSpec("finance.payments", "fact_payments", ("payment_id",), "payment_date"),
        FactSpec(
            "finance.commissions", "fact_commissions", ("commission_id",), "commission_date", (_D,)
        ),
        FactSpec("finance.expenses", "fact_expenses", ("expense_id",), "expense_date"),
        FactSpec(
            "erp.production_costs", "fact_production_costs", ("vin",), "production_date", (_V,)
        ),
        FactSpec(
            "erp.service_events", "fact_service_events", ("service_id",), "service_date", (_V, _D)
        ),
        FactSpec(
            "supplier.procurement", "fact_procurement", ("procurement_id",), "order_date", (_S, _D)
        ),
        FactSpec(
            "erp.inventory",
            "fact_inventory",
            ("inventory_id", "event_time"),
            "snapshot_date",
            (_D,),
        ),
        FactSpec(
            "crm.interactions",
            "fact_interactions",
            ("interaction_id",),
            "interaction_date",
            (_C, _D),
        ),
        FactSpec(
            "iot.telemetry", "fact_telemetry", ("telemetry_id", "event_time"), "event_time", (_V,)
        ),
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
    entity = next(e for e in entities() if e.stem == stem)
    return tuple(_column(f) for f in load_schema(entity.schema_path("clean"))["fields"])


@cache
def reader_schema(stem: str) -> dict[str, Any]:
    """The clean schema, as the loader's reader schema for Avro resolution."""
    entity = next(e for e in entities() if e.stem == stem)
    return load_schema(entity.schema_path("clean"))


def spec_for_stem(stem: str) -> DimSpec | FactSpec:
    """The dimension or fact a clean topic's records go to."""
    for d in DIMENSIONS.values():
        if d.stem == stem:
            return d
    return FACTS[stem]
