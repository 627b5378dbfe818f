"""The dq sink and its wiring: raw, clean and dead-letter topics into ``dq.*``, exactly once.

:class:`DqSink` is a :class:`~sinks.base.BatchingSink` like every other sink:
its limits and one write. It flushes every partition's buffer together
(``flushes_together``): one PostgreSQL transaction per flush, counts and
offsets in it (:mod:`.writer`), read back on assignment through
:class:`~sinks.base.offsets.DestinationOffsets`. Kafka's committed offsets are
never used.

Who calls what: :func:`run_dq_sink` is the ``orion sink dq`` command's body;
it returns when ``stop`` is set (SIGTERM/SIGINT) after committing what it
holds, and raises OrionError subclasses for bad configuration (topics
missing, schema not migrated, database or Kafka not answering) before it
consumes anything. A database that stops answering is back-pressure: the
runner pauses and rewinds the partitions and retries after a back-off that
doubles up to ``max_retry_after_s``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError

from orion.exceptions import TransientError
from orion.metrics import Heartbeat
from orion.settings import OrionSettings
from sinks.base import (
    Batch,
    BatchingSink,
    BatchLimits,
    SinkBackpressureError,
    TopicPartitionKey,
)
from sinks.base.runner import checked_consumer, run_with_destination_offsets
from sinks.base.runner import consumer_config as sink_consumer_config
from sinks.dq import metrics
from sinks.dq.configuration import DqSinkConfig
from sinks.dq.writer import DqWriter

__all__ = ["DqSink", "DqStats", "run_dq_sink"]

log = logging.getLogger("orion.dq.sink")


@dataclass
class DqStats:
    records: int = 0
    batches: int = 0
    dead_letters: int = 0
    skipped: int = 0  # re-read below the counted marks (a replay): not counted again


def _checked_consumer(settings: OrionSettings, config: DqSinkConfig) -> Consumer:
    return checked_consumer(
        {
            **sink_consumer_config(
                settings.kafka_client_config(), config.group, config.instance_id
            ),
            "session.timeout.ms": config.session_timeout_ms,
            "enable.partition.eof": False,
            # clean and dlq topics are written in transactions: count committed records only
            "isolation.level": "read_committed",
        },
        config.topics,
    )


class DqSink(BatchingSink):
    """Counts the runner's batches into ``dq.*``, one transaction per flush."""

    flushes_together = True

    def __init__(self, settings: OrionSettings, config: DqSinkConfig) -> None:
        super().__init__(
            BatchLimits(
                max_records=config.max_records,
                max_bytes=config.max_bytes,
                max_age_s=config.max_wait_s,
            )
        )
        self.settings = settings
        self.config = config
        self.stats = DqStats()
        self._failures = 0
        login = settings.loader_login
        self.writer = DqWriter(
            login.dsn, sink=config.sink, prefix=config.topic_prefix, variable=login.variable
        )

    def write(self, batch: Batch) -> int:
        """One partition's batch in its own transaction (the runner uses :meth:`write_all`)."""
        return self.write_all([batch])[(batch.topic, batch.partition)]

    def write_all(self, batches: Sequence[Batch]) -> dict[TopicPartitionKey, int]:
        """Count every batch and commit counts, dead letters and offsets together."""
        try:
            offsets, result = self.writer.write(batches)
        except TransientError as e:
            metrics.ERRORS.labels("connection").inc()
            self._failures += 1
            delay = min(
                self.config.retry_after_s * 2 ** (self._failures - 1),
                self.config.max_retry_after_s,
            )
            raise SinkBackpressureError(f"dq batch not written: {e}", retry_after=delay) from e
        self._failures = 0
        self.stats.batches += 1
        self.stats.records += sum(result.counted.values())
        self.stats.skipped += result.skipped
        self.stats.dead_letters += result.dead_letters
        metrics.BATCHES.inc()
        for layer, n in result.counted.items():
            metrics.RECORDS.labels(layer).inc(n)
        metrics.DEAD_LETTERS.inc(result.dead_letters)
        return offsets

    def close(self) -> None:
        self.writer.close()

    def run(self, stop: threading.Event, heartbeat: Heartbeat | None = None) -> DqStats:
        """Count until ``stop`` is set, under the one sink runner; closes this sink."""
        try:
            consumer = _checked_consumer(self.settings, self.config)
        except BaseException:
            self.close()
            raise
        try:
            run_with_destination_offsets(
                consumer, self, self.config.topics, stop, name="dq",
                read_offsets=self.writer.offsets, lag=metrics.LAG,
                on_consumer_error=_count_kafka_error, heartbeat=heartbeat,
            )  # fmt: skip
        finally:
            consumer.close()
        return self.stats


def _count_kafka_error(_error: KafkaError) -> None:
    metrics.ERRORS.labels("kafka").inc()


def run_dq_sink(
    settings: OrionSettings,
    config: DqSinkConfig,
    stop: threading.Event,
    heartbeat: Heartbeat | None = None,
) -> DqStats:
    """Count until ``stop`` is set; start-up problems raise before anything is consumed."""
    return DqSink(settings, config).run(stop, heartbeat)
