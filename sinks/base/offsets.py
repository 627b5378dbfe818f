"""Where a sink's consumer positions live: :class:`OffsetStore` and its two kinds.

The runner (:class:`sinks.base.runner.SinkRunner`) is the only caller. When
partitions are assigned it asks :meth:`OffsetStore.starting` where to start
them; after every successful write it hands :meth:`OffsetStore.commit` the
next offset of each partition the write covered, never before.

* :class:`KafkaOffsets` (object stores, e.g. S3 bronze): the group's committed
  offsets are the truth. A partition starts where the group committed (or at
  ``auto.offset.reset``); offsets are committed synchronously after the
  destination made the data durable. A failed commit is logged and left: the
  data is durable and idempotent, so the next owner rewrites it harmlessly.
* :class:`DestinationOffsets` (transactional destinations, e.g. the
  warehouse): the destination stores the next offsets inside the very
  transaction that writes the rows, so :meth:`commit` has nothing left to do,
  and on assignment the offsets are read back from the destination. Kafka's
  committed offsets are never read or written. A read that fails on
  assignment because the destination does not answer (PostgreSQL
  restarting) is tried again with a growing pause, up to
  ``patience_s`` (60 s: well inside the consumer's poll interval, since it
  blocks the assignment callback); only then does it raise out of the
  callback and end the run (the supervisor restarts it; nothing was written).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from confluent_kafka import Consumer, KafkaException, TopicPartition

from orion.exceptions import ServiceUnavailableError
from orion.kafka_errors import is_fatal
from sinks.base.batch import TopicPartitionKey

__all__ = ["DestinationOffsets", "KafkaOffsets", "OffsetStore"]

log = logging.getLogger("sinks.offsets")

Positions = dict[TopicPartitionKey, int]  # the next offset to consume, per partition


class OffsetStore(Protocol):
    """What the runner needs to know about where consumption starts and how it is recorded."""

    def starting(self, partitions: Sequence[TopicPartitionKey]) -> Positions | None:
        """The next offset of each newly assigned partition, or None to use the group's commits.

        Partitions missing from a returned mapping start at the beginning.
        Called inside the consumer's assignment callback.
        """
        ...

    def commit(self, consumer: Consumer, offsets: Mapping[TopicPartitionKey, int]) -> bool:
        """Record ``offsets`` (next offset per partition) after a successful write.

        Returns False when the commit failed but the data is durable anyway.
        """
        ...


class KafkaOffsets:
    """The consumer group's committed offsets: commit synchronously after each durable write."""

    def starting(self, partitions: Sequence[TopicPartitionKey]) -> Positions | None:
        return None

    def commit(self, consumer: Consumer, offsets: Mapping[TopicPartitionKey, int]) -> bool:
        try:
            consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in sorted(offsets.items())],
                asynchronous=False,
            )
        except KafkaException as e:
            if is_fatal(e.args[0]):
                raise  # a fenced or otherwise dead consumer: the process must start over
            # Typically a rebalance in progress: the data is durable, and the new
            # owner recognises it by its object name when it writes it again.
            log.warning("commit failed", extra={"partitions": sorted(offsets), "error": str(e)})
            return False
        return True


class DestinationOffsets:
    """Offsets the destination keeps in its own transaction; ``read(topics)`` returns them."""

    def __init__(
        self,
        read: Callable[[list[str]], Mapping[TopicPartitionKey, int]],
        patience_s: float = 60.0,
    ) -> None:
        self._read = read
        self.patience_s = patience_s

    def starting(self, partitions: Sequence[TopicPartitionKey]) -> Positions | None:
        topics = sorted({t for t, _ in partitions})
        deadline = time.monotonic() + self.patience_s
        pause = 0.5
        while True:
            try:
                stored = self._read(topics)
                break
            except ServiceUnavailableError as e:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("reading stored offsets failed; trying again",
                            extra={"error": e.message, "retry_in_s": pause})  # fmt: skip
                time.sleep(pause)
                pause = min(pause * 2, 10.0)
        return {key: stored[key] for key in partitions if key in stored}

    def commit(self, consumer: Consumer, offsets: Mapping[TopicPartitionKey, int]) -> bool:
        return True  # already committed with the rows, in the destination's transaction
