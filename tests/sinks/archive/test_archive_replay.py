"""Compaction keeps every record (and survives an interruption); replay reproduces the topic."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from orion.settings import OrionSettings
from sinks.archive import plan_compaction
from sinks.archive.compact import _store_verified
from sinks.base import BatchLimits, RunnerOptions
from sinks.base import storage as s3storage
from sinks.s3 import S3SinkConfig, run_s3_sink
from sinks.s3.format import AvroContainerFormat
from sinks.s3.partitioner import ObjectName
from tests.conftest import unique
from tests.sinks.conftest import (
    assert_exactly_once,
    orion_cli,
    produce_records,
    read_kafka,
    read_objects,
    run_in_thread,
    wait_committed,
)

pytestmark = pytest.mark.integration


def test_archive_compacts_verifies_and_replay_reproduces_the_topic(
    settings: OrionSettings,
    kafka_topic: Callable[..., str],
    s3_bucket: Callable[[], str],
    s3_client: Any,
) -> None:
    topic, bucket = kafka_topic(partitions=3), s3_bucket()
    produce_records(settings, topic, 3000, partitions=3, span_days=2.5)
    kafka = read_kafka(settings, topic)
    s = settings.model_copy(update={"s3_bucket": bucket})
    config = S3SinkConfig(
        topics=(topic,), group=unique("g-"), limits=BatchLimits(max_records=150, max_age_s=0.5)
    )
    stop, holder = run_in_thread(
        lambda st: run_s3_sink(s, config, st, runner_options=RunnerOptions(poll_timeout_s=0.1))
    )
    wait_committed(s, config.group, topic, alive=holder.thread.is_alive)
    stop.set()
    holder.thread.join(60)
    assert holder.error is None
    bronze_before = read_objects(s3_client, bucket, f"bronze/{topic}/")

    # Dry run: a plan, nothing changes.
    dry = orion_cli("archive", "--older-than", "30d", "--topics", topic, bucket=bucket)
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout
    assert read_objects(s3_client, bucket, f"bronze/{topic}/").keys == bronze_before.keys

    # An interrupted earlier run: one archive object written, no manifest, nothing deleted.
    storage = s3storage.S3Storage(s3storage.s3_client(s), bucket)
    try:
        day = plan_compaction(storage, dt.date.today(), topics=(topic,))[0]
        fmt = AvroContainerFormat()
        recs = [r for k in day.sources for r in fmt.decode(storage.get(k))]
        orphan = ObjectName("archive", topic, day.date, day.partition, recs[0].offset)
        _store_verified(storage, fmt, orphan, recs)
    finally:
        storage.close()

    run = orion_cli("archive", "--older-than", "30d", "--topics", topic, "--execute", bucket=bucket)
    assert run.returncode == 0, run.stderr
    assert read_objects(s3_client, bucket, f"bronze/{topic}/").keys == []
    archived = read_objects(s3_client, bucket, f"archive/{topic}/")
    assert_exactly_once(archived.records, kafka)
    assert len(archived.keys) < len(bronze_before.keys)
    # The manifests account for every archive object: offsets, counts, checksums, sources.
    listed = 0
    for folder in {k.rsplit("/", 1)[0] for k in archived.keys}:
        manifest = json.loads(
            s3_client.get_object(Bucket=bucket, Key=f"{folder}/manifest.json")["Body"].read()
        )
        for entry in manifest["objects"]:
            held = archived.objects[entry["key"]]
            assert (entry["first_offset"], entry["last_offset"], entry["count"]) == (
                held[0].offset,
                held[-1].offset,
                len(held),
            )
            listed += 1
    assert listed == len(archived.keys)
    assert sum(len(e) for e in archived.objects.values()) == 3000

    # A rerun finds nothing to do.
    again = orion_cli(
        "archive", "--older-than", "30d", "--topics", topic, "--execute", bucket=bucket
    )
    assert again.returncode == 0 and "archived 0 records" in again.stdout, again.stdout

    # Replay the archive into a new topic: the same records, partition by partition.
    target = kafka_topic(partitions=3)
    first = min(r.timestamp for rs in kafka.values() for r in rs)
    start = dt.datetime.fromtimestamp(first / 1000, dt.UTC).date()
    replay = orion_cli(
        "replay",
        "archive",
        "--topic",
        topic,
        "--from",
        start.isoformat(),
        "--to",
        dt.date.today().isoformat(),
        "--target-topic",
        target,
        bucket=bucket,
    )
    assert replay.returncode == 0, replay.stderr
    assert "replayed 3000 records" in replay.stdout
    copied = read_kafka(settings, target)
    for p, records in kafka.items():
        got = [(r.key, r.value, r.headers, r.timestamp) for r in copied[p]]
        assert got == [(r.key, r.value, r.headers, r.timestamp) for r in records], p


def test_replay_reads_bronze_and_archive_together_without_doubling(
    settings: OrionSettings,
    kafka_topic: Callable[..., str],
    s3_bucket: Callable[[], str],
    s3_client: Any,
) -> None:
    """Mid-compaction, records sit in both bronze and archive: each offset is sent once."""
    topic, bucket = kafka_topic(partitions=1), s3_bucket()
    produce_records(settings, topic, 200, partitions=1, span_days=0.01)
    kafka = read_kafka(settings, topic)[0]
    fmt = AvroContainerFormat()
    date = dt.datetime.fromtimestamp(kafka[0].timestamp / 1000, dt.UTC).date()
    for prefix, chunk in (("bronze", kafka[:120]), ("bronze", kafka[120:]), ("archive", kafka)):
        key = ObjectName(prefix, topic, date, 0, chunk[0].offset).key
        s3_client.put_object(Bucket=bucket, Key=key, Body=fmt.encode(chunk))
    target = kafka_topic(partitions=1)
    result = orion_cli(
        "replay",
        "archive",
        "--topic",
        topic,
        "--from",
        date.isoformat(),
        "--to",
        date.isoformat(),
        "--target-topic",
        target,
        bucket=bucket,
    )
    assert result.returncode == 0, result.stderr
    assert "replayed 200 records" in result.stdout and "200 duplicate" in result.stdout
    assert [(r.key, r.value, r.headers) for r in read_kafka(settings, target)[0]] == [
        (r.key, r.value, r.headers) for r in kafka
    ]
