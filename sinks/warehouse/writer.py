"""One load, one transaction: staging, merges, and the consumer offsets.

:meth:`WarehouseWriter.write` is called by the warehouse sink
(:class:`~sinks.warehouse.consumer.WarehouseSink`, under the one sink runner)
with a :class:`~sinks.warehouse.load.Load` of decoded clean records covering
one or many partitions. Inside one transaction it COPYs them into staging
tables, merges the dimensions (SCD1 upserts; SCD2 change log and history
rebuild), creates inferred members for facts whose dimension has not arrived,
upserts the facts with point-in-time keys, re-points older facts of keys whose
history changed, and stores the next offset of every partition the load
covers in ``metadata.sink_offsets``. Either all of it commits or none of it
does, which is what makes the loader exactly-once whatever crashes;
:meth:`WarehouseWriter.offsets` reads those offsets back when partitions are
assigned.

Failures: a lost connection is retried at once with a new connection,
``retries`` times (the load is replayed whole; every step is idempotent);
after that :meth:`write` raises :class:`WarehouseUnavailableError`, a
back-pressure error: the runner pauses the partitions, rewinds them and tries
again later, and the next call opens a new connection. A load that violates a
constraint is retried record by record, and the records that still fail are
stored in ``metadata.rejected_records`` and skipped, so one bad record never
stops the stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as Connection
from psycopg2.extensions import cursor as Cursor
from psycopg2.extras import execute_values

from sinks.warehouse import merge
from sinks.warehouse.db import Reconnecting, connect
from sinks.warehouse.exceptions import WarehouseUnavailableError
from sinks.warehouse.load import Load, Rejected
from sinks.warehouse.migrations import require_current
from sinks.warehouse.staging import copy_rows, create_staging
from sinks.warehouse.tables import DIMENSIONS, FACTS, DimSpec

__all__ = ["WarehouseWriter", "WriteResult"]

log = logging.getLogger("orion.warehouse.writer")
_BATCH_LOCK = 0x77686F6C64  # one writer transaction at a time per database
_STEMS = tuple(d.stem for d in DIMENSIONS.values()) + tuple(FACTS)


@dataclass
class WriteResult:
    """What a committed batch did: rows written per table, inferred members, rejects."""

    rows: dict[str, int] = field(default_factory=dict)
    inferred: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    retries: int = 0
    committed_at: float = 0.0
    """Wall clock (seconds) when the last transaction of the write returned from COMMIT."""

    def add(self, other: WriteResult) -> None:
        for k, v in other.rows.items():
            self.rows[k] = self.rows.get(k, 0) + v
        for k, v in other.inferred.items():
            self.inferred[k] = self.inferred.get(k, 0) + v
        self.rejected += other.rejected
        self.retries += other.retries
        self.committed_at = max(self.committed_at, other.committed_at)


class _Statements:
    """Every statement of a batch, rendered once per connection."""

    def __init__(self, conn: Connection) -> None:
        def s(c: sql.Composable) -> str:
            return c.as_string(conn)

        self.scd1 = {d.name: s(merge.scd1_upsert(d)) for d in DIMENSIONS.values() if d.scd == 1}
        self.log = {d.name: s(merge.log_changes(d)) for d in DIMENSIONS.values() if d.scd == 2}
        self.rebuild = {d.name: s(merge.scd2_rebuild(d)) for d in DIMENSIONS.values() if d.scd == 2}
        self.facts = {f.stem: s(merge.fact_upsert(f)) for f in FACTS.values()}
        self.inferred = {
            (f.stem, r.dim): s(merge.inferred_members(f, DIMENSIONS[r.dim], r.column))
            for f in FACTS.values()
            for r in f.refs
        }
        self.re_resolve = {
            (f.stem, r.dim): s(merge.re_resolve(f, DIMENSIONS[r.dim], r.column))
            for f in FACTS.values()
            for r in f.refs
            if DIMENSIONS[r.dim].scd == 2
        }
        self.affected = {
            d.name: s(merge.create_affected(d)) for d in DIMENSIONS.values() if d.scd == 2
        }


class WarehouseWriter:
    """Writes batches for one sink name; owns one connection.

    Construction checks the database answers and its schema is current
    (MigrationError otherwise), so a misconfigured loader stops at start-up.
    """

    def __init__(
        self,
        dsn: str,
        *,
        sink: str = "warehouse",
        retries: int = 1,
        variable: str = "ORION_DATABASE_URL",
    ) -> None:
        self.dsn = dsn
        self.variable = variable  # where the URL came from, for a refused login
        self.sink = sink
        self.retries = retries
        self._db = Reconnecting(self._open, "warehouse", log)
        self._db.get()

    def _open(self) -> Connection:
        conn = connect(self.dsn, variable=self.variable)
        try:
            require_current(conn)
            with conn.cursor() as cur:
                create_staging(cur, _STEMS)
                self._stmts = _Statements(conn)
                for statement in self._stmts.affected.values():
                    cur.execute(statement)
            conn.commit()
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        self._db.close()

    def offsets(self, topics: list[str] | None = None) -> dict[tuple[str, int], int]:
        """The stored next offset of every partition (of ``topics``) this sink loaded.

        Raises WarehouseUnavailableError when the database does not answer.
        """
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
            self._db.discard(e)
            raise self._unavailable(e) from e
        return {(t, p): o for t, p, o in rows if topics is None or t in topics}

    @staticmethod
    def _unavailable(error: Exception) -> WarehouseUnavailableError:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return WarehouseUnavailableError(
            f"warehouse connection lost: {first}",
            fix="check the database; the loader resumes from its stored offsets",
        )

    # -- writing -----------------------------------------------------------------
    def write(self, batch: Load) -> WriteResult:
        """Commit the load and its offsets; see the module docstring for failures."""
        for attempt in range(self.retries + 1):
            try:
                self._db.get()
                return self._write_or_split(batch)
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
                self._db.discard(e)
                if attempt == self.retries:
                    raise self._unavailable(e) from e
            except WarehouseUnavailableError:
                if attempt == self.retries:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _write_or_split(self, batch: Load) -> WriteResult:
        try:
            return self._transaction(batch)
        except (psycopg2.IntegrityError, psycopg2.DataError) as e:
            self._db.get().rollback()
            if len(batch) <= 1:
                item = batch.items[0] if batch.items else None
                if item is None:
                    raise
                log.error("record rejected by the warehouse", extra={"error": str(e)})
                bad = Load(offsets=dict(batch.offsets))
                bad.rejected.append(
                    Rejected(
                        item.topic,
                        item.partition,
                        item.offset,
                        type(e).__name__,
                        str(e).strip()[:2000],
                        None,
                    )
                )
                return self._transaction(bad)
            log.warning(
                "batch violates a constraint, retrying record by record",
                extra={"error": str(e).strip()[:500]},
            )
            total = WriteResult(retries=1)
            for single in batch.singles():
                total.add(self._write_or_split(single))
            return total

    def _transaction(self, batch: Load) -> WriteResult:
        started = time.time()
        result = WriteResult(rejected=len(batch.rejected))
        conn = self._db.get()
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_BATCH_LOCK,))
            # The batch's id first: every row written below names it (0011_load_latency.sql).
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence('metadata.load_batches', 'batch_id'))"
            )
            row = cur.fetchone()
            batch_id = int(row[0]) if row else None
            staged = batch.by_stem(batch_id)
            for stem, records in staged.items():
                copy_rows(cur, stem, records)
            if "iot.telemetry" in staged:
                # The months the batch holds (and each next one), not every month from its
                # first reading to its last: one reading dated 9999 among readings of 2025
                # had the load create ~95,000 partitions in one transaction, a stall
                # (found by the fuzz test).
                cur.execute(
                    "SELECT warehouse.ensure_telemetry_partitions(m, m + interval '1 month') "
                    "FROM (SELECT DISTINCT date_trunc('month', event_time AT TIME ZONE 'UTC') "
                    "AT TIME ZONE 'UTC' AS m FROM stage_iot_telemetry) AS months"
                )
            self._dimensions(cur, staged, result)
            self._facts(cur, staged, result)
            self._bookkeeping(cur, batch, batch_id, result, started)
        conn.commit()
        result.committed_at = time.time()
        return result

    def _dimensions(self, cur: Cursor, staged: Mapping[str, object], result: WriteResult) -> None:
        st = self._stmts
        for dim in DIMENSIONS.values():
            if dim.stem not in staged:
                continue
            if dim.scd == 1:
                cur.execute(st.scd1[dim.name])
                result.rows[dim.table] = cur.rowcount
                continue
            cur.execute(st.log[dim.name])
            result.rows[dim.changes] = cur.rowcount
            if cur.rowcount:
                cur.execute(st.rebuild[dim.name])
                result.rows[dim.table] = cur.rowcount

    def _facts(self, cur: Cursor, staged: Mapping[str, object], result: WriteResult) -> None:
        st = self._stmts
        for fact in FACTS.values():
            if fact.stem not in staged:
                continue
            for ref in fact.refs:
                cur.execute(st.inferred[(fact.stem, ref.dim)])
                if cur.rowcount:
                    result.inferred[ref.dim] = result.inferred.get(ref.dim, 0) + cur.rowcount
            cur.execute(st.facts[fact.stem])
            result.rows[fact.table] = cur.rowcount
        changed = [d for d in DIMENSIONS.values() if d.scd == 2 and result.rows.get(d.changes)]
        for dim in changed:
            self._re_resolve(cur, dim, result)

    def _re_resolve(self, cur: Cursor, dim: DimSpec, result: WriteResult) -> None:
        for (stem, name), statement in self._stmts.re_resolve.items():
            if name == dim.name:
                cur.execute(statement)
                table = FACTS[stem].table
                result.rows[table] = result.rows.get(table, 0) + cur.rowcount

    def _bookkeeping(
        self, cur: Cursor, batch: Load, batch_id: int | None, result: WriteResult, started: float
    ) -> None:
        if batch.offsets:
            execute_values(
                cur,
                "INSERT INTO metadata.sink_offsets (sink, topic, partition, next_offset) "
                "VALUES %s ON CONFLICT (sink, topic, partition) DO UPDATE "
                "SET next_offset = excluded.next_offset, updated_at = now()",
                [(self.sink, t, p, o) for (t, p), o in sorted(batch.offsets.items())],
            )
        if batch.rejected:
            execute_values(
                cur,
                "INSERT INTO metadata.rejected_records "
                '(sink, topic, partition, "offset", reason, detail, value) VALUES %s '
                "ON CONFLICT DO NOTHING",
                [
                    (
                        self.sink,
                        r.topic,
                        r.partition,
                        r.offset,
                        r.reason,
                        r.detail,
                        psycopg2.Binary(r.value) if r.value is not None else None,
                    )
                    for r in batch.rejected
                ],
            )
        cur.execute(
            # The last statement, so committed_at (clock_timestamp()) is as late as it can be.
            "INSERT INTO metadata.load_batches "
            "(batch_id, sink, records, rows_written, started_at) OVERRIDING SYSTEM VALUE "
            "VALUES (%s, %s, %s, %s, to_timestamp(%s))",
            (batch_id, self.sink, len(batch), sum(result.rows.values()), started),
        )
