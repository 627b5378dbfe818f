"""The loader's sink and its wiring: clean records into the warehouse, exactly once.

:class:`WarehouseSink` is a :class:`~sinks.base.BatchingSink` like every
other sink: its limits and one write. The loop is the one sink runner
(:class:`sinks.base.runner.SinkRunner`); the warehouse asks it to flush every
partition's buffer together (``flushes_together``), so each flush is one
database transaction however many partitions it covers.

Offsets live in the warehouse, not in Kafka: every flush commits its rows and
the next offset of each partition in one transaction (:mod:`.writer`), and
when partitions are assigned the runner reads them back through
:class:`~sinks.base.offsets.DestinationOffsets` and starts there. Kafka's
committed offsets are never read or written, so a crash at any instant
resumes exactly where the last committed transaction ended. To load
everything again (a replay), delete the sink's rows from
``metadata.sink_offsets``; the merges are idempotent, so a replay changes
nothing that was already right.

Failures: records that do not decode are stored as rejects and skipped
(:mod:`.load`). A database (or registry) that does not answer is
back-pressure: the runner pauses and rewinds the partitions of the batch and
retries after a back-off that doubles up to ``max_retry_after_s``; with
``db_retries`` set, that many consecutive failures end the run with
:class:`~sinks.warehouse.exceptions.WarehouseGaveUpError` (exit 1).

Who calls what: :func:`run_warehouse_sink` is the ``orion sink warehouse``
command's body; it returns when ``stop`` is set (SIGTERM/SIGINT) after
committing what it holds, and raises OrionError subclasses for bad
configuration (topics missing, schema not migrated, database or Kafka not
answering) before it consumes anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError

from orion.exceptions import TransientError
from orion.metrics import Heartbeat
from orion.registry import Registry
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
from sinks.warehouse import metrics
from sinks.warehouse.configuration import WarehouseSinkConfig
from sinks.warehouse.exceptions import WarehouseGaveUpError
from sinks.warehouse.load import Decoder, Load
from sinks.warehouse.writer import WarehouseWriter

__all__ = ["SinkStats", "WarehouseSink", "consumer_config", "run_warehouse_sink"]

log = logging.getLogger("orion.warehouse.sink")


@dataclass
class SinkStats:
    records: int = 0
    batches: int = 0
    rejected: int = 0
    skipped: int = 0


def consumer_config(settings: OrionSettings, config: WarehouseSinkConfig) -> dict[str, Any]:
    """No commits and no stored offsets in Kafka: the warehouse holds the positions."""
    return {
        **sink_consumer_config(settings.kafka_client_config(), config.group, config.instance_id),
        "session.timeout.ms": config.session_timeout_ms,
        "enable.partition.eof": False,
        "statistics.interval.ms": 5000,
        "stats_cb": lambda _stats: None,
    }


def _checked_consumer(settings: OrionSettings, config: WarehouseSinkConfig) -> Consumer:
    return checked_consumer(consumer_config(settings, config), config.topics)


class WarehouseSink(BatchingSink):
    """Decodes the runner's batches and writes them in one transaction per flush.

    Construction connects to the database and checks its schema
    (WarehouseUnavailableError or MigrationError otherwise). :meth:`run` is
    :func:`run_warehouse_sink` for this sink.
    """

    flushes_together = True

    def __init__(
        self,
        settings: OrionSettings,
        config: WarehouseSinkConfig,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        super().__init__(
            BatchLimits(
                max_records=config.max_records,
                max_bytes=config.max_bytes,
                max_age_s=config.max_wait_s,
            )
        )
        self.settings = settings
        self.config = config
        self.heartbeat = heartbeat
        self.stats = SinkStats()
        self._failures = 0  # consecutive failed writes
        login = settings.loader_login
        self.writer = WarehouseWriter(login.dsn, sink=config.sink, variable=login.variable)
        try:
            self._registry = Registry.of(settings)
        except BaseException:
            self.writer.close()
            raise
        self._decode = Decoder(self._registry, config.topic_prefix)

    def write(self, batch: Batch) -> int:
        """One partition's batch in its own transaction (the runner uses :meth:`write_all`)."""
        return self.write_all([batch])[(batch.topic, batch.partition)]

    def write_all(self, batches: Sequence[Batch]) -> dict[TopicPartitionKey, int]:
        """Decode every batch and commit them, rows and offsets, in one transaction."""
        started = min(b.started for b in batches)
        try:
            decoded = self._decode(batches)
            result = self.writer.write(decoded.load)
        except TransientError as e:
            raise self._back_off(e) from e
        self._failures = 0
        load = decoded.load
        self.stats.records += len(load.items)
        self.stats.rejected += result.rejected
        self.stats.skipped += decoded.skipped
        self.stats.batches += 1
        metrics.BATCHES.inc()
        metrics.BATCH_RECORDS.observe(len(load))
        metrics.BATCH_SECONDS.observe(time.monotonic() - started)
        if decoded.undecodable:
            metrics.ERRORS.labels("decode").inc(decoded.undecodable)
        for table, n in result.rows.items():
            metrics.ROWS.labels(table).inc(n)
        for dim, n in result.inferred.items():
            metrics.INFERRED.labels(dim).inc(n)
        for item in load.items:
            metrics.RECORDS.labels(item.topic).inc()
        self._observe_latency(load, result.committed_at)
        for r in load.rejected:
            metrics.REJECTED.labels(r.topic).inc()
        if result.retries:
            metrics.ERRORS.labels("constraint").inc()
        return dict(load.offsets)

    @staticmethod
    def _observe_latency(load: Load, committed_at: float) -> None:
        """Each loaded record's age at commit, from its provenance's raw Kafka timestamp."""
        histograms: dict[str, Any] = {}
        for item in load.items:
            src = item.source
            if src is None or not src.timestamp_ms or src.timestamp_ms < 0:
                continue  # written before the processors set provenance headers
            h = histograms.get(item.stem)
            if h is None:
                h = histograms[item.stem] = metrics.E2E_LATENCY.labels(item.stem)
            h.observe(max(committed_at - src.timestamp_ms / 1000, 0.0))

    def _back_off(self, error: Exception) -> SinkBackpressureError | WarehouseGaveUpError:
        """What a transient failure becomes: back-pressure, or giving up after ``db_retries``."""
        metrics.ERRORS.labels("connection").inc()
        self._failures += 1
        retries = self.config.db_retries
        if retries is not None and self._failures > retries:
            return WarehouseGaveUpError(
                f"gave up after {retries} retries: {error}",
                fix="check the database; the loader resumes from its stored offsets",
            )
        delay = min(
            self.config.retry_after_s * 2 ** (self._failures - 1), self.config.max_retry_after_s
        )
        return SinkBackpressureError(f"warehouse batch not written: {error}", retry_after=delay)

    def close(self) -> None:
        self._registry.close()
        self.writer.close()

    def run(self, stop: threading.Event) -> SinkStats:
        """Load until ``stop`` is set, under the one sink runner; closes this sink."""
        try:
            consumer = _checked_consumer(self.settings, self.config)
        except BaseException:
            self.close()
            raise
        try:
            run_with_destination_offsets(
                consumer, self, self.config.topics, stop, name="warehouse",
                read_offsets=self.writer.offsets, lag=metrics.LAG,
                on_consumer_error=_count_kafka_error, heartbeat=self.heartbeat,
            )  # fmt: skip
        finally:
            consumer.close()
        return self.stats


def _count_kafka_error(_error: KafkaError) -> None:
    metrics.ERRORS.labels("kafka").inc()


def run_warehouse_sink(
    settings: OrionSettings,
    config: WarehouseSinkConfig,
    stop: threading.Event,
    heartbeat: Heartbeat | None = None,
) -> SinkStats:
    """Load until ``stop`` is set; start-up problems raise before anything is consumed."""
    return WarehouseSink(settings, config, heartbeat).run(stop)
