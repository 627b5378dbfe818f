"""The consumer loop of ``orion sink s3``: a Kafka consumer, the S3 sink and the runner, wired.

The loop itself is :class:`sinks.base.runner.SinkRunner` with Kafka's
committed offsets as the offset store (:class:`~sinks.base.offsets.KafkaOffsets`):
a partition's offsets are committed only after its object is stored.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer

from orion.metrics import Heartbeat
from orion.settings import OrionSettings
from sinks.base import KafkaOffsets, RunnerOptions, RunStats, SinkRunner
from sinks.base.runner import consumer_config as sink_consumer_config
from sinks.base.storage import S3Storage, s3_client
from sinks.s3 import metrics
from sinks.s3.configuration import S3SinkConfig
from sinks.s3.format import AvroContainerFormat
from sinks.s3.partitioner import DailyPartitioner
from sinks.s3.writer import S3Sink


def consumer_config(settings: OrionSettings, config: S3SinkConfig) -> dict[str, Any]:
    """Manual, synchronous commits of explicit offsets only; nothing is stored automatically.

    ``max.poll.interval.ms`` is also how long a rebalance waits for a member
    that died without leaving; it stays above the longest S3 retry of one
    flush (see :class:`~sinks.base.storage.RetryPolicy`) but well below the
    librdkafka default of five minutes.
    """
    return {
        **sink_consumer_config(settings.kafka_bootstrap, config.group, config.instance_id),
        "isolation.level": "read_committed",
        "queued.max.messages.kbytes": config.queued_max_kbytes,
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 2_000,
        "max.poll.interval.ms": 90_000,
        "client.id": f"orion-s3-sink-{config.group}",
    }


def build_storage(settings: OrionSettings, config: S3SinkConfig) -> S3Storage:
    """The bucket's storage, checked: a missing bucket is a ConfigurationError here."""
    storage = S3Storage(
        s3_client(settings),
        settings.s3_bucket,
        multipart_threshold=config.multipart_threshold,
        part_size=config.part_size,
        counters=metrics.STORAGE,
    )
    try:
        storage.check_bucket()
    except BaseException:
        storage.close()
        raise
    return storage


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
        options = dataclasses.replace(runner_options or RunnerOptions(), name="s3")
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
        storage.close()
