"""Benchmark: `orion sink s3` beside a bare loop doing the same Kafka-to-S3 work.

One run: produce records (Confluent-framed values, keys, headers) to a fresh
topic; archive them with the sink's own pieces (consumer, runner, S3 sink)
into a fresh bucket; then a bare loop (issue 16, item 5) consumes the same
records from Kafka with the same consumer settings, cuts each partition's
records at the sink's limits, writes the same Avro container files (same
schema, codec and level) and puts them with plain boto3, with none of the
sink's bookkeeping (no record checksum, no conditional put, no offset
commit, no metrics). Prints records/s and MB/s for both and the ratio
(targets: sink >= 50% of the loop and >= 60,000 records/s). Both clocks run
from the first assigned partition to the last object stored, so the
consumer group's join delay is not counted.
Usage: python -m bench.s3_sink [--records N] [--value-bytes B] [--order sink,bare]
"""

from __future__ import annotations

import argparse
import io
import os
import threading
import time
import uuid
from typing import Any, cast

import boto3
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from fastavro import writer

from orion.kafka_config import KafkaConfig
from orion.settings import OrionSettings, load_settings
from sinks.base import BatchLimits, SinkRunner
from sinks.s3.configuration import S3SinkConfig
from sinks.s3.consumer import build_storage, consumer_config
from sinks.s3.format import AvroContainerFormat, kafka_record_schema
from sinks.s3.partitioner import DailyPartitioner
from sinks.s3.writer import S3Sink

PARTITIONS = 4
#: Objects per partition. Both runs cut objects by record count only, at a count that
#: divides each partition's records, so neither waits for an age limit at the end (with
#: the sink's byte limit the last objects waited 5 s for their age: 8.8 s of which ~5 s
#: idle, the first measurement of this bench on 2026-12-02).
OBJECTS_PER_PARTITION = 2


def limits_for(records: int) -> BatchLimits:
    per_object, rest = divmod(records, PARTITIONS * OBJECTS_PER_PARTITION)
    if rest or not per_object:
        raise SystemExit(f"--records must be a multiple of {PARTITIONS * OBJECTS_PER_PARTITION}")
    return BatchLimits(max_records=per_object, max_bytes=1 << 40, max_age_s=600.0)


