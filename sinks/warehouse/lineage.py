"""The warehouse end of lineage: rows by natural key or event id, with their source coordinates.

Who calls it: the operator tool ``orion lineage`` (``orionctl/ops/lineage.py``),
which follows the coordinates read here to the clean and raw Kafka records
and the bronze object. Read-only; every identifier comes from the table specs
and is quoted by ``psycopg2.sql``, every value is a parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql
from psycopg2.extensions import connection as Connection

from orion.exceptions import ConfigurationError
from sinks.warehouse.tables import DIMENSIONS, FACTS, LINEAGE, DimSpec, FactSpec, columns

__all__ = [
    "Coordinates",
    "WarehouseRow",
    "change_log_rows",
    "natural_key",
    "rows_by_event_id",
    "rows_by_key",
    "table_spec",
    "tables",
]

SCHEMA = "warehouse"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Coordinates:
    """Where a row's event came from; the raw side is None for rows without provenance."""

    clean_topic: str | None
    clean_partition: int | None
    clean_offset: int | None
    raw_topic: str | None
    raw_partition: int | None
    raw_offset: int | None
    raw_timestamp_ms: int | None

    @property
    def has_clean(self) -> bool:
        return None not in (self.clean_topic, self.clean_partition, self.clean_offset)

    @property
    def has_raw(self) -> bool:
        return None not in (self.raw_topic, self.raw_partition, self.raw_offset)


@dataclass(frozen=True)
class WarehouseRow:
    """One row of a dimension (one SCD2 version), its change log, or a fact."""

    table: str
    key: tuple[Any, ...]  # the natural key's values, in natural_key(spec) order
    event_id: str | None
    values: dict[str, Any]
    coordinates: Coordinates


def tables() -> dict[str, DimSpec | FactSpec]:
    """Every table lineage can start from, by name."""
    out: dict[str, DimSpec | FactSpec] = {d.table: d for d in DIMENSIONS.values()}
    out.update({f.table: f for f in FACTS.values()})
    return out


def table_spec(name: str) -> DimSpec | FactSpec:
    """``fact_sales``, ``warehouse.fact_sales`` or an entity stem (``erp.sales``)."""
    known = tables()
    bare = name.removeprefix(f"{SCHEMA}.")
    if bare in known:
        return known[bare]
    for spec in known.values():
        if spec.stem == name:
            return spec
    raise ConfigurationError(
        f"no warehouse table {name!r}", fix=f"name one of {', '.join(sorted(known))}"
    )


def natural_key(spec: DimSpec | FactSpec) -> tuple[str, ...]:
    return (spec.key,) if isinstance(spec, DimSpec) else spec.natural_key


def _coordinates(values: dict[str, Any]) -> Coordinates:
    ts = values.get("raw_timestamp")
    ms = None if ts is None else (ts - _EPOCH) // dt.timedelta(milliseconds=1)
    return Coordinates(
        values.get("clean_topic"),
        values.get("clean_partition"),
        values.get("clean_offset"),
        values.get("raw_topic"),
        values.get("raw_partition"),
        values.get("raw_offset"),
        ms,
    )


def _order(spec: DimSpec | FactSpec) -> tuple[str, ...]:
    """A key's rows in history order: SCD2 versions by validity."""
    keys = natural_key(spec)
    return (*keys, "valid_from") if isinstance(spec, DimSpec) and spec.scd == 2 else keys


def _select(
    conn: Connection,
    table: str,
    keys: tuple[str, ...],
    order: tuple[str, ...],
    where: sql.Composable,
    args: Sequence[Any],
) -> list[WarehouseRow]:
    query = sql.SQL("SELECT * FROM {} t WHERE {} ORDER BY {}").format(
        sql.Identifier(SCHEMA, table),
        where,
        sql.SQL(", ").join(sql.Identifier(c) for c in order),
    )
    with conn.cursor() as cur:
        cur.execute(query, list(args))
        names = [d[0] for d in cur.description or ()]
        found = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    conn.rollback()
    return [
        WarehouseRow(table, tuple(v[k] for k in keys), v.get("event_id"), v, _coordinates(v))
        for v in found
    ]


def rows_by_key(
    conn: Connection, spec: DimSpec | FactSpec, parts: Sequence[str]
) -> list[WarehouseRow]:
    """The rows whose natural key starts with ``parts`` (text, cast to each column's type).

    A dimension's key is one column; a fact's may be more (``fact_inventory``:
    inventory_id, event_time), and fewer parts give every row of that prefix.
    """
    keys = natural_key(spec)
    if not parts or len(parts) > len(keys):
        raise ConfigurationError(
            f"{spec.table}'s natural key is ({', '.join(keys)}): got {len(parts)} value(s)",
            fix=f"give 1 to {len(keys)} value(s)",
        )
    types = {c.name: c.pg_type for c in columns(spec.stem)}
    where = sql.SQL(" AND ").join(
        sql.SQL("t.{} = %s::{}").format(sql.Identifier(k), sql.SQL(types[k]))
        for k in keys[: len(parts)]
    )
    return _select(conn, spec.table, keys, _order(spec), where, parts)


def rows_by_event_id(conn: Connection, event_id: str) -> list[WarehouseRow]:
    """Every dimension version and fact that holds the event (a sequential scan of each table)."""
    out: list[WarehouseRow] = []
    for spec in tables().values():
        where = sql.SQL("t.event_id = %s")
        keys = natural_key(spec)
        out.extend(_select(conn, spec.table, keys, _order(spec), where, [event_id]))
    return out


def change_log_rows(conn: Connection, event_id: str) -> list[WarehouseRow]:
    """The SCD2 change-log rows of the event: it reached the warehouse even when it started
    no version (it changed nothing, or a later-arriving change absorbed it)."""
    out: list[WarehouseRow] = []
    for dim in DIMENSIONS.values():
        if dim.scd == 2:
            where = sql.SQL("t.event_id = %s")
            order = (dim.key, "updated_at")
            out.extend(_select(conn, dim.changes, (dim.key,), order, where, [event_id]))
    return out


LINEAGE_NAMES = frozenset(c.name for c in LINEAGE)
