"""Benchmark: one `orion process` worker beside a bare consume-decode-encode-produce loop.

Both read the same seeded `orion produce --max-rate` run (same raw topics,
same events) from one fresh namespace, in one run, so the ratio holds on a
shared, noisy machine. The bare loop (confluent-kafka, fastavro through
orion.serde, no rules, no state, no transactions) writes to a scratch topic;
the worker does everything it does in production. The worker's RSS is
sampled. Usage: python -m bench.processors [--events N]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from orion.catalog import entities
from orion.registry import Registry
from orion.serde import AvroDecoder, AvroEncoder
from orion.settings import load_settings
from orion.topics import create_topics, topic_specs


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def bare_loop(bootstrap: str, registry_url: str, prefix: str, total: int) -> float:
    """Events/s of consume, decode, re-encode and produce, nothing else."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    sink = prefix + "bench-bare"
    admin.create_topics([NewTopic(sink, num_partitions=3, replication_factor=1)])[sink].result()
    registry = Registry(registry_url)
    decode = AvroDecoder(registry)
    encoders: dict[int, AvroEncoder] = {}
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": prefix + "bare",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})  # fmt: skip
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "acks": "all",
                         "enable.idempotence": True, "compression.type": "lz4"})  # fmt: skip
    consumer.subscribe([prefix + e.topic("raw") for e in entities()])
    done = 0
    started = time.monotonic()
    while done < total:
        for msg in consumer.consume(2000, timeout=1.0):
            if msg.error():
                continue
            done += 1
            try:
                sid, rec = decode(msg.value() or b"")
            except Exception:  # poison: passed through as it is
                out = msg.value() or b""
            else:
                enc = encoders.get(sid)
                if enc is None:
                    enc = encoders[sid] = AvroEncoder(sid, registry.parsed_schema(sid))
                out = enc(rec)
            while True:
                try:
                    producer.produce(sink, out, msg.key())
                    break
                except BufferError:
                    producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)
    elapsed = time.monotonic() - started
    consumer.close()
    return done / elapsed


def parked(port: int) -> float:
    """The worker's ``orion_processor_parked`` gauge (0 while its endpoint is not up yet)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("orion_processor_parked "):
                    return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def worker_run(prefix: str, total: int) -> tuple[float, list[tuple[int, float]], float]:
    """Events/s of one `orion process` worker, its RSS (MiB) against events committed,
    and the most facts it held parked at once (they wait for master data; a backlog
    read at full speed parks more than a live stream)."""
    settings = load_settings()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "ORION_TOPIC_PREFIX": prefix, "ORION_METRICS_PORT": str(port)}
    data = tempfile.mkdtemp(prefix="bench-proc-")
    cmd = [sys.executable, "-m", "orion", "process", "--data-dir", data]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": prefix + "orion-processor"})  # fmt: skip
    tps = [TopicPartition(prefix + e.topic("raw"), p) for e in entities() for p in range(3)]
    high = {(t.topic, t.partition): consumer.get_watermark_offsets(t, timeout=10)[1] for t in tps}
    rss: list[tuple[int, float]] = []
    most_parked = 0.0
    started = time.monotonic()
    first = None
    try:
        while True:
            done = {(t.topic, t.partition): t.offset for t in consumer.committed(tps, timeout=10)}
            n = sum(max(done[k], 0) for k in high)
            rss.append((n, rss_mib(proc.pid)))
            most_parked = max(most_parked, parked(port))
            if first is None and n > 0:
                first = (time.monotonic(), n)
            if n >= total:
                break
            time.sleep(0.5)
        end = time.monotonic()
    finally:
        proc.terminate()
        proc.wait(60)
        consumer.close()
    t0, n0 = first or (started, 0)
    return (total - n0) / max(end - t0, 1e-9), rss, most_parked


def rss_profile(samples: list[tuple[int, float]], total: int, steps: int = 10) -> str:
    """Peak RSS within each tenth of the run: flat memory shows as a flat row."""
    cells = []
    for i in range(1, steps + 1):
        lo, hi = total * (i - 1) // steps, total * i // steps
        inside = [r for n, r in samples if lo < n <= hi] or [0.0]
        cells.append(f"{hi // 1000}k:{max(inside):.0f}")
    return " ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    settings = load_settings()
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    create_topics(settings.kafka_bootstrap, topic_specs(partitions=3, prefix=prefix))
    env = {**os.environ, "ORION_TOPIC_PREFIX": prefix}
    subprocess.run([sys.executable, "-m", "orion", "produce", "--events", str(args.events),
                    "--max-rate"], env=env, check=True, capture_output=True)  # fmt: skip
    bare = bare_loop(settings.kafka_bootstrap, settings.schema_registry_url, prefix, args.events)
    rate, rss, most_parked = worker_run(prefix, args.events)
    print(f"events: {args.events}")
    print(f"bare consume-decode-encode-produce loop: {bare:,.0f} events/s")
    print(f"orion process (1 worker, exactly-once):  {rate:,.0f} events/s")
    print(f"ratio worker/bare: {rate / bare:.1%}")
    print(f"worker RSS: peak {max(r for _, r in rss):.0f} MiB, at end {rss[-1][1]:.0f} MiB")
    print(f"facts parked at once, at most: {most_parked:,.0f}")
    print(f"worker RSS peak per tenth (events: MiB): {rss_profile(rss, args.events)}")
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    for f in admin.delete_topics(topics).values():
        f.result(timeout=60)


if __name__ == "__main__":
    main()
