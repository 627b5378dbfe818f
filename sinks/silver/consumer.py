"""The consumer loop of ``orion sink silver``: a Kafka consumer, the silver sink and the runner.

The loop is :class:`sinks.base.runner.SinkRunner` with Kafka's committed
offsets as the offset store (:class:`~sinks.base.offsets.KafkaOffsets`), as
for bronze: a partition's offsets are committed only after every object of
its batch is stored. Start-up checks (bucket, topics, registry reachable on
first decode) raise :class:`~orion.exceptions.ConfigurationError` or
:class:`~orion.exceptions.ServiceUnavailableError` before anything is
consumed or written.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaException

from orion.exceptions import ConfigurationError, ServiceUnavailableError
from orion.metrics import Heartbeat
from orion.registry import Registry
from orion.settings import OrionSettings
from sinks.base import KafkaOffsets, RunnerOptions, RunStats, SinkRunner
from sinks.base.runner import consumer_config as sink_consumer_config
from sinks.base.storage import S3Storage, s3_client
from sinks.silver import metrics
from sinks.silver.configuration import SilverSinkConfig
from sinks.silver.decode import RowDecoder
from sinks.silver.parquet_format import ParquetFormat
from sinks.silver.writer import SilverSink

__all__ = ["consumer_config", "run_silver_sink"]


def consumer_config(settings: OrionSettings, config: SilverSinkConfig) -> dict[str, Any]:
    """Manual, synchronous commits of explicit offsets only; transactional outputs only.

    The clean topics are written in Kafka transactions, so ``read_committed``
    (librdkafka's default, stated here) never shows an aborted record.
    ``max.poll.interval.ms`` stays above the longest S3 retry of one flush.
    """
    return {
        **sink_consumer_config(settings.kafka_bootstrap, config.group, config.instance_id),
        "isolation.level": "read_committed",
        "queued.max.messages.kbytes": config.queued_max_kbytes,
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 2_000,
        "max.poll.interval.ms": 90_000,
        "client.id": f"orion-silver-sink-{config.group}",
    }


def build_storage(settings: OrionSettings) -> S3Storage:
    """The bucket's storage, checked: a missing bucket is a ConfigurationError here."""
    storage = S3Storage(s3_client(settings), settings.s3_bucket, counters=metrics.STORAGE)
    try:
        storage.check_bucket()
    except BaseException:
        storage.close()
        raise
    return storage


def _check_topics(consumer: Consumer, settings: OrionSettings, topics: tuple[str, ...]) -> None:
    try:
        meta = consumer.list_topics(timeout=10)
    except KafkaException as e:
        raise ServiceUnavailableError(
            f"Kafka at {settings.kafka_bootstrap} did not answer: {e}",
            fix="start it (`orion stack up`) or correct ORION_KAFKA_BOOTSTRAP",
        ) from e
    missing = [t for t in topics if t not in meta.topics]
    if missing:
        raise ConfigurationError(
            f"topic(s) missing: {', '.join(missing)}",
            fix="run `orion topics create` (with the same ORION_TOPIC_PREFIX)",
        )


def run_silver_sink(
    settings: OrionSettings,
    config: SilverSinkConfig,
    stop: threading.Event,
    *,
    on_ready: Callable[[], None] | None = None,
    runner_options: RunnerOptions | None = None,
    heartbeat: Heartbeat | None = None,
) -> RunStats:
    """Write ``config.topics`` to silver Parquet until ``stop`` is set; returns what was done."""
    storage = build_storage(settings)
    registry = Registry(settings.schema_registry_url)
    consumer = Consumer(consumer_config(settings, config))
    try:
        _check_topics(consumer, settings, config.topics)
        sink = SilverSink(
            storage,
            RowDecoder(registry),
            ParquetFormat(config.compression, config.row_group_rows),
            config.limits,
            prefix=config.prefix,
            topic_prefix=config.topic_prefix,
            retry_after_s=config.retry_after_s,
        )
        options = dataclasses.replace(runner_options or RunnerOptions(), name="silver")
        runner = SinkRunner(
            consumer,
            sink,
            list(config.topics),
            offsets=KafkaOffsets(),
            options=options,
            lag=metrics.LAG,
            heartbeat=heartbeat,
        )
        if on_ready is not None:
            on_ready()
        return runner.run(stop)
    finally:
        consumer.close()
        registry.close()
        storage.close()
