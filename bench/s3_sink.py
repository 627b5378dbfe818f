"""Benchmark: `orion sink s3` beside bare loops that do the same work, in one run.

One run: produce records (Confluent-framed values, keys, headers) to a fresh
topic, archive them with the sink's own pieces (consumer, runner, S3 sink,
conditional puts) into a fresh bucket, then run bare loops over the very same
records. A bare loop consumes the topic from Kafka with the sink's consumer
settings (SASL_SSL, the same fetch and queue sizes; ``assign()`` from the
beginning instead of joining a group), cuts each partition at the offsets
where the sink started its objects (so the files hold the same records and
have the same sizes), encodes each as an Avro container file with the same
codec and level, and puts it with plain boto3 ``put_object``, one after
another. Two bare loops:

* ``fastavro``: message -> dict -> fastavro's ``writer``, the obvious loop;
* ``container``: message -> KafkaRecord -> the sink's own container writer
  (:mod:`sinks.s3.container`), so the sink's encoder is not what it is
  compared on.

The ratio is the sink's records/s over the faster bare loop's (target >= 50%,
and >= 60,000 records/s). The sink's time runs from its partition assignment
to its last commit (the group's join delay is not counted); a bare loop's
from its ``assign()`` to its last put.
Usage: python -m bench.s3_sink [--records N] [--value-bytes B] [--rounds R]
"""

from __future__ import annotations

import argparse
import io
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import boto3
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from fastavro import writer

from orion.kafka_config import KafkaConfig
from orion.settings import OrionSettings, load_settings
from sinks.base import BatchLimits, KafkaRecord, SinkRunner
from sinks.base.collector import fewer_collections
from sinks.s3.configuration import S3SinkConfig
from sinks.s3.consumer import build_storage, consumer_config
from sinks.s3.format import AvroContainerFormat, kafka_record_schema
from sinks.s3.partitioner import DailyPartitioner, parse_key
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


def run_sink(
    settings: OrionSettings, topic: str, tag: str, records: int
) -> tuple[float, float, str]:
    """Seconds (wall, then process CPU) the sink took from its assignment to committing
    every record, and the prefix it wrote under."""
    config = S3SinkConfig(
        topics=(topic,), group=f"bench-{tag}-{uuid.uuid4().hex[:4]}",
        limits=BatchLimits(max_age_s=5.0), prefix=f"bronze-{uuid.uuid4().hex[:4]}",
    )  # fmt: skip
    storage = build_storage(settings, config)
    sink = S3Sink(
        storage, AvroContainerFormat(codec=config.codec, compress_in_thread=True),
        DailyPartitioner(config.prefix), config.limits,
    )  # fmt: skip
    consumer = Consumer(consumer_config(settings, config))
    runner = SinkRunner(consumer, sink, [topic])
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    runner.ready.wait(60)
    started, cpu = time.perf_counter(), time.process_time()
    while sum(runner.stats.committed.values()) < records:
        if not thread.is_alive():
            raise RuntimeError("the sink stopped before archiving everything")
        time.sleep(0.005)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    stop.set()
    thread.join(60)
    consumer.close()
    storage.close()
    return elapsed, cpu, config.prefix


def _fastavro_body(records: list[dict[str, Any]]) -> bytes:
    buf = io.BytesIO()
    writer(
        buf, kafka_record_schema(), records, codec="deflate", codec_compression_level=1,
        sync_interval=1 << 20,
    )  # fmt: skip
    return buf.getvalue()


def _as_dict(m: Any) -> dict[str, Any]:
    ts_type, ts = m.timestamp()
    return {
        "topic": m.topic(), "partition": m.partition(), "offset": m.offset(),
        "timestamp": ts, "timestamp_type": ts_type, "key": m.key(), "value": m.value(),
        "headers": [{"key": k, "value": v} for k, v in m.headers() or ()],
    }  # fmt: skip


LOOPS: dict[str, tuple[Callable[[Any], Any], Callable[[list[Any]], bytes]]] = {
    "fastavro": (_as_dict, _fastavro_body),
    "container": (KafkaRecord.from_message, AvroContainerFormat().encode),
}


