"""``BatchingSink``: per-partition buffers and the one method a destination implements.

The runner (:class:`sinks.base.runner.SinkRunner`) is the only caller. It
appends records in offset order, asks when to flush, calls :meth:`flush_all`,
and records the offsets it returns through its offset store, never before. A
buffer is cleared whatever the write does, so a failed batch is re-read from
Kafka instead of being held in memory.

Buffers are always per partition (one :class:`~sinks.base.batch.Batch` each,
contiguous offsets). How they are written is the sink's choice:

* per partition (the default, e.g. S3 bronze: one object per batch): the
  runner flushes each partition on its own when it is full, expired or must
  rotate, and :meth:`write` gets one batch;
* together (``flushes_together = True``, e.g. the warehouse: one database
  transaction per flush): the limits count every buffer together, and when
  any is due the runner flushes all of them in one :meth:`write_all` call;
  if that fails, every partition in it is rewound.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import ClassVar

from sinks.base.batch import Batch, BatchLimits, KafkaRecord, TopicPartitionKey


class BatchingSink(ABC):
    """Buffers records per (topic, partition); a subclass only writes whole batches."""

    #: True: the limits count all buffers together and every buffer is written in one
    #: :meth:`write_all` call (one destination transaction).
    flushes_together: ClassVar[bool] = False

    def __init__(self, limits: BatchLimits) -> None:
        self.limits = limits
        self._batches: dict[TopicPartitionKey, Batch] = {}
        self._held = [0, 0]  # records and bytes in every buffer together

    @abstractmethod
    def write(self, batch: Batch) -> int:
        """Make ``batch`` durable and return the next offset to consume for its partition.

        Called by :meth:`flush` only, with a non-empty batch. Normally returns
        ``batch.last_offset + 1``; a larger value tells the runner the
        destination already holds records beyond the batch, so it skips to
        that offset. Raise :class:`~sinks.base.SinkBackpressureError` when the
        destination is unavailable (the runner pauses the partition, rewinds
        it to ``batch.first_offset`` and retries later) or
        :class:`~sinks.base.SinkTerminalError` when retrying cannot help (the
        runner stops without committing). Anything written before a failure
        must be safe to write again.
        """

    def write_all(self, batches: Sequence[Batch]) -> dict[TopicPartitionKey, int]:
        """Make every batch durable; return the next offset of each batch's partition.

        Called by :meth:`flush_all` with non-empty batches of distinct
        partitions: one at a time unless :attr:`flushes_together`. The default
        writes them one by one with :meth:`write`; a sink that flushes together
        overrides it to write them all at once, all or nothing, and raises like
        :meth:`write` (a back-pressure error rewinds every partition given).
        """
        return {(b.topic, b.partition): self.write(b) for b in batches}

    def rotate_before(self, batch: Batch, record: KafkaRecord) -> bool:
        """Whether ``batch`` must be flushed before ``record`` joins it.

        Called by the runner before each append; the default never splits.
        Subclasses split on a change of destination (an S3 date folder, a
        schema). Must not fail.
        """
        return False

    def append(self, record: KafkaRecord) -> None:
        """Buffer one record; the runner has checked :meth:`rotate_before` first."""
        key = (record.topic, record.partition)
        batch = self._batches.get(key)
        if batch is None:
            batch = self._batches[key] = Batch(record.topic, record.partition)
        batch.append(record)
        self._held[0] += 1
        self._held[1] += record.size

    def batch(self, key: TopicPartitionKey) -> Batch | None:
        """The non-empty buffer of a partition, or None."""
        batch = self._batches.get(key)
        return batch if batch else None

    def is_full(self, key: TopicPartitionKey) -> bool:
        """Called by the runner after each append: a full buffer is flushed at once.

        With :attr:`flushes_together` the limits count every buffer together.
        """
        if self.flushes_together:
            records, size = self._held
        else:
            batch = self._batches.get(key)
            records, size = (len(batch), batch.size) if batch else (0, 0)
        return records > 0 and (records >= self.limits.max_records or size >= self.limits.max_bytes)

    def expired(self, now: float | None = None) -> list[TopicPartitionKey]:
        """Partitions whose oldest buffered record waited ``max_age_s``; polled by the runner.

        With :attr:`flushes_together`, every buffered partition once any has expired.
        """
        now = time.monotonic() if now is None else now
        old = [
            key
            for key, batch in self._batches.items()
            if batch and now - batch.started >= self.limits.max_age_s
        ]
        return self.pending() if old and self.flushes_together else old

    def next_due(self) -> float | None:
        """When (``time.monotonic()``) the oldest buffer reaches ``max_age_s``; None if none.

        The runner waits in ``consume()`` no longer than this, so a batch is
        written when its age is up, not up to a poll timeout later.
        """
        started = [batch.started for batch in self._batches.values() if batch]
        return min(started) + self.limits.max_age_s if started else None

    def pending(self) -> list[TopicPartitionKey]:
        """Partitions with buffered records; the runner flushes them when it stops."""
        return [key for key, batch in self._batches.items() if batch]

    def flush(self, key: TopicPartitionKey) -> int | None:
        """Write the partition's buffer; returns the offset to commit, or None if it was empty.

        :meth:`flush_all` for one key. The buffer is cleared in ``finally``:
        after a failure the exception propagates and the runner re-reads the
        records from Kafka.
        """
        return self.flush_all([key]).get(key)

    def flush_all(self, keys: Iterable[TopicPartitionKey]) -> dict[TopicPartitionKey, int]:
        """Write the buffers of ``keys`` with :meth:`write_all`; returns the offsets to record.

        Called by the runner when buffers are full, expired, must rotate, are
        revoked (if the runner flushes on revoke), or at shutdown.

        Empty buffers are left out (nothing to write: an empty mapping). The
        buffers are cleared in ``finally``, as :meth:`flush` does.
        """
        batches = [b for b in (self._batches.get(k) for k in dict.fromkeys(keys)) if b]
        if not batches:
            return {}
        try:
            return self.write_all(batches)
        finally:
            self._forget([(b.topic, b.partition) for b in batches])

    def drop(self, keys: Iterable[TopicPartitionKey]) -> None:
        """Forget unwritten buffers of revoked or lost partitions (their new owner re-reads them).

        Called by the runner from the consumer's rebalance callbacks.
        """
        self._forget(keys)

    def _forget(self, keys: Iterable[TopicPartitionKey]) -> None:
        for key in keys:
            batch = self._batches.pop(key, None)
            if batch is not None:
                self._held[0] -= len(batch)
                self._held[1] -= batch.size

    def close(self) -> None:
        """Release the destination's resources; called once by the runner when it stops."""
        return None
