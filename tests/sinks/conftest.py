"""Helpers of the sink tests: test data in Kafka, what Kafka holds, what bronze holds, the CLI."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from fastavro import reader

from orion.settings import OrionSettings
from sinks.base import KafkaRecord
from tests.orion_process import OrionProcess

DAY_MS = 86_400_000
#: Test records are dated over three days, 45 to 43 days ago (so `archive --older-than 30d` sees
#: them), starting two hours before midnight so batches cross date boundaries.
BASE_TS = (
    int(
        dt.datetime.combine(
            dt.datetime.now(dt.UTC).date() - dt.timedelta(days=44), dt.time(), tzinfo=dt.UTC
        ).timestamp()
        * 1000
    )
    - 2 * 3600 * 1000
)


def record_value(i: int) -> bytes | None:
    """Mostly Confluent-framed bytes; every 37th is poison, every 101st a tombstone."""
    if i % 101 == 0:
        return None
    if i % 37 == 0:
        return f"not avro at all {i}".encode()
    return b"\x00\x00\x00\x00\x07" + i.to_bytes(8, "big") * (1 + i % 5)


def produce_records(
    settings: OrionSettings, topic: str, n: int, partitions: int, span_days: float = 2.5
) -> None:
    """``n`` records spread over the partitions, with keys, headers and timestamps over days."""
    producer = Producer(
        {
            **settings.kafka_client_config(),
            "enable.idempotence": True,
            "linger.ms": 20,
        }
    )
    step = max(int(span_days * DAY_MS / max(n, 1)), 1)
    failures: list[Any] = []

    def delivered(error: Any, _msg: Any) -> None:
        if error is not None:
            failures.append(error)

    for i in range(n):
        headers: list[tuple[str, str | bytes | None]] = [("event_id", f"ev-{i}".encode())]
        if i % 3 == 0:
            headers += [("trace", None), ("event_id", b"dup")]
        while True:
            try:
                producer.produce(
                    topic,
                    key=None if i % 53 == 0 else f"key-{i % 211}".encode(),
                    value=record_value(i),
                    partition=i % partitions,
                    headers=headers,
                    timestamp=BASE_TS + i * step,
                    on_delivery=delivered,
                )
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    assert producer.flush(60) == 0
    assert not failures, failures[:3]


def read_kafka(settings: OrionSettings, topic: str) -> dict[int, list[KafkaRecord]]:
    """Every record of ``topic`` as a plain consumer reads it, per partition."""
    consumer = Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": "unused-reader",
            "enable.auto.commit": False,
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        ends = {}
        for p in meta.partitions:
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            ends[p] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        out: dict[int, list[KafkaRecord]] = {p: [] for p in ends}
        remaining = {p for p, h in ends.items() if h > 0}
        deadline = time.monotonic() + 60
        while remaining and time.monotonic() < deadline:
            for m in consumer.consume(1000, timeout=0.5):
                partition, offset = m.partition(), m.offset()
                if m.error() or partition is None or offset is None:
                    continue
                out[partition].append(KafkaRecord.from_message(m))
                if offset + 1 >= ends[partition]:
                    remaining.discard(partition)
        assert not remaining, f"could not read partitions {remaining}"
        return out
    finally:
        consumer.close()


def end_offsets(settings: OrionSettings, topic: str) -> dict[int, int]:
    consumer = Consumer({**settings.kafka_client_config(), "group.id": "unused-w"})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in meta.partitions
        }
    finally:
        consumer.close()


_COORDINATOR_MOVING = frozenset({
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
})  # fmt: skip


def committed(settings: OrionSettings, group: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({**settings.kafka_client_config(), "group.id": group})
    try:
        tps = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        consumer.close()


def wait_committed(
    settings: OrionSettings,
    group: str,
    topic: str,
    timeout: float = 90,
    alive: Callable[[], bool] = lambda: True,
) -> None:
    """Until the group committed every partition's end offset (the sink archived everything).

    A broker just (re)started answers "not coordinator" for a while: asked again.
    """
    ends = end_offsets(settings, topic)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert alive(), "the sink stopped before archiving everything"
        try:
            if committed(settings, group, topic, len(ends)) == ends:
                return
        except KafkaException as e:
            if e.args[0].code() not in _COORDINATOR_MOVING:
                raise
        time.sleep(0.5)
    raise AssertionError(
        f"not committed in {timeout}s: {committed(settings, group, topic, len(ends))} != {ends}"
    )


@dataclass
class Bronze:
    records: dict[int, list[KafkaRecord]]  # in object order, per partition
    keys: list[str]
    objects: dict[str, list[KafkaRecord]]


def read_objects(s3_client: Any, bucket: str, prefix: str) -> Bronze:
    """Every Avro object under ``prefix``, read with plain fastavro (any Avro reader works)."""
    records: dict[int, list[KafkaRecord]] = defaultdict(list)
    objects: dict[str, list[KafkaRecord]] = {}
    keys: list[str] = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".avro"))
    for key in sorted(keys, key=lambda k: k.rsplit("+", 1)[-1]):
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        avro = reader(io.BytesIO(body))
        assert cast(dict[str, Any], avro.writer_schema)["name"].endswith("KafkaRecord")
        objects[key] = []
        for item in avro:
            d = cast(dict[str, Any], item)
            objects[key].append(
                KafkaRecord(
                    topic=d["topic"],
                    partition=d["partition"],
                    offset=d["offset"],
                    timestamp=d["timestamp"],
                    timestamp_type=d["timestamp_type"],
                    key=d["key"],
                    value=d["value"],
                    headers=tuple((h["key"], h["value"]) for h in d["headers"]),
                )
            )
            records[objects[key][-1].partition].append(objects[key][-1])
    return Bronze(dict(records), keys, objects)


def assert_exactly_once(
    stored: dict[int, list[KafkaRecord]], kafka: dict[int, list[KafkaRecord]]
) -> None:
    """Every offset of every partition once, no gap, no overlap, byte-identical to Kafka."""
    assert sorted(p for p, rs in kafka.items() if rs) == sorted(stored), "partitions differ"
    for p, expected in kafka.items():
        if not expected:
            continue
        got = sorted(stored[p], key=lambda r: r.offset)
        offsets = [r.offset for r in got]
        assert len(offsets) == len(set(offsets)), f"partition {p}: duplicate offsets"
        assert offsets == [r.offset for r in expected], f"partition {p}: gap or extra offsets"
        for a, b in zip(got, expected, strict=True):
            assert a == b, f"partition {p} offset {a.offset} differs"


def sink_entry() -> list[str]:
    """The ``orion`` command, through its own entry point."""
    return [sys.executable, "-m", "orionctl"]


def orion_cli(
    *args: str, bucket: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*sink_entry(), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "ORION_S3_BUCKET": bucket, **(env or {})},
        timeout=timeout,
        check=False,
    )


class SinkProcess(OrionProcess):
    """``orion sink s3`` as a subprocess."""

    def __init__(self, topic: str, group: str, bucket: str, log_path: str, *extra: str) -> None:
        super().__init__(
            ["sink", "s3", "--topics", topic, "--group", group, *extra],
            log_path,
            {"ORION_S3_BUCKET": bucket},
        )


@pytest.fixture
def sink_processes(tmp_path: Any) -> Iterator[Callable[..., SinkProcess]]:
    started: list[SinkProcess] = []

    def start(topic: str, group: str, bucket: str, *extra: str) -> SinkProcess:
        p = SinkProcess(topic, group, bucket, str(tmp_path / f"sink-{len(started)}.log"), *extra)
        started.append(p)
        return p

    yield start
    for p in started:
        if p.alive():
            p.kill()


def run_in_thread(target: Callable[[threading.Event], Any]) -> tuple[threading.Event, Any]:
    """Run ``target(stop)`` in a thread; returns (stop, holder with .result/.error/.thread)."""
    stop = threading.Event()

    class Holder:
        result: Any = None
        error: BaseException | None = None
        thread: threading.Thread

    holder = Holder()

    def body() -> None:
        try:
            holder.result = target(stop)
        except BaseException as e:
            holder.error = e

    holder.thread = threading.Thread(target=body, daemon=True)
    holder.thread.start()
    return stop, holder
