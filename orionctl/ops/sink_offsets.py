"""Offsets a sink keeps in its own database table instead of Kafka.

The warehouse loader commits its position in ``metadata.sink_offsets`` in the
same transaction as the rows it loads (exactly once), so Kafka's group
offsets say nothing about it. Its position is shown as group
``table:<sink>`` beside the Kafka consumer groups.
"""

from __future__ import annotations

import psycopg2
from psycopg2 import sql

from orion.exceptions import ServiceUnavailableError

TABLE = sql.Identifier("metadata", "sink_offsets")
GROUP_PREFIX = "table:"


def read(dsn: str) -> dict[str, dict[tuple[str, int], int]]:
    """sink -> {(topic, partition): next offset}; empty when the table does not exist yet."""
    try:
        conn = psycopg2.connect(dsn, connect_timeout=5)
    except psycopg2.OperationalError as e:
        raise ServiceUnavailableError(
            f"warehouse database did not answer: {e}",
            fix="check ORION_DATABASE_URL and `orion stack status`",
        ) from e
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('metadata.sink_offsets') IS NOT NULL")
            row = cur.fetchone()
            if not row or not row[0]:
                return {}
            cur.execute(sql.SQL("SELECT sink, topic, partition, next_offset FROM {}").format(TABLE))
            out: dict[str, dict[tuple[str, int], int]] = {}
            for sink, topic, partition, offset in cur.fetchall():
                out.setdefault(sink, {})[(topic, partition)] = offset
            return out
    finally:
        conn.close()


def write(dsn: str, sink: str, offsets: dict[tuple[str, int], int]) -> None:
    """Set the sink's next offsets (for a rewind); one transaction."""
    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            for (topic, partition), offset in sorted(offsets.items()):
                cur.execute(
                    sql.SQL(
                        "INSERT INTO {} (sink, topic, partition, next_offset)"
                        " VALUES (%s, %s, %s, %s)"
                        " ON CONFLICT (sink, topic, partition) DO UPDATE"
                        " SET next_offset = EXCLUDED.next_offset, updated_at = now()"
                    ).format(TABLE),
                    (sink, topic, partition, offset),
                )
    finally:
        conn.close()
