"""Temporary staging tables and the COPY text format that fills them.

Each batch COPYs its decoded records into one temporary table per clean
topic (``stage_<domain>_<entity>``, typed like the schema, then the
:data:`~sinks.warehouse.tables.LINEAGE` columns), and the merge
statements read from there. The tables are created once per connection with
ON COMMIT DELETE ROWS, so a committed or rolled-back batch leaves them empty
and no catalog churn happens per batch.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from psycopg2 import sql
from psycopg2.extensions import cursor as Cursor

from sinks.warehouse.tables import LINEAGE, Column, columns

__all__ = ["copy_rows", "create_staging", "encode_rows", "stage_name", "staged_columns"]

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def stage_name(stem: str) -> str:
    """``erp.sales`` -> ``stage_erp_sales`` (a temporary table)."""
    return "stage_" + stem.replace(".", "_")


def staged_columns(stem: str) -> tuple[Column, ...]:
    """The columns of a staging table: the clean schema's fields, then the lineage."""
    return (*columns(stem), *LINEAGE)


def create_staging(cur: Cursor, stems: Iterable[str]) -> None:
    """Create the staging tables of ``stems`` in this session (idempotent)."""
    for stem in stems:
        cols = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type))
            for c in staged_columns(stem)
        )
        cur.execute(
            sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS").format(
                sql.Identifier(stage_name(stem)), cols
            )
        )


def _text(v: Any) -> str:
    return str(v).translate(_ESCAPES)


def _array_element(v: Any) -> str:
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _converter(col: Column) -> Callable[[Any], str]:
    if col.kind == "text":
        return _text
    if col.kind == "timestamptz":
        return lambda v: v.isoformat() if isinstance(v, dt.datetime) else _text(v)
    if col.kind == "date":
        return lambda v: v.isoformat() if isinstance(v, dt.date) else _text(v)
    if col.kind == "numeric":
        return lambda v: str(v) if isinstance(v, Decimal | int) else _text(v)
    if col.kind == "double precision":
        return lambda v: repr(float(v))
    if col.kind == "boolean":
        return lambda v: "t" if v else "f"
    if col.kind == "text[]":
        return lambda v: ("{" + ",".join(_array_element(e) for e in v) + "}").translate(_ESCAPES)
    return lambda v: str(int(v))


def encode_rows(stem: str, records: Sequence[dict[str, Any]]) -> io.StringIO:
    """The records in COPY text format, columns in :func:`staged_columns` order.

    A missing optional field (every lineage column is one) is NULL; a missing
    required one raises KeyError, which the loader treats as a bug in the
    producer of the clean topic.
    """
    cols = staged_columns(stem)
    convs = [(c.name, _converter(c), c.nullable) for c in cols]
    buf = io.StringIO()
    write = buf.write
    for rec in records:
        parts = []
        for name, conv, nullable in convs:
            v = rec.get(name) if nullable else rec[name]
            parts.append("\\N" if v is None else conv(v))
        write("\t".join(parts))
        write("\n")
    buf.seek(0)
    return buf


def copy_rows(cur: Cursor, stem: str, records: Sequence[dict[str, Any]]) -> int:
    """COPY ``records`` into the staging table of ``stem``; returns the row count."""
    if not records:
        return 0
    names = sql.SQL(", ").join(sql.Identifier(c.name) for c in staged_columns(stem))
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(stage_name(stem)), names)
    cur.copy_expert(statement.as_string(cur), encode_rows(stem, records))
    return len(records)
