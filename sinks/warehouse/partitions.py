"""Monthly partitions: created ahead of the loads, retired to S3 Parquet past retention.

``ensure`` runs monthly from the maintenance DAG so that a month's first
load never waits on a CREATE TABLE (the loader also creates what a batch
needs, this is the margin). ``retire`` takes one old month out of the table
in steps that each survive an interruption and are skipped when done:

1. DETACH the partition (the table stops serving it; its rows stay),
2. export its rows to ``s3://<bucket>/<prefix>/<parent>/month=YYYY-MM/<partition>.parquet``,
3. read the object back and compare its row count with the table's,
4. only then DROP the detached table.

A rerun finds a detached table (listed in ``metadata.monthly_partitions``
with no parent) and goes on from step 2; a month whose table is gone and
whose export exists is already retired.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
from psycopg2 import sql
from psycopg2.extensions import connection as Connection

from orion.exceptions import OrionError
from sinks.base.storage import S3Storage

__all__ = [
    "PARTITIONED",
    "ExportMismatchError",
    "Partition",
    "RetiredPartition",
    "ensure_partitions",
    "months_before",
    "partitions",
    "retire_partition",
]

log = logging.getLogger("sinks.warehouse.partitions")

#: Every range-partitioned table and the function that creates its months.
PARTITIONED = {"fact_telemetry": "warehouse.ensure_telemetry_partitions"}


class ExportMismatchError(OrionError):
    """The exported Parquet does not hold the partition's rows: the partition is kept."""


@dataclass(frozen=True)
class Partition:
    name: str
    family: str
    month: dt.date
    attached: bool


@dataclass(frozen=True)
class RetiredPartition:
    name: str
    rows: int
    key: str
    dropped: bool


def months_before(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def partitions(conn: Connection, family: str) -> list[Partition]:
    """The monthly partitions of ``family``, attached or detached, oldest first."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT partition, month, parent IS NOT NULL FROM metadata.monthly_partitions "
            "WHERE family = %s ORDER BY month",
            (family,),
        )
        rows = cur.fetchall()
    conn.rollback()
    return [Partition(r[0], family, r[1], bool(r[2])) for r in rows]


def ensure_partitions(conn: Connection, today: dt.date, months_ahead: int) -> dict[str, int]:
    """Create every partitioned table's months from ``today``'s to ``months_ahead`` after it."""
    last = months_before(today, -months_ahead)
    created = {}
    with conn.cursor() as cur:
        for table, function in PARTITIONED.items():
            cur.execute(
                sql.SQL("SELECT {}(%s, %s)").format(sql.SQL(function)),
                (
                    dt.datetime(today.year, today.month, 1, tzinfo=dt.UTC),
                    dt.datetime(last.year, last.month, 1, tzinfo=dt.UTC),
                ),
            )
            row = cur.fetchone()
            created[table] = int(row[0]) if row else 0
    conn.commit()
    return created


def export_key(prefix: str, part: Partition) -> str:
    return f"{prefix.strip('/')}/{part.family}/month={part.month:%Y-%m}/{part.name}.parquet"


def _table_rows(conn: Connection, name: str) -> pa.Table:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier("warehouse", name)))
        names = [d.name for d in cur.description or ()]
        rows = cur.fetchall()
    return pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows])


def _count(conn: Connection, name: str) -> int:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("warehouse", name)))
        row = cur.fetchone()
    return int(row[0]) if row else 0


def retire_partition(
    conn: Connection, storage: S3Storage, part: Partition, prefix: str
) -> RetiredPartition:
    """Detach, export, verify, drop one partition (see the module docstring)."""
    key = export_key(prefix, part)
    if part.attached:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
                    sql.Identifier("warehouse", part.family), sql.Identifier("warehouse", part.name)
                )
            )
        conn.commit()
        log.info("partition detached", extra={"partition": part.name})
    table = _table_rows(conn, part.name)
    rows = _count(conn, part.name)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    storage.put(key, buffer.getvalue())
    stored = pq.read_table(io.BytesIO(storage.get(key))).num_rows
    if stored != rows:
        conn.rollback()
        raise ExportMismatchError(
            f"s3://{storage.bucket}/{key} holds {stored} rows, warehouse.{part.name} {rows}",
            fix="the partition stays detached and is not dropped; run retire again",
        )
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier("warehouse", part.name)))
    conn.commit()
    log.info("partition retired", extra={"partition": part.name, "rows": rows, "key": key})
    return RetiredPartition(part.name, rows, key, dropped=True)
