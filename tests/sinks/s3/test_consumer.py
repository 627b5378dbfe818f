"""The sink in-process against Kafka and versitygw: exactly once, conflicts, start-up errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from orion.exceptions import ConfigurationError
from orion.settings import OrionSettings
from sinks.base import BatchLimits, KafkaRecord, RunnerOptions
from sinks.s3 import S3SinkConfig, run_s3_sink
from sinks.s3.exceptions import ArchiveConflictError
from sinks.s3.format import AvroContainerFormat
from sinks.s3.partitioner import DailyPartitioner, record_date
from tests.conftest import unique
from tests.sinks.conftest import (
    assert_exactly_once,
    produce_records,
    read_kafka,
    read_objects,
    run_in_thread,
    wait_committed,
)

pytestmark = pytest.mark.integration
FAST = RunnerOptions(poll_timeout_s=0.1, lag_interval_s=0.5)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def run_until_archived(settings: OrionSettings, config: S3SinkConfig, topic: str) -> Any:
    stop, holder = run_in_thread(lambda s: run_s3_sink(settings, config, s, runner_options=FAST))
    try:
        wait_committed(settings, config.group, topic, alive=holder.thread.is_alive)
    finally:
        stop.set()
        holder.thread.join(60)
    assert holder.error is None, holder.error
    return holder.result


def test_every_offset_lands_once_byte_identical_and_a_rerun_rewrites_nothing(
    settings: OrionSettings,
    kafka_topic: Callable[..., str],
    s3_bucket: Callable[[], str],
    s3_client: Any,
) -> None:
    topic, bucket = kafka_topic(partitions=3), s3_bucket()
    produce_records(settings, topic, 3000, partitions=3)
    kafka = read_kafka(settings, topic)
    s = settings.model_copy(update={"s3_bucket": bucket})
    config = S3SinkConfig(
        topics=(topic,), group=unique("g-"), limits=BatchLimits(max_records=400, max_age_s=0.5)
    )
    stats = run_until_archived(s, config, topic)

    bronze = read_objects(s3_client, bucket, f"bronze/{topic}/")
    assert_exactly_once(bronze.records, kafka)
    assert stats.records == 3000
    assert metric("orion_s3_sink_records_total", topic=topic) == 3000
    assert metric("orion_s3_sink_objects_total", topic=topic) == len(bronze.keys)
    assert metric("orion_s3_sink_flush_seconds_count", topic=topic) == len(bronze.keys)
    # Keys name the record date, the partition and the zero-padded first offset; no object
    # spans two dates and the records span three dates.
    dates = set()
    for key, held in bronze.objects.items():
        folder, name = key.split("/")[2:]
        t, p, first = name.removesuffix(".avro").split("+")
        assert (t, len(first), int(p), int(first)) == (topic, 20, held[0].partition, held[0].offset)
        assert {f"dt={record_date(r.timestamp).isoformat()}" for r in held} == {folder}
        dates.add(folder)
    assert len(dates) >= 3

    # A second group over the same bucket finds every object already stored (conditional put
    # refused), checks the records, commits and writes nothing new.
    again = S3SinkConfig(
        topics=(topic,), group=unique("g-"), limits=BatchLimits(max_records=700, max_age_s=0.5)
    )
    before = metric("orion_s3_sink_conflicts_total", topic=topic, outcome="identical")
    run_until_archived(s, again, topic)
    assert read_objects(s3_client, bucket, f"bronze/{topic}/").keys == bronze.keys
    assert metric("orion_s3_sink_conflicts_total", topic=topic, outcome="identical") > before
    assert metric("orion_s3_sink_conflicts_total", topic=topic, outcome="mismatch") == 0


def test_an_object_with_different_records_is_never_overwritten(
    settings: OrionSettings,
    kafka_topic: Callable[..., str],
    s3_bucket: Callable[[], str],
    s3_client: Any,
) -> None:
    topic, bucket = kafka_topic(partitions=1), s3_bucket()
    produce_records(settings, topic, 20, partitions=1)
    first = read_kafka(settings, topic)[0][0]
    forged = KafkaRecord(
        first.topic, 0, 0, first.timestamp, first.timestamp_type, first.key, b"forged", ()
    )
    key = DailyPartitioner().name(first).key
    body = AvroContainerFormat().encode([forged])
    s3_client.put_object(Bucket=bucket, Key=key, Body=body)
    s = settings.model_copy(update={"s3_bucket": bucket})
    config = S3SinkConfig(topics=(topic,), group=unique("g-"), limits=BatchLimits(max_age_s=0.2))

    stop, holder = run_in_thread(lambda st: run_s3_sink(s, config, st, runner_options=FAST))
    holder.thread.join(60)
    stop.set()
    assert isinstance(holder.error, ArchiveConflictError)
    assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert metric("orion_s3_sink_conflicts_total", topic=topic, outcome="mismatch") == 1


def test_missing_bucket_stops_at_start_up_with_a_fix(settings: OrionSettings) -> None:
    s = settings.model_copy(update={"s3_bucket": unique("missing-")})
    config = S3SinkConfig(topics=("raw.never",), group=unique("g-"))
    with pytest.raises(ConfigurationError, match="does not exist") as info:
        run_s3_sink(s, config, threading.Event())
    assert info.value.fix and "ORION_S3_BUCKET" in info.value.fix
