"""``SinkRunner``: the one consumer loop of every sink; it feeds a :class:`BatchingSink`.

Each sink's command wires a consumer, its sink (a ``write`` and its limits)
and an :class:`~sinks.base.offsets.OffsetStore` into this loop:
:func:`sinks.s3.consumer.run_s3_sink` with :class:`KafkaOffsets`, and
:func:`sinks.warehouse.consumer.run_warehouse_sink` with
:class:`DestinationOffsets` (the warehouse keeps its offsets in its own
transaction). The loop subscribes, buffers per partition, flushes on the
sink's limits and rotation, and records offsets only after a write succeeded.

The guarantees rest on rules kept here:

* offsets reach the store only with the values a successful write returned;
  a failed write records nothing;
* on assignment the store says where each partition starts (Kafka: the
  group's committed offset; the warehouse: the offsets stored with its rows),
  and the runner assigns the partitions there;
* a write that raises :class:`~sinks.base.SinkBackpressureError` (the
  destination is unavailable now) pauses every partition it covered, rewinds
  each to its first unwritten offset and resumes them after ``retry_after``
  seconds, so a buffer never outgrows its limits and nothing is skipped;
  :class:`~sinks.base.SinkTerminalError` ends the run, recording nothing;
* partitions revoked in a rebalance are flushed first when
  ``flush_on_revoke`` is set (the destination's transaction makes a late
  flush safe), otherwise their buffers are dropped; lost partitions are
  always dropped. Their new owner starts from the stored offsets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from prometheus_client import Gauge

from orion.exceptions import ConfigurationError, ServiceUnavailableError
from orion.kafka_config import KafkaConfig, bootstrap_of
from orion.kafka_errors import is_fatal
from orion.kafka_refusal import check_access
from orion.metrics import Heartbeat
from sinks.base import metrics
from sinks.base.batch import KafkaRecord, TopicPartitionKey
from sinks.base.exceptions import SinkBackpressureError
from sinks.base.offsets import DestinationOffsets, KafkaOffsets, OffsetStore
from sinks.base.sink import BatchingSink

log = logging.getLogger("sinks.runner")


def consumer_config(
    kafka: KafkaConfig, group: str, instance_id: str | None = None
) -> dict[str, Any]:
    """The consumer settings every sink starts from: positions move only through the runner.

    Nothing is committed or stored automatically; the offset store records
    positions after a write. A group without positions starts at the earliest
    record. ``instance_id`` is static group membership (``group.instance.id``):
    a restarted worker with the same id takes its partitions back at once.
    """
    conf: dict[str, Any] = {
        **kafka,
        "group.id": group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
    }
    if instance_id:
        conf["group.instance.id"] = instance_id
    return conf


def object_store_consumer_config(
    kafka: KafkaConfig, group: str, instance_id: str | None, queued_max_kbytes: int, client_id: str
) -> dict[str, Any]:
    """:func:`consumer_config` for sinks that write objects and commit offsets to Kafka after.

    ``read_committed`` (librdkafka's default, stated): the clean topics are
    written in transactions. ``max.poll.interval.ms`` is also how long a
    rebalance waits for a member that died without leaving; it stays above the
    longest S3 retry of one flush (see :class:`~sinks.base.storage.RetryPolicy`)
    but well below librdkafka's default of five minutes.
    """
    return {
        **consumer_config(kafka, group, instance_id),
        "isolation.level": "read_committed",
        "queued.max.messages.kbytes": queued_max_kbytes,
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 2_000,
        "max.poll.interval.ms": 90_000,
        "client.id": client_id,
    }


def checked_consumer(config: dict[str, Any], topics: Sequence[str]) -> Consumer:
    """A consumer with ``config``, closed again when :func:`check_topics` refuses to start."""
    consumer = Consumer(config)
    try:
        check_topics(consumer, config, topics)
    except BaseException:
        consumer.close()
        raise
    return consumer


def check_topics(consumer: Consumer, kafka: KafkaConfig, topics: Sequence[str]) -> None:
    """Stop at start-up, with the fix, when Kafka refuses ``kafka``'s credentials or
    certificate, does not answer, or a topic is missing."""
    check_access(kafka, timeout_s=10)
    bootstrap = bootstrap_of(kafka)
    try:
        meta = consumer.list_topics(timeout=10)
    except KafkaException as e:
        raise ServiceUnavailableError(
            f"Kafka at {bootstrap} did not answer: {e}",
            fix="start it (`orion stack up`) or correct ORION_KAFKA_BOOTSTRAP",
        ) from e
    missing = [t for t in topics if t not in meta.topics]
    if missing:
        raise ConfigurationError(
            f"topic(s) missing: {', '.join(missing)}",
            fix="run `orion topics create` (with the same ORION_TOPIC_PREFIX)",
        )


@dataclass(frozen=True)
class RunnerOptions:
    """Knobs of the loop; the defaults suit a long-running service."""

    name: str = "sink"  # the `sink` label of the shared metrics
    consume_batch: int = 1000
    poll_timeout_s: float = 0.2
    lag_interval_s: float = 5.0
    #: Flush revoked partitions before giving them up (instead of dropping their buffers).
    flush_on_revoke: bool = False
    #: Per-partition sinks: the age flushes of one loop turn stop starting new partitions
    #: after this long; the rest are flushed on the next turns, after a consume(). Flushes
    #: run in the poll thread, and a catch-up expires every buffer at once: written in one
    #: go they outlasted max.poll.interval.ms (90 s) and the silver sink's static member was
    #: fenced, again after each restart (the chaos drill, 2026-12-02).
    flush_budget_s: float = 20.0


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
    """Runs one consumer into one sink until ``stop`` is set; not thread-safe, one thread only.

    ``lag`` is a gauge labelled (topic, partition) that the runner sets every
    ``lag_interval_s`` to the records not yet written, and clears for
    partitions it gives up. ``on_consumer_error`` sees every non-fatal
    consumer error (the runner logs them and goes on).
    """

    def __init__(
        self,
        consumer: Consumer,
        sink: BatchingSink,
        topics: list[str],
        *,
        offsets: OffsetStore | None = None,
        options: RunnerOptions | None = None,
        lag: Gauge | None = None,
        on_flush: Callable[[Sequence[TopicPartitionKey], float], None] | None = None,
        on_consumer_error: Callable[[KafkaError], None] | None = None,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.heartbeat = heartbeat
        self.consumer = consumer
        self.sink = sink
        self.topics = topics
        self.offsets: OffsetStore = offsets or KafkaOffsets()
        self.options = options or RunnerOptions()
        self.stats = RunStats()
        self._lag = lag
        self._on_flush = on_flush
        self._on_consumer_error = on_consumer_error
        self._assigned: set[TopicPartitionKey] = set()
        self._expected: dict[TopicPartitionKey, int] = {}
        self._paused: dict[TopicPartitionKey, float] = {}  # partition -> resume at (monotonic)
        self._written: dict[TopicPartitionKey, int] = {}  # next offset recorded, this assignment
        self._last_lag = 0.0
        self._closed = False  # the sink is closed: a revoke while the consumer closes drops only
        self.ready = threading.Event()

    # -- rebalance callbacks (run inside consume()) -------------------------------------------

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        self.stats.rebalances += 1
        start = self.offsets.starting(keys)
        self._assigned.update(keys)
        for key in keys:
            self._expected.pop(key, None)
            self._paused.pop(key, None)
            self._written.pop(key, None)
        if start is not None:
            for tp in partitions:
                tp.offset = start.get((tp.topic, tp.partition), OFFSET_BEGINNING)
            self._expected.update(start)
            consumer.assign(partitions)
        self.ready.set()
        log.info("partitions assigned", extra={"partitions": sorted(keys)})

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        if self.options.flush_on_revoke and not self._closed:
            self._flush_due(keys, revoking=True)  # still ours: write what we hold
        self._give_up(keys)
        log.info("partitions revoked", extra={"partitions": keys})

    def _on_lost(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        self._give_up(keys)
        log.info("partitions lost, unwritten buffers dropped", extra={"partitions": keys})

    def _give_up(self, keys: list[TopicPartitionKey]) -> None:
        self.sink.drop(keys)
        for key in keys:
            self._assigned.discard(key)
            self._expected.pop(key, None)
            self._paused.pop(key, None)
            self._written.pop(key, None)
            if self._lag is not None:
                with contextlib.suppress(KeyError):
                    self._lag.remove(key[0], str(key[1]))

    # -- the loop -----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> RunStats:
        """Consume until ``stop`` is set, then flush what is buffered, record it and return.

        Raises :class:`~sinks.base.SinkTerminalError` (nothing further is
        recorded), ``KafkaException`` for fatal consumer errors, and whatever
        the offset store raises on assignment. The caller closes the consumer;
        the runner closes the sink.
        """
        try:
            self.consumer.subscribe(
                self.topics,
                on_assign=self._on_assign,
                on_revoke=self._on_revoke,
                on_lost=self._on_lost,
            )
            while not stop.is_set():
                if self.heartbeat is not None:
                    self.heartbeat.beat(len(self._assigned))
                messages = self.consumer.consume(
                    self.options.consume_batch, timeout=self._poll_timeout()
                )
                for message in messages:
                    self._handle(message)
                now = time.monotonic()
                self._flush_due(self.sink.expired(now), budget_s=self.options.flush_budget_s)
                self._resume_due(now)
                if now - self._last_lag >= self.options.lag_interval_s:
                    self._report_lag()
                    self._last_lag = now
            self._flush_due(self.sink.pending())
        finally:
            self._closed = True
            self.sink.close()
        return self.stats

    def _poll_timeout(self) -> float:
        """The poll timeout, cut short when a buffer's age limit falls due sooner.

        ``consume(n, timeout)`` returns only when ``n`` messages are there or the
        timeout is up, so at a trickle a batch waited up to ``poll_timeout_s``
        past its ``max_age_s`` before it was written (end-to-end latency, issue 16).
        """
        due = self.sink.next_due()
        if due is None:
            return self.options.poll_timeout_s
        return min(self.options.poll_timeout_s, max(0.0, due - time.monotonic()))

    def _handle(self, message: Any) -> None:
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                return
            if is_fatal(error):
                raise KafkaException(error)
            log.warning("consumer error", extra={"error": str(error)})
            if self._on_consumer_error is not None:
                self._on_consumer_error(error)
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
        if (
            batch is not None
            and self.sink.rotate_before(batch, record)
            and not self._flush_due([key])
        ):
            return
        self.sink.append(record)
        self._expected[key] = offset + 1
        self.stats.records += 1
        if self.sink.is_full(key):
            self._flush_due([key])

    def _flush_due(
        self,
        keys: Sequence[TopicPartitionKey],
        *,
        revoking: bool = False,
        budget_s: float | None = None,
    ) -> bool:
        """Flush ``keys`` (with every buffer, if the sink flushes together); False if any paused.

        A per-partition sink is flushed one partition at a time, so one
        partition's back-pressure never holds back another's; with ``budget_s``
        no partition is started once that long has gone (they stay due).
        """
        if not keys:
            return True
        if self.sink.flushes_together:
            return self._flush(self.sink.pending(), revoking=revoking)
        ok = True
        deadline = None if budget_s is None else time.monotonic() + budget_s
        for key in keys:
            if deadline is not None and time.monotonic() > deadline:
                break
            ok = self._flush([key], revoking=revoking) and ok
        return ok

    def _flush(self, keys: Sequence[TopicPartitionKey], *, revoking: bool = False) -> bool:
        """Write the buffers of ``keys`` in one call and record their offsets; False if paused."""
        batches = {key: b for key in keys if (b := self.sink.batch(key)) is not None}
        if not batches:
            return True
        started = time.monotonic()
        try:
            written = self.sink.flush_all(list(batches))
        except SinkBackpressureError as e:
            if revoking:  # the new owner re-reads them from the stored offsets
                log.warning("flush before a revoke failed", extra={"error": e.message})
            else:
                self._back_off({key: b.first_offset for key, b in batches.items()}, e)
            return False
        if not written:
            return True
        if self._on_flush is not None:
            self._on_flush(list(written), time.monotonic() - started)
        self.stats.flushes += 1
        for key, next_offset in written.items():
            if next_offset > batches[key].last_offset + 1 and not revoking:
                # The destination already holds records past this batch: skip them.
                self._seek(key, next_offset)
            self._expected[key] = next_offset
        self._written.update(written)
        if self.offsets.commit(self.consumer, written):
            self.stats.commits += 1
            self.stats.committed.update(written)
            metrics.LAST_COMMIT.labels(self.options.name).set_to_current_time()
        return True

    def _seek(self, key: TopicPartitionKey, offset: int) -> None:
        self.consumer.seek(TopicPartition(key[0], key[1], offset))

    def _back_off(self, firsts: dict[TopicPartitionKey, int], error: SinkBackpressureError) -> None:
        self.consumer.pause([TopicPartition(t, p, o) for (t, p), o in firsts.items()])
        resume_at = time.monotonic() + error.retry_after
        for key, first in firsts.items():
            self._seek(key, first)
            self._expected[key] = first
            self._paused[key] = resume_at
        self.stats.backoffs += 1
        log.warning(
            "partitions paused after a failed write",
            extra={
                "partitions": sorted(firsts),
                "rewound_to": [firsts[k] for k in sorted(firsts)],
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
        """Set the lag gauge; a sink found caught up also counts as durable now (see
        :data:`sinks.base.metrics.LAST_COMMIT`)."""
        caught_up = bool(self._assigned) and not self._paused and not self.sink.pending()
        for key in list(self._assigned):
            tp = TopicPartition(key[0], key[1])
            position = self._written.get(key, self._expected.get(key))
            try:
                _low, high = self.consumer.get_watermark_offsets(tp, cached=True)
                if position is None:  # nothing read since the assignment: where it will start
                    at = self.consumer.position([tp])[0].offset
                    position = at if at >= 0 else None
            except KafkaException:
                caught_up = False
                continue
            if high < 0 or position is None:  # not fetched yet: unknown
                caught_up = False
                continue
            # One offset behind is the commit marker of a transactional topic.
            caught_up = caught_up and high - position <= 1
            if self._lag is not None:
                self._lag.labels(key[0], str(key[1])).set(max(high - position, 0))
        if caught_up:
            metrics.LAST_COMMIT.labels(self.options.name).set_to_current_time()


def run_with_kafka_offsets(
    consumer: Consumer,
    sink: BatchingSink,
    topics: Sequence[str],
    stop: threading.Event,
    *,
    name: str,
    lag: Gauge,
    heartbeat: Heartbeat | None = None,
    runner_options: RunnerOptions | None = None,
    on_ready: Callable[[], None] | None = None,
) -> RunStats:
    """Run ``sink`` over ``topics`` until ``stop``, committing each partition's offsets to
    Kafka after its batch is written (the object sinks: bronze, silver)."""
    options = dataclasses.replace(runner_options or RunnerOptions(), name=name)
    runner = SinkRunner(
        consumer,
        sink,
        list(topics),
        offsets=KafkaOffsets(),
        options=options,
        lag=lag,
        heartbeat=heartbeat,
    )
    if on_ready is not None:
        on_ready()
    return runner.run(stop)


def run_with_destination_offsets(
    consumer: Consumer,
    sink: BatchingSink,
    topics: Sequence[str],
    stop: threading.Event,
    *,
    name: str,
    read_offsets: Callable[[list[str]], Mapping[TopicPartitionKey, int]],
    lag: Gauge,
    on_consumer_error: Callable[[KafkaError], None] | None = None,
    heartbeat: Heartbeat | None = None,
) -> RunStats:
    """Run ``sink`` over ``topics`` until ``stop``, its positions kept in the destination's
    own transactions (``read_offsets`` reads them back on assignment: the database sinks)."""
    runner = SinkRunner(
        consumer,
        sink,
        list(topics),
        offsets=DestinationOffsets(read_offsets),
        options=RunnerOptions(name=name, flush_on_revoke=True),
        lag=lag,
        on_consumer_error=on_consumer_error,
        heartbeat=heartbeat,
    )
    return runner.run(stop)
