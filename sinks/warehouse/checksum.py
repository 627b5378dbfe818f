"""Checksums of every warehouse table, to prove two loads gave the same warehouse.

Two modes. ``exact`` hashes every column of every row: a replay into the
same database must leave it unchanged. ``canonical`` compares two different
databases loaded from the same topics (one loader killed and restarted, one
not): surrogate keys and load times depend on the order batches happened to
commit, so they are replaced by what they stand for (a dimension row's
business key and valid_from) and ``loaded_at`` and ``load_batch_id`` are left
out. ``lineage=False`` also leaves out the Kafka coordinates and timestamps
(:data:`~sinks.warehouse.tables.LINEAGE`), to compare warehouses loaded from
two different runs of the same seed: the chaos drill against its fault-free
reference, whose topics hold the same events at other offsets.
"""

from __future__ import annotations

from psycopg2 import sql
from psycopg2.extensions import connection as Connection

from sinks.warehouse.tables import DIMENSIONS, LINEAGE

__all__ = ["table_checksums"]

_LOAD_COLUMNS = {"loaded_at", "load_batch_id"}
_LINEAGE_COLUMNS = {c.name for c in LINEAGE}


def _tables(conn: Connection) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'warehouse' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "ORDER BY c.relname"
        )
        return [r[0] for r in cur.fetchall()]


def _columns(conn: Connection, table: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'warehouse' AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
        return [r[0] for r in cur.fetchall()]


def _canonical(table: str, column: str, lineage: bool = True) -> sql.Composable | None:
    """The expression standing for ``column`` in canonical mode (None: leave it out)."""
    if column in _LOAD_COLUMNS or (not lineage and column in _LINEAGE_COLUMNS):
        return None
    for dim in DIMENSIONS.values():
        if column != dim.surrogate:
            continue
        if table == dim.table:
            return None
        ident = [sql.Identifier("d", dim.key)]
        if dim.scd == 2:
            ident.append(sql.Identifier("d", "valid_from"))
        return sql.SQL("(SELECT row({})::text FROM {} d WHERE d.{} = t.{})").format(
            sql.SQL(", ").join(ident),
            sql.Identifier("warehouse", dim.table),
            sql.Identifier(dim.surrogate),
            sql.Identifier(column),
        )
    return sql.Identifier("t", column)


def table_checksums(
    conn: Connection, *, canonical: bool = False, lineage: bool = True
) -> dict[str, tuple[int, str]]:
    """``{table: (rows, md5)}`` of every table in schema ``warehouse`` (``lineage=False``
    implies canonical)."""
    out = {}
    canonical = canonical or not lineage
    for table in _tables(conn):
        row: sql.Composable
        if canonical:
            exprs = [
                e for c in _columns(conn, table) if (e := _canonical(table, c, lineage)) is not None
            ]
            row = sql.SQL("row({})::text").format(sql.SQL(", ").join(exprs))
        else:
            row = sql.SQL("t::text")
        query = sql.SQL(
            "SELECT count(*), coalesce(md5(string_agg(r, E'\\n' ORDER BY r)), '') "
            "FROM (SELECT {} AS r FROM {} t) x"
        ).format(row, sql.Identifier("warehouse", table))
        with conn.cursor() as cur:
            cur.execute(query)
            n, digest = cur.fetchone() or (0, "")
        out[table] = (int(n), str(digest))
    conn.rollback()
    return out
