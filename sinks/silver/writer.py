"""The silver sink's ``write(batch)``: one partition's clean records -> Parquet objects.

A batch (one topic-partition, contiguous in offset order, cut by the runner
on rows, bytes or age) is decoded and cut into *runs*: maximal stretches of
records of one event day (records without a row, tombstones or undecodable
values, join the run they fall in). Each run is one object named by its
first offset (:class:`~sinks.silver.naming.ObjectName`), written with a
conditional put. So objects of a partition chain end to start, each holds
one ``dt=`` day, and late events cost an extra object, never a wrong folder.

Exactly once, as the bronze sink does it: offsets are committed only after
every object of the batch is stored (the runner), and a refused put means
an earlier run (killed before it committed) stored that key. The writer
reads the existing object's coverage and compares the rows both hold, by
(offset, event_id):

* the same rows: the existing object stands, and the writer goes on from
  the offset after it, wherever the earlier run cut its batch, so a replay
  after SIGKILL produces exactly the keys the first run would have finished
  with; if it reaches past this batch, the runner skips ahead to its end;
* different rows: :class:`~sinks.silver.exceptions.SilverConflictError`
  (terminal), counted and logged, and the object is left as it is.

Because each object starts where the previous one ended (or at a day
change, which every run splits at too), a new object never starts inside an
existing one, so no row is ever stored twice.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import time
from collections.abc import Sequence

from orion.exceptions import TransientError
from sinks.base import Batch, BatchingSink, BatchLimits, SinkBackpressureError
from sinks.base.storage import Storage
from sinks.silver import metrics
from sinks.silver.decode import Row, RowDecoder
from sinks.silver.exceptions import SilverConflictError
from sinks.silver.naming import ObjectName, event_day
from sinks.silver.parquet_format import ParquetFormat

__all__ = ["SilverSink", "next_run"]

log = logging.getLogger("sinks.silver.writer")


def next_run(rows: Sequence[Row | None], start: int) -> tuple[int, dt.date | None]:
    """(end index, event day) of the run that begins at ``start``; day None: no rows left.

    The run takes every record up to the first row of another day; records
    without a row never end a run.
    """
    day: dt.date | None = None
    end = start
    for end in range(start, len(rows)):
        row = rows[end]
        if row is None:
            continue
        d = event_day(row["event_time"])
        if day is None:
            day = d
        elif d != day:
            return end, day
    return len(rows), day


class SilverSink(BatchingSink):
    """Clean records to silver Parquet objects, per partition (the runner flushes each alone)."""

    def __init__(
        self,
        storage: Storage,
        decoder: RowDecoder,
        fmt: ParquetFormat,
        limits: BatchLimits,
        *,
        prefix: str = "silver",
        topic_prefix: str = "",
        retry_after_s: float = 5.0,
    ) -> None:
        super().__init__(limits)
        self.storage = storage
        self.decoder = decoder
        self.format = fmt
        self.prefix = prefix.strip("/")
        self.topic_prefix = topic_prefix
        self.retry_after_s = retry_after_s

    def stem(self, topic: str) -> str:
        return topic.removeprefix(self.topic_prefix).removeprefix("clean.")

    def write(self, batch: Batch) -> int:
        """Store the batch's runs; the next offset to consume. Called by the runner's flush.

        S3 or the registry failing (after the storage's retries) raises
        :class:`~sinks.base.SinkBackpressureError`: the runner rewinds the
        partition and retries; objects already stored are found again then.
        """
        started = time.monotonic()
        try:
            next_offset = self._write(batch)
        except TransientError as e:
            metrics.BACKOFFS.labels(batch.topic).inc()
            raise SinkBackpressureError(
                f"{batch.topic}[{batch.partition}]: {e}", retry_after=self.retry_after_s
            ) from e
        metrics.FLUSH_SECONDS.labels(batch.topic).observe(time.monotonic() - started)
        return next_offset

    def _write(self, batch: Batch) -> int:
        stem = self.stem(batch.topic)
        rows = self.decoder(stem, batch.records)
        offsets = [r.offset for r in batch.records]
        i = 0
        while i < len(rows):
            end, day = next_run(rows, i)
            if day is None:
                break  # only records without a row are left: nothing to store
            name = ObjectName(self.prefix, stem, day, batch.topic, batch.partition, offsets[i])
            kept = [k for k in range(i, end) if rows[k] is not None]
            table = self.format.table(
                stem,
                batch.topic,
                batch.partition,
                [rows[k] for k in kept],  # type: ignore[misc]
                [offsets[k] for k in kept],
                (offsets[i], offsets[end - 1]),
            )
            body = self.format.encode(table)
            if self.storage.put_if_absent(name.key, body):
                metrics.OBJECTS.labels(batch.topic).inc()
                metrics.BYTES.labels(batch.topic).inc(len(body))
                metrics.ROWS.labels(batch.topic).inc(len(kept))
                i = end
                continue
            covered_to = self._existing(name, rows, offsets, i)
            i = bisect.bisect_right(offsets, covered_to)
            if i >= len(rows):
                return max(covered_to, offsets[-1]) + 1
        return offsets[-1] + 1

    def _existing(
        self, name: ObjectName, rows: Sequence[Row | None], offsets: Sequence[int], i: int
    ) -> int:
        """The last offset an existing object covers, once its rows are ours; else conflict."""
        found = self.format.coverage(self.storage.get(name.key))
        upto = min(found.last_offset, offsets[-1])
        ours = [
            (offsets[k], str(rows[k]["event_id"]))  # type: ignore[index]
            for k in range(i, bisect.bisect_right(offsets, upto))
            if rows[k] is not None
        ]
        theirs = [(o, e) for o, e in found.rows if o <= upto]
        if found.first_offset != offsets[i] or ours != theirs:
            metrics.CONFLICTS.labels(name.topic, "mismatch").inc()
            log.error(
                "silver object holds different records; not overwriting",
                extra={"key": name.key, "topic": name.topic, "partition": name.partition},
            )
            raise SilverConflictError(
                f"{name.key} exists and holds different records than "
                f"{name.topic}[{name.partition}] at offsets {offsets[i]}..{upto}",
                fix="inspect the object; the sink never overwrites silver data "
                "(docs/runbook.md#orionsilvermismatch)",
            )
        metrics.CONFLICTS.labels(name.topic, "identical").inc()
        log.info(
            "object already stored",
            extra={"key": name.key, "first": found.first_offset, "last": found.last_offset},
        )
        return found.last_offset
