"""One flush, one PostgreSQL transaction: counts, dead letters and the consumer offsets.

:meth:`DqWriter.write` is called by :class:`sinks.dq.consumer.DqSink` (under
the one sink runner) with every partition's buffer. In one transaction it

1. locks each partition's ``dq.counted`` mark (created at 0 when new), so two
   workers that both think they own a partition after a rebalance serialise;
2. adds the counts of the records at or past the mark to ``dq.outcomes``
   (upserts that add, keys sorted so concurrent writers cannot deadlock);
3. upserts every dead letter into ``dq.dead_letters`` by its DLQ coordinates;
4. moves the marks forward (never back) and stores the next offsets in
   ``metadata.sink_offsets``, which is where the runner starts on assignment.

All of it commits or none does, so a crash at any instant neither loses nor
doubles a count; a replay (offsets rewound) re-reads records below the marks
without counting them again and rewrites their dead letters unchanged.

A connection that fails is dropped and :class:`DqUnavailableError` (back-pressure)
raised; the next write opens a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import fields

import psycopg2
from psycopg2.extensions import connection as Connection
from psycopg2.extras import execute_values

from sinks.base import Batch, TopicPartitionKey
from sinks.dq.deadletters import DeadLetterRow, dead_letter_row
from sinks.dq.exceptions import DqUnavailableError
from sinks.dq.outcomes import count_records
from sinks.warehouse.db import Reconnecting, connect
from sinks.warehouse.migrations import require_current

__all__ = ["DqWriter", "WriteResult"]

log = logging.getLogger("orion.dq.writer")

_OUTCOMES = (
    "INSERT INTO dq.outcomes (system, entity, hour, outcome, rule_or_reason, count) VALUES %s "
    "ON CONFLICT (system, entity, hour, outcome, rule_or_reason) "
    "DO UPDATE SET count = dq.outcomes.count + excluded.count"
)
_COLUMNS = tuple(f.name for f in fields(DeadLetterRow))
_DEAD_LETTERS = (
    'INSERT INTO dq.dead_letters ({cols}) VALUES %s ON CONFLICT (topic, partition, "offset") '
    "DO UPDATE SET {updates}, loaded_at = now()"
).format(
    cols=", ".join(f'"{c}"' for c in _COLUMNS),
    updates=", ".join(f'"{c}" = excluded."{c}"' for c in _COLUMNS[3:]),
)


class WriteResult:
    """What a committed flush did: records counted (per layer) and dead letters stored."""

    def __init__(self) -> None:
        self.counted: dict[str, int] = {}
        self.skipped = 0  # below the marks: counted before (a replay)
        self.dead_letters = 0


class DqWriter:
    """Writes flushes for one sink name; owns one connection.

    Construction checks the database answers and its schema is current, so a
    misconfigured sink stops at start-up (MigrationError, WarehouseUnavailableError).
    """

    def __init__(
        self, dsn: str, *, sink: str = "dq", prefix: str = "", variable: str = "ORION_DATABASE_URL"
    ) -> None:
        self.dsn = dsn
        self.variable = variable  # where the URL came from, for a refused login
        self.sink = sink
        self.prefix = prefix
        self._db = Reconnecting(self._open, "dq", log)
        self._db.get()

    def _open(self) -> Connection:
        conn = connect(self.dsn, application="orion-dq-sink", variable=self.variable)
        try:
            require_current(conn)
            conn.rollback()
        except BaseException:
            conn.close()
            raise
        return conn

    def _lost(self, error: Exception) -> DqUnavailableError:
        self._db.discard(error)
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return DqUnavailableError(
            f"dq database connection lost: {first}",
            fix="check the database; the dq sink resumes from its stored offsets",
        )

    def close(self) -> None:
        self._db.close()

    def offsets(self, topics: list[str] | None = None) -> dict[TopicPartitionKey, int]:
        """The stored next offset of every partition (of ``topics``); read on assignment."""
        try:
            conn = self._db.get()
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT topic, partition, next_offset FROM metadata.sink_offsets "
                    "WHERE sink = %s",
                    (self.sink,),
                )
                rows = cur.fetchall()
            conn.rollback()
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
            raise self._lost(e) from e
        return {(t, p): o for t, p, o in rows if topics is None or t in topics}

    def write(self, batches: Sequence[Batch]) -> tuple[dict[TopicPartitionKey, int], WriteResult]:
        """Commit the batches (see the module docstring); the next offset of each partition."""
        try:
            conn = self._db.get()
            result = self._transaction(conn, batches)
            conn.commit()
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
            raise self._lost(e) from e
        return {(b.topic, b.partition): b.last_offset + 1 for b in batches}, result

    def _transaction(self, conn: Connection, batches: Sequence[Batch]) -> WriteResult:
        result = WriteResult()
        keys = sorted((b.topic, b.partition) for b in batches)
        with conn.cursor() as cur:
            execute_values(
                cur,
                "INSERT INTO dq.counted (topic, partition, counted_to) VALUES %s "
                "ON CONFLICT DO NOTHING",
                [(t, p, 0) for t, p in keys],
            )
            cur.execute(
                "SELECT topic, partition, counted_to FROM dq.counted "
                "WHERE (topic, partition) IN (SELECT * FROM unnest(%s::text[], %s::int[])) "
                "ORDER BY topic, partition FOR UPDATE",
                ([t for t, _ in keys], [p for _, p in keys]),
            )
            marks = {(t, p): o for t, p, o in cur.fetchall()}
            fresh = []
            for b in batches:
                mark = marks[(b.topic, b.partition)]
                new = [r for r in b.records if r.offset >= mark]
                result.skipped += len(b.records) - len(new)
                fresh.extend(new)
            for r in fresh:
                layer = r.topic[len(self.prefix) :].split(".", 1)[0]
                result.counted[layer] = result.counted.get(layer, 0) + 1
            counts = count_records(fresh, self.prefix)
            if counts:
                execute_values(cur, _OUTCOMES, [(*k, n) for k, n in sorted(counts.items())])
            dead = [d for b in batches for r in b.records if (d := dead_letter_row(r, self.prefix))]
            if dead:
                execute_values(cur, _DEAD_LETTERS, [_values(d) for d in dead], page_size=500)
            result.dead_letters = len(dead)
            nexts = [
                (t, p, b.last_offset + 1) for b in batches for t, p in [(b.topic, b.partition)]
            ]
            execute_values(
                cur,
                "UPDATE dq.counted c SET counted_to = greatest(c.counted_to, v.next) "
                "FROM (VALUES %s) AS v (topic, partition, next) "
                "WHERE c.topic = v.topic AND c.partition = v.partition",
                nexts,
            )
            execute_values(
                cur,
                "INSERT INTO metadata.sink_offsets (sink, topic, partition, next_offset) "
                "VALUES %s ON CONFLICT (sink, topic, partition) DO UPDATE "
                "SET next_offset = excluded.next_offset, updated_at = now()",
                [(self.sink, t, p, o) for t, p, o in sorted(nexts)],
            )
        return result


def _values(d: DeadLetterRow) -> tuple[object, ...]:
    out: list[object] = [getattr(d, c) for c in _COLUMNS]
    for i, c in enumerate(_COLUMNS):
        if c in ("key", "payload") and out[i] is not None:
            out[i] = psycopg2.Binary(out[i])
    return tuple(out)