def produce(kafka: KafkaConfig, topic: str, n: int, value_bytes: int) -> None:
    producer = Producer({**kafka, "linger.ms": 50, "enable.idempotence": True})
    # Avro-like values: some random bytes (ids, amounts) and some repeated text (names,
    # provinces), so deflate has the work it has on real events.
    text = b"Gauteng|Toyota Corolla|ZAR|dealer-0042|invoice paid|" * (value_bytes // 40 + 1)
    payloads = [
        b"\x00\x00\x00\x00\x07" + (os.urandom(value_bytes // 3) + text)[: value_bytes - 5]
        for _ in range(1024)
    ]
    for i in range(n):
        payload = payloads[i % 1024]
        while True:
            try:
                producer.produce(
                    topic,
                    key=f"sale-{i % 5000}".encode(),
                    value=payload,
                    headers=[("event_id", uuid.uuid4().bytes)],
                    partition=i % PARTITIONS,
                )
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(120)


def run_sink(
    settings: OrionSettings, topic: str, tag: str, n: int, limits: BatchLimits
) -> tuple[float, int]:
    """Archive ``topic`` with the sink's pieces; (seconds, objects stored)."""
    config = S3SinkConfig(topics=(topic,), group=f"bench-{tag}", limits=limits)
    storage = build_storage(settings, config)
    sink = S3Sink(storage, AvroContainerFormat(), DailyPartitioner(), config.limits)
    consumer = Consumer(consumer_config(settings, config))
    runner = SinkRunner(consumer, sink, [topic])
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    try:
        runner.ready.wait(60)
        started = time.perf_counter()
        while sum(runner.stats.committed.values()) < n:
            if not thread.is_alive():
                raise SystemExit("the sink's runner ended before archiving every record")
            time.sleep(0.01)
        return time.perf_counter() - started, runner.stats.flushes
    finally:
        stop.set()
        thread.join(60)
        consumer.close()
        storage.close()


def run_bare(
    settings: OrionSettings, topic: str, tag: str, n: int, limits: BatchLimits, s3: Any
) -> tuple[float, int]:
    """The same work without the sink: consume, cut at the same limits, encode, put.

    Records are sized as :class:`~sinks.base.KafkaRecord` sizes them, so the
    loop would cut its objects where the sink's byte limit does.
    """
    config = S3SinkConfig(topics=(topic,), group=f"bench-bare-{tag}", limits=limits)
    consumer = Consumer(consumer_config(settings, config))
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    codec = AvroContainerFormat()
    schema = kafka_record_schema()
    buffers: dict[int, list[dict[str, Any]]] = {p: [] for p in range(PARTITIONS)}
    sizes = dict.fromkeys(range(PARTITIONS), 0)
    objects = 0

    def put(partition: int) -> None:
        nonlocal objects
        records = buffers[partition]
        buf = io.BytesIO()
        writer(buf, schema, records, codec=codec.codec, codec_compression_level=codec.level,
               sync_interval=codec.block_bytes)  # fmt: skip
        key = f"bare/{topic}/{partition}/{records[0]['offset']:020d}.avro"
        s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=buf.getvalue())
        buffers[partition], sizes[partition] = [], 0
        objects += 1

    seen = 0
    started = 0.0
    try:
        while seen < n:
            messages = consumer.consume(10_000, 1.0)
            if messages and not started:
                started = time.perf_counter()
            for m in messages:
                if m.error():
                    raise SystemExit(f"bare loop: {m.error()}")
                ts_type, ts = m.timestamp()
                key, value = m.key(), m.value()
                headers = cast(list[tuple[str, bytes | None]], m.headers() or [])
                size = 64 + len(key or b"") + len(value or b"")
                for hk, hv in headers:
                    size += len(hk) + len(hv or b"") + 16
                partition = m.partition()
                assert partition is not None  # None only on an error, raised above
                buffers[partition].append({
                    "topic": m.topic(), "partition": partition, "offset": m.offset(),
                    "timestamp": ts, "timestamp_type": ts_type, "key": key, "value": value,
                    "headers": [{"key": hk, "value": hv} for hk, hv in headers],
                })  # fmt: skip
                sizes[partition] += size
                if (
                    len(buffers[partition]) >= limits.max_records
                    or sizes[partition] >= limits.max_bytes
                ):
                    put(partition)
            seen += len(messages)
        for partition, records in buffers.items():
            if records:
                put(partition)
        return time.perf_counter() - started, objects
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--value-bytes", type=int, default=300)
    parser.add_argument("--order", default="sink,bare", help="which runs first (page cache)")
    args = parser.parse_args()
    limits = limits_for(args.records)
    base = load_settings()
    tag = uuid.uuid4().hex[:8]
    topic, bucket = f"bench.s3sink.{tag}", f"bench-s3sink-{tag}"
    settings = base.model_copy(update={"s3_bucket": bucket})
    admin = AdminClient(settings.kafka_client_config())
    admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])[
        topic
    ].result(30)
    s3 = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
    )
    s3.create_bucket(Bucket=bucket)
    try:
        print(f"producing {args.records:,} records of ~{args.value_bytes} B to {topic} ...")
        produce(settings.kafka_client_config(), topic, args.records, args.value_bytes)
        results: dict[str, tuple[float, int]] = {}
        for which in args.order.split(","):
            if which == "sink":
                results["sink"] = run_sink(settings, topic, tag, args.records, limits)
            else:
                results["bare"] = run_bare(settings, topic, tag, args.records, limits, s3)
        stored = {"sink": "bronze/", "bare": "bare/"}
        for which, (secs, objects) in results.items():
            total = sum(
                o["Size"]
                for page in s3.get_paginator("list_objects_v2").paginate(
                    Bucket=bucket, Prefix=stored[which]
                )
                for o in page.get("Contents", [])
            )
            print(f"{which}: {args.records / secs:10,.0f} records/s  {total / secs / 1e6:6.1f} MB/s"
                  f"  ({secs:.2f}s, {objects} objects, {total / 1e6:.1f} MB)")  # fmt: skip
        sink_rate = args.records / results["sink"][0]
        ratio = results["bare"][0] / results["sink"][0]
        print(f"ratio sink / bare loop: {ratio:.0%} (target >= 50%); sink {sink_rate:,.0f}"
              f" records/s (target >= 60,000); load {os.getloadavg()[0]:.1f}")  # fmt: skip
    finally:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
        s3.delete_bucket(Bucket=bucket)
        s3.close()
        admin.delete_topics([topic])[topic].result(30)


if __name__ == "__main__":
    main()
