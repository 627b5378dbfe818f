"""``SinkRunner``: the consumer loop that feeds a :class:`BatchingSink` and commits after it.

Exactly once rests on three rules kept here:

* offsets are committed synchronously, explicitly, and only with the value
  :meth:`BatchingSink.flush` returned after a successful write;
* a partition whose write failed is paused, rewound to its first unwritten
  offset and resumed after the back-off, so a buffer never outgrows its
  limits and nothing is skipped;
* partitions revoked or lost in a rebalance drop their buffers; their new
  owner starts from the committed offset.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from orion.metrics import Heartbeat
from sinks.base import metrics
from sinks.base.batch import KafkaRecord, TopicPartitionKey
from sinks.base.exceptions import SinkBackpressureError
from sinks.base.sink import BatchingSink

log = logging.getLogger("sinks.runner")


@dataclass(frozen=True)
class RunnerOptions:
    """Knobs of the loop; the defaults suit a long-running service."""

    name: str = "sink"  # the `sink` label of the shared metrics
    consume_batch: int = 1000
    poll_timeout_s: float = 0.2
    lag_interval_s: float = 5.0


@dataclass
class RunStats:
    """What one run did, for the CLI summary and the tests."""

    records: int = 0
    flushes: int = 0
    commits: int = 0
    backoffs: int = 0
    rebalances: int = 0
    committed: dict[TopicPartitionKey, int] = field(default_factory=dict)


class SinkRunner:
    """Runs one consumer into one sink until ``stop`` is set; not thread-safe, one thread only."""

    def __init__(
        self,
        consumer: Consumer,
        sink: BatchingSink,
        topics: list[str],
        *,
        options: RunnerOptions | None = None,
        on_lag: Callable[[TopicPartitionKey, int], None] | None = None,
        on_flush: Callable[[TopicPartitionKey, float], None] | None = None,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.heartbeat = heartbeat
        self.consumer = consumer
        self.sink = sink
        self.topics = topics
        self.options = options or RunnerOptions()
        self.stats = RunStats()
        self._on_lag = on_lag
        self._on_flush = on_flush
        self._assigned: set[TopicPartitionKey] = set()
        self._expected: dict[TopicPartitionKey, int] = {}
        self._paused: dict[TopicPartitionKey, float] = {}  # partition -> resume at (monotonic)
        self._last_lag = 0.0
        self.ready = threading.Event()

    # -- rebalance callbacks (run inside consume()) -------------------------------------------

    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        self.stats.rebalances += 1
        self._assigned.update(keys)
        for key in keys:
            self._expected.pop(key, None)
            self._paused.pop(key, None)
        self.ready.set()
        log.info("partitions assigned", extra={"partitions": sorted(keys)})

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        self.sink.drop(keys)
        for key in keys:
            self._assigned.discard(key)
            self._expected.pop(key, None)
            self._paused.pop(key, None)
        log.info("partitions revoked, unwritten buffers dropped", extra={"partitions": keys})

    # -- the loop -----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> RunStats:
        """Consume until ``stop`` is set, then flush what is buffered, commit it and return.

        Raises :class:`~sinks.base.SinkTerminalError` (nothing further is
        committed) and ``KafkaException`` for fatal consumer errors. The
        caller closes the consumer.
        """
        self.consumer.subscribe(
            self.topics,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        try:
            while not stop.is_set():
                if self.heartbeat is not None:
                    self.heartbeat.beat(len(self._assigned))
                messages = self.consumer.consume(
                    self.options.consume_batch, timeout=self.options.poll_timeout_s
                )
                for message in messages:
                    self._handle(message)
                now = time.monotonic()
                for key in self.sink.expired(now):
                    self._flush(key)
                self._resume_due(now)
                if now - self._last_lag >= self.options.lag_interval_s:
                    self._report_lag()
                    self._last_lag = now
            for key in self.sink.pending():
                self._flush(key)
        finally:
            self.sink.close()
        return self.stats

    def _handle(self, message: Any) -> None:
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                return
            if error.fatal():
                raise KafkaException(error)
            log.warning("consumer error", extra={"error": str(error)})
            return
        key = (message.topic(), message.partition())
        if key not in self._assigned or key in self._paused:
            return  # fetched before a revoke or a pause; it will be read again
        offset = message.offset()
        expected = self._expected.get(key)
        if expected is not None and offset < expected:
            return  # before a skip-ahead: already in the destination
        record = KafkaRecord.from_message(message)
        batch = self.sink.batch(key)
        if batch is not None and self.sink.rotate_before(batch, record) and not self._flush(key):
            return
        self.sink.append(record)
        self._expected[key] = offset + 1
        self.stats.records += 1
        if self.sink.is_full(key):
            self._flush(key)

    def _flush(self, key: TopicPartitionKey) -> bool:
        """Flush and commit one partition; False when it was paused for back-pressure."""
        batch = self.sink.batch(key)
        if batch is None:
            return True
        first, last = batch.first_offset, batch.last_offset
        started = time.monotonic()
        try:
            next_offset = self.sink.flush(key)
        except SinkBackpressureError as e:
            self._back_off(key, first, e)
            return False
        if next_offset is None:
            return True
        if self._on_flush is not None:
            self._on_flush(key, time.monotonic() - started)
        self.stats.flushes += 1
        if next_offset > last + 1:
            # The destination already holds records past this batch: skip them.
            self._seek(key, next_offset)
        self._expected[key] = next_offset
        self._commit(key, next_offset)
        return True

    def _commit(self, key: TopicPartitionKey, offset: int) -> None:
        try:
            self.consumer.commit(
                offsets=[TopicPartition(key[0], key[1], offset)], asynchronous=False
            )
        except KafkaException as e:
            # Typically a rebalance in progress: the data is durable, and the new
            # owner recognises it by its object name when it writes it again.
            log.warning(
                "commit failed", extra={"topic": key[0], "partition": key[1], "error": str(e)}
            )
            return
        self.stats.commits += 1
        self.stats.committed[key] = offset
        metrics.LAST_COMMIT.labels(self.options.name).set_to_current_time()

    def _seek(self, key: TopicPartitionKey, offset: int) -> None:
        self.consumer.seek(TopicPartition(key[0], key[1], offset))

    def _back_off(self, key: TopicPartitionKey, first: int, error: SinkBackpressureError) -> None:
        tp = TopicPartition(key[0], key[1], first)
        self.consumer.pause([tp])
        self._seek(key, first)
        self._expected[key] = first
        self._paused[key] = time.monotonic() + error.retry_after
        self.stats.backoffs += 1
        log.warning(
            "partition paused after a failed write",
            extra={
                "topic": key[0],
                "partition": key[1],
                "rewound_to": first,
                "retry_after_s": error.retry_after,
                "error": error.message,
            },
        )

    def _resume_due(self, now: float) -> None:
        due = [key for key, at in self._paused.items() if at <= now]
        if due:
            self.consumer.resume([TopicPartition(t, p) for t, p in due])
            for key in due:
                del self._paused[key]

    def _report_lag(self) -> None:
        if self._on_lag is None:
            return
        for key in list(self._assigned):
            expected = self._expected.get(key)
            if expected is None:
                continue
            try:
                _low, high = self.consumer.get_watermark_offsets(
                    TopicPartition(key[0], key[1]), cached=True
                )
            except KafkaException:
                continue
            if high >= 0:
                self._on_lag(key, max(high - expected, 0))
