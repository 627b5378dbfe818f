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

import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer

from orion.metrics import Heartbeat
from orion.registry import Registry
from orion.settings import OrionSettings
from sinks.base import RunnerOptions, RunStats
from sinks.base.runner import check_topics, object_store_consumer_config, run_with_kafka_offsets
from sinks.base.storage import S3Storage, open_storage
from sinks.silver import metrics
from sinks.silver.configuration import SilverSinkConfig
from sinks.silver.decode import RowDecoder
from sinks.silver.parquet_format import ParquetFormat
from sinks.silver.writer import SilverSink

__all__ = ["consumer_config", "run_silver_sink"]


def consumer_config(settings: OrionSettings, config: SilverSinkConfig) -> dict[str, Any]:
    """The object sinks' consumer (see :func:`~sinks.base.runner.object_store_consumer_config`)."""
    return object_store_consumer_config(
        settings.kafka_client_config(), config.group, config.instance_id,
        config.queued_max_kbytes,
        client_id=f"orion-silver-sink-{config.group}",
    )  # fmt: skip


def build_storage(settings: OrionSettings) -> S3Storage:
    """The bucket's storage, checked: a missing bucket is a ConfigurationError here."""
    return open_storage(settings, metrics.STORAGE)


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
    registry = Registry.of(settings)
    consumer = Consumer(consumer_config(settings, config))
    try:
        check_topics(consumer, settings.kafka_client_config(), config.topics)
        sink = SilverSink(
            storage,
            RowDecoder(registry),
            ParquetFormat(config.compression, config.row_group_rows),
            config.limits,
            prefix=config.prefix,
            topic_prefix=config.topic_prefix,
            retry_after_s=config.retry_after_s,
        )
        return run_with_kafka_offsets(
            consumer, sink, config.topics, stop, name="silver", lag=metrics.LAG,
            heartbeat=heartbeat, runner_options=runner_options, on_ready=on_ready,
        )  # fmt: skip
    finally:
        consumer.close()
        registry.close()
        storage.close()
