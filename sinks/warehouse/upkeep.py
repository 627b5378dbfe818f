"""Routine upkeep of the warehouse: VACUUM (ANALYZE) and the SCD2 one-current-row check.

The loader's set-based merges update and insert dimension versions, upsert
facts and rewrite its offsets table every batch, which leaves dead tuples
and stale statistics behind faster than autovacuum's defaults on a busy
night; the maintenance DAG runs these after the loads. The SCD2 check is the
invariant ``merge.scd2_rebuild`` keeps (one current row per business key):
a violation means a bug or a hand edit, and reports are wrong until fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql
from psycopg2.extensions import connection as Connection

from sinks.warehouse.tables import DIMENSIONS

__all__ = ["CHURNED_SCHEMAS", "Scd2Violation", "check_scd2", "vacuum_analyze"]

#: Schemas whose tables the loader and the dq sink write on every batch.
CHURNED_SCHEMAS = ("warehouse", "metadata", "dq")


@dataclass(frozen=True)
class Scd2Violation:
    table: str
    key: str
    current_rows: int


def _churned_tables(conn: Connection) -> list[tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT n.nspname, c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') ORDER BY 1, 2",
            (list(CHURNED_SCHEMAS),),
        )
        return [(r[0], r[1]) for r in cur.fetchall()]


def vacuum_analyze(conn: Connection) -> list[str]:
    """``VACUUM (ANALYZE)`` every table of the churned schemas; the tables done.

    VACUUM cannot run inside a transaction, so the connection is switched to
    autocommit for the duration.
    """
    tables = _churned_tables(conn)
    conn.rollback()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for schema, table in tables:
                cur.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(schema, table)))
    finally:
        conn.autocommit = False
    return [f"{s}.{t}" for s, t in tables]


def check_scd2(conn: Connection) -> list[Scd2Violation]:
    """Every business key of an SCD2 dimension with more than one current row."""
    found: list[Scd2Violation] = []
    with conn.cursor() as cur:
        for dim in DIMENSIONS.values():
            if dim.scd != 2:
                continue
            cur.execute(
                sql.SQL(
                    "SELECT {key}::text, count(*) FROM {table} WHERE is_current "
                    "GROUP BY {key} HAVING count(*) > 1 ORDER BY 1"
                ).format(key=sql.Identifier(dim.key), table=sql.Identifier("warehouse", dim.table))
            )
            found += [Scd2Violation(dim.table, r[0], int(r[1])) for r in cur.fetchall()]
    conn.rollback()
    return found
