"""The consumer loop of ``orion sink s3``: a Kafka consumer, the S3 sink and the runner, wired.

The loop itself is :class:`sinks.base.runner.SinkRunner` with Kafka's
committed offsets as the offset store (:class:`~sinks.base.offsets.KafkaOffsets`):
a partition's offsets are committed only after its object is stored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer

from orion.metrics import Heartbeat
from orion.settings import OrionSettings
from sinks.base import RunnerOptions, RunStats
from sinks.base.runner import check_topics, object_store_consumer_config, run_with_kafka_offsets
from sinks.base.storage import S3Storage, open_storage
from sinks.s3 import metrics
from sinks.s3.configuration import S3SinkConfig
from sinks.s3.format import AvroContainerFormat
from sinks.s3.partitioner import DailyPartitioner
from sinks.s3.writer import S3Sink


def consumer_config(settings: OrionSettings, config: S3SinkConfig) -> dict[str, Any]:
    """The object sinks' consumer (see :func:`~sinks.base.runner.object_store_consumer_config`)."""
    return object_store_consumer_config(
        settings.kafka_client_config(), config.group, config.instance_id,
        config.queued_max_kbytes,
        client_id=f"orion-s3-sink-{config.group}",
    )  # fmt: skip


def build_storage(settings: OrionSettings, config: S3SinkConfig) -> S3Storage:
    """The bucket's storage, checked: a missing bucket is a ConfigurationError here."""
    return open_storage(
        settings,
        metrics.STORAGE,
        multipart_threshold=config.multipart_threshold,
        part_size=config.part_size,
    )


def run_s3_sink(
    settings: OrionSettings,
    config: S3SinkConfig,
    stop: threading.Event,
    *,
    on_ready: Callable[[], None] | None = None,
    runner_options: RunnerOptions | None = None,
    heartbeat: Heartbeat | None = None,
) -> RunStats:
    """Archive ``config.topics`` to the bucket until ``stop`` is set; returns what was done.

    Raises :class:`~orion.exceptions.ConfigurationError` before consuming
    anything when the bucket is missing or S3 cannot be reached.
    """
    storage = build_storage(settings, config)
    sink = S3Sink(
        storage,
        AvroContainerFormat(codec=config.codec),
        DailyPartitioner(config.prefix),
        config.limits,
        retry_after_s=config.retry_after_s,
    )
    consumer = Consumer(consumer_config(settings, config))
    try:
        check_topics(consumer, settings.kafka_client_config(), config.topics)
        return run_with_kafka_offsets(
            consumer, sink, config.topics, stop, name="s3", lag=metrics.LAG,
            heartbeat=heartbeat, runner_options=runner_options, on_ready=on_ready,
        )  # fmt: skip
    finally:
        consumer.close()
        storage.close()
