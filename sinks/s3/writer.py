"""The writer of one topic-partition, and the sink that owns one writer per partition.

A batch becomes one object per date folder, named by its first offset. The
put is conditional; a refused put means the object exists (an earlier run,
or another worker, wrote it before its offsets were committed). The writer
then reads it back and compares the records both hold, by checksum:

* the same records, and the object ends where the batch ends: done;
* the object ends *after* the batch: the batch is stored, and the writer
  tells the runner to skip ahead to the object's end;
* the object ends *before* the batch: the rest of the batch goes into the
  next object, which starts where the existing one ends;
* different records: :class:`ArchiveConflictError`, counted and logged, and
  the object is left as it is.

So objects of a partition always chain end to start: no gap, no overlap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from enum import Enum

from orion.exceptions import TransientError
from sinks.base import (
    Batch,
    BatchingSink,
    BatchLimits,
    KafkaRecord,
    SinkBackpressureError,
    TopicPartitionKey,
)
from sinks.base.storage import Storage
from sinks.s3 import metrics
from sinks.s3.exceptions import ArchiveConflictError
from sinks.s3.format import Format, records_checksum
from sinks.s3.partitioner import DailyPartitioner

log = logging.getLogger("sinks.s3.writer")


class WriterState(Enum):
    IDLE = "idle"
    WRITING = "writing"
    BACKING_OFF = "backing-off"
    FAILED = "failed"


class PartitionWriter:
    """Writes the batches of one topic-partition; states: idle -> writing -> idle | backing-off."""

    def __init__(
        self,
        topic: str,
        partition: int,
        fmt: Format,
        partitioner: DailyPartitioner,
        storage: Storage,
        *,
        retry_after_s: float = 5.0,
    ) -> None:
        self.topic = topic
        self.partition = partition
        self.format = fmt
        self.partitioner = partitioner
        self.storage = storage
        self.retry_after_s = retry_after_s
        self.state = WriterState.IDLE

    def write(self, records: Sequence[KafkaRecord]) -> int:
        """Store ``records`` (one date, contiguous); return the next offset to consume."""
        self.state = WriterState.WRITING
        try:
            next_offset = self._write(records)
        except TransientError as e:
            self.state = WriterState.BACKING_OFF
            metrics.BACKOFFS.labels(self.topic).inc()
            raise SinkBackpressureError(
                f"{self.topic}[{self.partition}]: {e}", retry_after=self.retry_after_s
            ) from e
        except BaseException:
            self.state = WriterState.FAILED
            raise
        self.state = WriterState.IDLE
        return next_offset

    def _write(self, records: Sequence[KafkaRecord]) -> int:
        while records:
            name = self.partitioner.name(records[0])
            body = self.format.encode(records)
            if self.storage.put_if_absent(name.key, body):
                metrics.OBJECTS.labels(self.topic).inc()
                metrics.BYTES.labels(self.topic).inc(len(body))
                metrics.RECORDS.labels(self.topic).inc(len(records))
                return records[-1].offset + 1
            existing = self.format.decode(self.storage.get(name.key))
            n = min(len(existing), len(records))
            if not existing or records_checksum(existing[:n]) != records_checksum(records[:n]):
                metrics.CONFLICTS.labels(self.topic, "mismatch").inc()
                log.error(
                    "bronze object holds different records; not overwriting",
                    extra={"key": name.key, "topic": self.topic, "partition": self.partition},
                )
                raise ArchiveConflictError(
                    f"{name.key} exists and holds different records than "
                    f"{self.topic}[{self.partition}] at offsets {records[0].offset}..",
                    fix="inspect the object; the sink never overwrites bronze data",
                )
            metrics.CONFLICTS.labels(self.topic, "identical").inc()
            log.info(
                "object already stored",
                extra={"key": name.key, "records": len(existing), "batch": len(records)},
            )
            if len(existing) >= len(records):
                return existing[-1].offset + 1
            records = records[n:]
        raise AssertionError("unreachable: a batch is never empty")


class S3Sink(BatchingSink):
    """Kafka records to bronze objects: one :class:`PartitionWriter` per topic-partition."""

    def __init__(
        self,
        storage: Storage,
        fmt: Format,
        partitioner: DailyPartitioner,
        limits: BatchLimits,
        *,
        retry_after_s: float = 5.0,
    ) -> None:
        super().__init__(limits)
        self.storage = storage
        self.format = fmt
        self.partitioner = partitioner
        self.retry_after_s = retry_after_s
        self._writers: dict[tuple[str, int], PartitionWriter] = {}

    def writer(self, topic: str, partition: int) -> PartitionWriter:
        key = (topic, partition)
        w = self._writers.get(key)
        if w is None:
            w = self._writers[key] = PartitionWriter(
                topic,
                partition,
                self.format,
                self.partitioner,
                self.storage,
                retry_after_s=self.retry_after_s,
            )
        return w

    def rotate_before(self, batch: Batch, record: KafkaRecord) -> bool:
        """A batch never spans two date folders."""
        return not self.partitioner.same_folder(batch.records[-1], record)

    def write(self, batch: Batch) -> int:
        started = time.monotonic()
        next_offset = self.writer(batch.topic, batch.partition).write(batch.records)
        metrics.FLUSH_SECONDS.labels(batch.topic).observe(time.monotonic() - started)
        return next_offset

    def drop(self, keys: Iterable[TopicPartitionKey]) -> None:
        keys = list(keys)
        super().drop(keys)
        for key in keys:
            self._writers.pop(key, None)
