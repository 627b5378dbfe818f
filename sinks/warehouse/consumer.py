"""The loader's Kafka loop: micro-batches of clean records into the warehouse.

Offsets live in the warehouse, not in Kafka: every batch commits its rows and
the next offset of each partition in one transaction (:mod:`.writer`), and
when partitions are assigned the loader seeks to the offsets stored there.
Kafka's committed offsets are never read, so a crash at any instant resumes
exactly where the last committed batch ended. To load everything again (a
replay), delete the sink's rows from ``metadata.sink_offsets``; the merges are
idempotent, so a replay changes nothing that was already right.

Who calls what: :func:`run_warehouse_sink` is the ``orion sink warehouse``
command's body; it returns when ``stop`` is set (SIGTERM/SIGINT) after
committing the batch in hand, and raises OrionError subclasses for bad
configuration before it consumes anything.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from orion.exceptions import ConfigurationError, SerdeError, ServiceUnavailableError
from orion.metrics import Heartbeat
from orion.registry import Registry
from orion.serde import AvroDecoder
from orion.settings import OrionSettings
from sinks.base.metrics import LAST_COMMIT
from sinks.warehouse import metrics
from sinks.warehouse.batch import Batch, Item, Rejected
from sinks.warehouse.configuration import WarehouseSinkConfig
from sinks.warehouse.tables import reader_schema
from sinks.warehouse.writer import WarehouseWriter

__all__ = ["SinkStats", "WarehouseSink", "run_warehouse_sink"]

log = logging.getLogger("orion.warehouse.sink")


@dataclass
class SinkStats:
    records: int = 0
    batches: int = 0
    rejected: int = 0
    skipped: int = 0


class WarehouseSink:
    """One loader process: a consumer, a registry client and a writer."""

    def __init__(
        self,
        settings: OrionSettings,
        config: WarehouseSinkConfig,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.heartbeat = heartbeat
        self.settings = settings
        self.config = config
        self.stats = SinkStats()
        self._batch = Batch()
        self._first_at: float | None = None
        self._assigned: set[tuple[str, int]] = set()
        self._writer = WarehouseWriter(
            settings.database_dsn, sink=config.sink, retries=config.db_retries
        )
        try:
            self._registry = Registry(settings.schema_registry_url)
            self._decoders: dict[str, AvroDecoder] = {}
            self._consumer = self._make_consumer()
        except BaseException:
            self._writer.close()
            raise

    def _make_consumer(self) -> Consumer:
        conf: dict[str, Any] = {
            "bootstrap.servers": self.settings.kafka_bootstrap,
            "group.id": self.config.group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": self.config.session_timeout_ms,
            "enable.partition.eof": False,
            "statistics.interval.ms": 5000,
            "stats_cb": lambda _stats: None,
        }
        if self.config.instance_id:
            conf["group.instance.id"] = self.config.instance_id
        consumer = Consumer(conf)
        try:
            meta = consumer.list_topics(timeout=10)
        except KafkaException as e:
            consumer.close()
            raise ServiceUnavailableError(
                f"Kafka at {self.settings.kafka_bootstrap} did not answer: {e}",
                fix="start it (`orion stack up`) or correct ORION_KAFKA_BOOTSTRAP",
            ) from e
        missing = [t for t in self.config.topics if t not in meta.topics]
        if missing:
            consumer.close()
            raise ConfigurationError(
                f"topic(s) missing: {', '.join(missing)}", fix="run `orion topics create`"
            )
        return consumer

    # -- rebalancing ------------------------------------------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        stored = self._writer.offsets([tp.topic for tp in partitions])
        for tp in partitions:
            tp.offset = stored.get((tp.topic, tp.partition), OFFSET_BEGINNING)
            self._assigned.add((tp.topic, tp.partition))
        consumer.assign(partitions)
        log.info("partitions assigned", extra={"partitions": len(partitions)})

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.flush()  # we still own them: commit what we hold
        for tp in partitions:
            self._assigned.discard((tp.topic, tp.partition))
            with contextlib.suppress(KeyError):
                metrics.LAG.remove(tp.topic, str(tp.partition))

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._batch = Batch()  # someone else owns them now; they restart from the table
        self._first_at = None
        for tp in partitions:
            self._assigned.discard((tp.topic, tp.partition))

    # -- the loop ---------------------------------------------------------------
    def run(self, stop: threading.Event) -> SinkStats:
        consumer = self._consumer
        consumer.subscribe(
            list(self.config.topics),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        try:
            while not stop.is_set():
                if self.heartbeat is not None:
                    self.heartbeat.beat(len(self._assigned))
                for message in consumer.consume(num_messages=1000, timeout=0.2):
                    self._add(message)
                if self._due():
                    self.flush()
            self.flush()
        finally:
            consumer.close()
            self._registry.close()
            self._writer.close()
        return self.stats

    def _due(self) -> bool:
        if not self._batch.offsets:
            return False
        if len(self._batch) >= self.config.max_records:
            return True
        return self._first_at is not None and (
            time.monotonic() - self._first_at >= self.config.max_wait_s
        )

    def _decoder(self, stem: str) -> AvroDecoder:
        decoder = self._decoders.get(stem)
        if decoder is None:
            decoder = AvroDecoder(self._registry, reader_schema(stem))
            self._decoders[stem] = decoder
        return decoder

    def _add(self, message: Any) -> None:
        error = message.error()
        if error is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                metrics.ERRORS.labels("kafka").inc()
                log.warning("consumer error", extra={"error": str(error)})
            return
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        if self._first_at is None:
            self._first_at = time.monotonic()
        batch = self._batch
        batch.advance(topic, partition, offset)
        value = message.value()
        if value is None:  # a tombstone on a compacted topic: nothing to load
            self.stats.skipped += 1
            return
        stem = topic.removeprefix(self.config.topic_prefix).removeprefix("clean.")
        try:
            _, record = self._decoder(stem)(value)
        except SerdeError as e:
            metrics.ERRORS.labels("decode").inc()
            batch.rejected.append(
                Rejected(topic, partition, offset, type(e).__name__, str(e), value)
            )
            return
        batch.items.append(Item(stem, topic, partition, offset, record))

    def flush(self) -> None:
        """Commit the batch in hand (rows and offsets in one transaction); no-op when empty.

        Called by the loop when the batch is full or old enough, before
        partitions are revoked, and once more on the way out.
        """
        batch = self._batch
        if not batch.offsets:
            return
        started = self._first_at or time.monotonic()
        result = self._writer.write(batch)
        self._batch = Batch()
        self._first_at = None
        self.stats.records += len(batch.items)
        self.stats.rejected += result.rejected
        self.stats.batches += 1
        metrics.BATCHES.inc()
        LAST_COMMIT.labels("warehouse").set_to_current_time()  # rows and offsets committed
        metrics.BATCH_RECORDS.observe(len(batch))
        metrics.BATCH_SECONDS.observe(time.monotonic() - started)
        for table, n in result.rows.items():
            metrics.ROWS.labels(table).inc(n)
        for dim, n in result.inferred.items():
            metrics.INFERRED.labels(dim).inc(n)
        for item in batch.items:
            metrics.RECORDS.labels(item.topic).inc()
        for r in batch.rejected:
            metrics.REJECTED.labels(r.topic).inc()
        if result.retries:
            metrics.ERRORS.labels("constraint").inc()
        self._update_lag(batch)

    def _update_lag(self, batch: Batch) -> None:
        for (topic, partition), next_offset in batch.offsets.items():
            try:
                _, high = self._consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), cached=True
                )
            except KafkaException:
                continue
            if high >= 0:
                metrics.LAG.labels(topic, str(partition)).set(max(high - next_offset, 0))


def run_warehouse_sink(
    settings: OrionSettings,
    config: WarehouseSinkConfig,
    stop: threading.Event,
    heartbeat: Heartbeat | None = None,
) -> SinkStats:
    """Load until ``stop`` is set; start-up problems raise before anything is consumed."""
    return WarehouseSink(settings, config, heartbeat).run(stop)
