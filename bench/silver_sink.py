"""Benchmark: `orion sink silver` beside a bare consume-decode-write_table loop, same records.

One run: publish a seeded simulator run's clean records to fresh clean
topics (as the processors would), then

* sink: the sink's own pieces (consumer, runner, silver sink, conditional
  puts to versitygw) write them into a fresh bucket; timed from the
  partition assignment to the last commit;
* baseline: a plain consumer reads the same topics from the start, decodes
  every value with the same Avro decoder (clean schema as reader schema),
  and per topic-partition builds one Arrow table of the same columns
  (``Table.from_pylist``) and calls ``pyarrow.parquet.write_table`` into
  memory: no S3, no day split, no offsets.

Prints records/s of both and the ratio (target >= 50%).
Usage: python -m bench.silver_sink [--events N] [--days D] [--max-records R]
"""

from __future__ import annotations

import argparse
import io
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from orion.catalog import entity, load_schema
from orion.registry import Registry
from orion.serde import AvroDecoder
from orion.settings import OrionSettings, load_settings
from sinks.base import SinkRunner
from sinks.silver.arrow_schema import arrow_schema
from sinks.silver.configuration import SilverSinkConfig
from sinks.silver.consumer import build_storage, consumer_config
from sinks.silver.decode import RowDecoder
from sinks.silver.parquet_format import ParquetFormat
from sinks.silver.writer import SilverSink
from tests.sinks.warehouse.kafka_support import create_clean_topics, end_offsets, publish
from tests.warehouse_sql.support import clean_events


def run_sink(settings: OrionSettings, config: SilverSinkConfig, total: int) -> float:
    storage = build_storage(settings)
    registry = Registry(settings.schema_registry_url)
    sink = SilverSink(
        storage,
        RowDecoder(registry),
        ParquetFormat(config.compression, config.row_group_rows),
        config.limits,
        topic_prefix=config.topic_prefix,
    )
    consumer = Consumer(consumer_config(settings, config))
    runner = SinkRunner(consumer, sink, list(config.topics))
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    runner.ready.wait(60)
    started = time.perf_counter()
    while sum(runner.stats.committed.values()) < total:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join(60)
    consumer.close()
    registry.close()
    storage.close()
    return elapsed


def run_baseline(
    settings: OrionSettings, prefix: str, ends: dict[tuple[str, int], int]
) -> tuple[float, int]:
    """Consume, decode, one write_table per topic-partition; (seconds, Parquet bytes)."""
    registry = Registry(settings.schema_registry_url)
    decoders: dict[str, AvroDecoder] = {}
    consumer = Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": f"bench-base-{uuid.uuid4().hex[:6]}",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in ends])
    rows: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    remaining = dict(ends)
    started = time.perf_counter()
    while remaining:
        for m in consumer.consume(1000, timeout=0.5):
            if m.error():
                continue
            topic, partition, offset = str(m.topic()), m.partition() or 0, m.offset() or 0
            stem = topic.removeprefix(prefix).removeprefix("clean.")
            decode = decoders.get(stem)
            if decode is None:
                reader = load_schema(entity(stem).schema_path("clean"))
                decode = decoders[stem] = AvroDecoder(registry, reader)
            row = decode(m.value() or b"")[1]
            row.update(kafka_topic=topic, kafka_partition=partition, kafka_offset=offset)
            rows[(topic, partition)].append(row)
            if offset + 1 >= ends[(topic, partition)]:
                remaining.pop((topic, partition), None)
    size = 0
    for (topic, _p), rs in rows.items():
        table = pa.Table.from_pylist(rs, schema=arrow_schema(topic.removeprefix(prefix)[6:]))
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        size += buf.tell()
    elapsed = time.perf_counter() - started
    consumer.close()
    registry.close()
    return elapsed, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--max-records", type=int, default=100_000)
    args = parser.parse_args()
    base = load_settings()
    tag = uuid.uuid4().hex[:8]
    prefix, bucket = f"bench{tag}.", f"bench-silver-{tag}"
    settings = base.model_copy(update={"s3_bucket": bucket})
    s3 = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
    )
    s3.create_bucket(Bucket=bucket)
    topics = create_clean_topics(settings, prefix)
    try:
        events = clean_events(20260301, args.events, days=args.days)
        print(f"publishing {len(events):,} clean records over {args.days} days ...")
        publish(settings, prefix, events)
        ends = end_offsets(settings, topics)
        total = sum(ends.values())
        config = SilverSinkConfig(
            topics=tuple(topics),
            topic_prefix=prefix,
            group=f"bench-{tag}",
            max_records=args.max_records,
            max_age_s=5.0,
        )
        sink_s = run_sink(settings, config, total)
        keys = [
            o
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])
        ]
        base_s, base_bytes = run_baseline(settings, prefix, ends)
        sink_bytes = sum(o["Size"] for o in keys)
        print(
            f"objects: {len(keys)}, {sink_bytes / 1e6:.1f} MB (baseline {base_bytes / 1e6:.1f} MB)"
        )
        print(f"sink:     {total / sink_s:10,.0f} records/s  ({sink_s:.2f}s)")
        print(f"baseline: {total / base_s:10,.0f} records/s  ({base_s:.2f}s)")
        print(f"ratio sink / baseline: {base_s / sink_s:.0%} (target >= 50%)")
    finally:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
        s3.delete_bucket(Bucket=bucket)
        s3.close()
        admin = AdminClient(settings.kafka_client_config())
        for f in admin.delete_topics(topics).values():
            f.result(30)


if __name__ == "__main__":
    main()
