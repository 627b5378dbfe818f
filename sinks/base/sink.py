"""``BatchingSink``: per-partition buffers and the one method a destination implements.

The runner (:class:`sinks.base.runner.SinkRunner`) is the only caller. It
appends records in offset order, asks when to flush, calls :meth:`flush`, and
commits the offset :meth:`flush` returns, never before. A buffer is cleared
whatever :meth:`write` does, so a failed batch is re-read from Kafka instead
of being held in memory.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable

from sinks.base.batch import Batch, BatchLimits, KafkaRecord, TopicPartitionKey


class BatchingSink(ABC):
    """Buffers records per (topic, partition); a subclass only writes whole batches."""

    def __init__(self, limits: BatchLimits) -> None:
        self.limits = limits
        self._batches: dict[TopicPartitionKey, Batch] = {}

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

    def batch(self, key: TopicPartitionKey) -> Batch | None:
        """The non-empty buffer of a partition, or None."""
        batch = self._batches.get(key)
        return batch if batch else None

    def is_full(self, key: TopicPartitionKey) -> bool:
        """Called by the runner after each append: a full buffer is flushed at once."""
        batch = self._batches.get(key)
        return bool(batch) and (
            len(batch) >= self.limits.max_records  # type: ignore[arg-type]
            or batch.size >= self.limits.max_bytes  # type: ignore[union-attr]
        )

    def expired(self, now: float | None = None) -> list[TopicPartitionKey]:
        """Partitions whose oldest buffered record waited ``max_age_s``; polled by the runner."""
        now = time.monotonic() if now is None else now
        return [
            key
            for key, batch in self._batches.items()
            if batch and now - batch.started >= self.limits.max_age_s
        ]

    def pending(self) -> list[TopicPartitionKey]:
        """Partitions with buffered records; the runner flushes them when it stops."""
        return [key for key, batch in self._batches.items() if batch]

    def flush(self, key: TopicPartitionKey) -> int | None:
        """Write the partition's buffer; returns the offset to commit, or None if it was empty.

        Called by the runner when a buffer is full, expired, must rotate, or at
        shutdown. The buffer is cleared in ``finally``: after a failure the
        exception propagates and the runner re-reads the records from Kafka.
        """
        batch = self._batches.get(key)
        if not batch:
            return None
        try:
            return self.write(batch)
        finally:
            del self._batches[key]

    def drop(self, keys: Iterable[TopicPartitionKey]) -> None:
        """Forget unwritten buffers of revoked or lost partitions (their new owner re-reads them).

        Called by the runner from the consumer's rebalance callbacks.
        """
        for key in keys:
            self._batches.pop(key, None)

    def close(self) -> None:
        """Release the destination's resources; called once by the runner when it stops."""
        return None