def bare_loop(
    settings: OrionSettings, s3: Any, bucket: str, topic: str, cuts: dict[int, list[int]], how: str
) -> tuple[float, float, int, int]:
    """(wall seconds, process CPU seconds, objects, bytes) of one bare loop over the topic,
    cut where the sink cut."""
    convert, encode = LOOPS[how]
    config = S3SinkConfig(topics=(topic,), group=f"bare-{uuid.uuid4().hex[:8]}")
    consumer = Consumer(consumer_config(settings, config))
    ends: dict[int, int] = {}
    for p in cuts:
        ends[p] = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
    next_cut = {p: iter([*cuts[p][1:], ends[p]]) for p in cuts}
    cut_at = {p: next(next_cut[p]) for p in cuts}
    buffers: dict[int, list[Any]] = defaultdict(list)
    remaining, objects, total = set(cuts), 0, 0
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in cuts])
    started, cpu = time.perf_counter(), time.process_time()
    while remaining:
        for m in consumer.consume(1000, timeout=0.2):
            part, offset = m.partition(), m.offset()
            if m.error() or part is None or offset is None:
                continue
            buf = buffers[part]
            buf.append(convert(m))
            if offset + 1 == cut_at[part]:
                body = encode(buf)
                s3.put_object(Bucket=bucket, Key=f"bare/{how}/{part}/{objects}", Body=body)
                objects, total = objects + 1, total + len(body)
                buf.clear()
                if cut_at[part] == ends[part]:
                    remaining.discard(part)
                else:
                    cut_at[part] = next(next_cut[part])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    consumer.close()
    return elapsed, cpu, objects, total


def sink_cuts(s3: Any, bucket: str, prefix: str) -> tuple[dict[int, list[int]], int, int]:
    """Start offsets of the sink's objects per partition, their count and total bytes."""
    cuts: dict[int, list[int]] = defaultdict(list)
    count = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for obj in page.get("Contents", []):
            name = parse_key(obj["Key"])
            if name is not None:
                cuts[name.partition].append(name.start_offset)
                count, size = count + 1, size + obj["Size"]
    return {p: sorted(v) for p, v in cuts.items()}, count, size


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--value-bytes", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=1, help="sink and bare loops, R times")
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
    n = args.records
    try:
        print(f"producing {n:,} records of ~{args.value_bytes} B to {topic} ...")
        produce(settings.kafka_client_config(), topic, n, args.value_bytes)
        gc_tuning = fewer_collections()  # as run_s3_sink has it; process-wide: every loop gets it
        gc_tuning.__enter__()
        for r in range(1, args.rounds + 1):
            print(f"-- round {r} ({load()})")
            sink_s, sink_cpu, prefix = run_sink(settings, topic, tag, n)
            cuts, objects, size = sink_cuts(s3, bucket, prefix)
            print(
                f"sink:            {n / sink_s:9,.0f} records/s  {size / sink_s / 1e6:6.1f} MB/s"
                f"  {n / sink_cpu:9,.0f} records/CPU-s  ({sink_s:.2f}s, {objects} objects of"
                f" {size / objects / 1e6:.2f} MB)  {load()}"
            )
            best = 0.0
            for how in LOOPS:
                bare_s, bare_cpu, bare_objects, bare_size = bare_loop(
                    settings, s3, bucket, topic, cuts, how
                )
                best = max(best, n / bare_s)
                print(
                    f"bare {how:10s} {n / bare_s:9,.0f} records/s  {bare_size / bare_s / 1e6:6.1f}"
                    f" MB/s  {n / bare_cpu:9,.0f} records/CPU-s  ({bare_s:.2f}s, {bare_objects}"
                    f" objects of {bare_size / bare_objects / 1e6:.2f} MB)  {load()}"
                )
            ratio = n / sink_s / best
            verdict = "met" if ratio >= 0.5 and n / sink_s >= 60_000 else "MISSED"
            print(
                f"ratio sink / faster bare loop: {ratio:.0%} (target >= 50% and >= 60,000 "
                f"records/s: {verdict})"
            )
    finally:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
        s3.delete_bucket(Bucket=bucket)
        s3.close()
        admin.delete_topics([topic])[topic].result(30)


if __name__ == "__main__":
    main()
