"""Benchmark: `orion sink s3` archiving beside raw boto3 puts of the same bytes.

One run: produce records (Confluent-framed values, keys, headers) to a fresh
topic, archive them with the sink's own pieces (consumer, runner, S3 sink)
into a fresh bucket, then put the very same object bodies again with plain
boto3 ``put_object`` calls, one after another like the sink, to the same
store. Prints MB/s of object bytes for both and the ratio (target >= 70%).
The sink's time runs from its partition assignment to its last commit, so
the consumer group's join delay is not counted.
Usage: python -m bench.s3_sink [--records N] [--value-bytes B]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid

import boto3
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from orion.kafka_config import KafkaConfig
from orion.settings import load_settings
from sinks.base import BatchLimits, SinkRunner
from sinks.s3.configuration import S3SinkConfig
from sinks.s3.consumer import build_storage, consumer_config
from sinks.s3.format import AvroContainerFormat
from sinks.s3.partitioner import DailyPartitioner
from sinks.s3.writer import S3Sink

PARTITIONS = 4


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--value-bytes", type=int, default=300)
    args = parser.parse_args()
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

        config = S3SinkConfig(
            topics=(topic,), group=f"bench-{tag}", limits=BatchLimits(max_age_s=5.0)
        )
        storage = build_storage(settings, config)
        sink = S3Sink(storage, AvroContainerFormat(), DailyPartitioner(), config.limits)
        consumer = Consumer(consumer_config(settings, config))
        runner = SinkRunner(consumer, sink, [topic])
        stop = threading.Event()
        thread = threading.Thread(target=runner.run, args=(stop,))
        thread.start()
        runner.ready.wait(60)
        started = time.perf_counter()
        while sum(runner.stats.committed.values()) < args.records:
            time.sleep(0.01)
        sink_s = time.perf_counter() - started
        stop.set()
        thread.join(60)
        consumer.close()

        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="bronze/")["Contents"]]
        bodies = [s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys]
        total = sum(len(b) for b in bodies)
        started = time.perf_counter()
        for i, body in enumerate(bodies):
            s3.put_object(Bucket=bucket, Key=f"raw/{i}", Body=body)
        raw_s = time.perf_counter() - started
        storage.close()

        sink_mbs, raw_mbs = total / sink_s / 1e6, total / raw_s / 1e6
        print(f"objects: {len(bodies)} of {total / len(bodies) / 1e6:.1f} MB (deflate)")
        print(
            f"sink:      {sink_mbs:8.1f} MB/s of objects  ({args.records / sink_s:,.0f} records/s,"
            f" {sink_s:.2f}s)"
        )
        print(f"raw boto3: {raw_mbs:8.1f} MB/s of objects  ({raw_s:.2f}s)")
        print(f"ratio sink / raw puts: {sink_mbs / raw_mbs:.0%} (target >= 70%)")
    finally:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
        s3.delete_bucket(Bucket=bucket)
        s3.close()
        admin.delete_topics([topic])[topic].result(30)


if __name__ == "__main__":
    main()
