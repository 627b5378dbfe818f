"""Benchmark: `orion process` workers beside a bare consume-decode-encode-produce loop.

Sections (each prints its figures; all run against the local stack):

* backlog: one worker on a seeded `orion produce --max-rate` backlog beside the
  bare loop (confluent-kafka, fastavro through orion.serde, no rules, no
  state, no transactions) over the same raw topics, in one run, so the ratio
  holds on a shared, noisy machine. Also the worker's RSS per tenth of the
  run, the most facts parked at once and the p99 time a fact stayed parked.
* restore: the same worker stopped and a new one started on the same group:
  how long it takes to rebuild that state before it processes again.
* live: a fresh worker while `orion produce --rate R` runs for S seconds:
  parked facts at once and the p99 time parked (target: grace + 1 s).
* scale: the same seeded backlog in a second namespace, two workers at once:
  events/s of each and together.

Usage: python -m bench.processors [--events N] [--sections backlog,restore,live,scale]
       [--live-rate 5000] [--live-seconds 60]
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from orion.catalog import entities
from orion.kafka_config import KafkaConfig
from orion.registry import Registry
from orion.serde import AvroDecoder, AvroEncoder
from orion.settings import load_settings
from orion.topics import create_topics, topic_specs

PARTITIONS = 6  # the production default: two workers get three each


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def namespace(kafka: KafkaConfig) -> str:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    create_topics(kafka, topic_specs(partitions=PARTITIONS, prefix=prefix))
    return prefix


def produce(prefix: str, events: int, *extra: str) -> None:
    env = {**os.environ, "ORION_TOPIC_PREFIX": prefix}
    subprocess.run([sys.executable, "-m", "orionctl", "produce", "--events", str(events), "--seed",
                    "1", *(extra or ("--max-rate",))], env=env, check=True,
                   capture_output=True)  # fmt: skip


def bare_loop(kafka: KafkaConfig, registry_url: str, prefix: str, total: int) -> float:
    """Events/s of consume, decode, re-encode and produce, nothing else."""
    admin = AdminClient(dict(kafka))
    sink = prefix + "bench-bare"
    admin.create_topics([NewTopic(sink, num_partitions=PARTITIONS, replication_factor=1)])[
        sink
    ].result()
    registry = Registry(registry_url)
    decode = AvroDecoder(registry)
    encoders: dict[int, AvroEncoder] = {}
    consumer = Consumer({**kafka, "group.id": prefix + "bare",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})  # fmt: skip
    producer = Producer({**kafka, "linger.ms": 20, "acks": "all",
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


@dataclass
class Worker:
    """One `orion process` subprocess and what is sampled from its /metrics."""

    prefix: str
    app_id: str = "orion-processor"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        env = {**os.environ, "ORION_TOPIC_PREFIX": self.prefix,
               "ORION_METRICS_PORT": str(self.port)}  # fmt: skip
        data = tempfile.mkdtemp(prefix="bench-proc-")
        cmd = [sys.executable, "-m", "orionctl", "process", "--data-dir", data,
               "--app-id", self.app_id]  # fmt: skip
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)  # fmt: skip
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(120)

    def metrics(self) -> dict[str, float]:
        """Unlabelled samples plus the parked-seconds buckets (name{le}) of /metrics."""
        out: dict[str, float] = {}
        try:
            url = f"http://127.0.0.1:{self.port}/metrics"
            with urllib.request.urlopen(url, timeout=2) as r:
                for line in r.read().decode().splitlines():
                    if line.startswith("#"):
                        continue
                    name, _, value = line.rpartition(" ")
                    out[name] = out.get(name, 0.0) + float(value) if "{" in name else float(value)
        except OSError:
            pass
        return out


def committed(consumer: Consumer, prefix: str, group_tps: list[TopicPartition]) -> int:
    return sum(max(t.offset, 0) for t in consumer.committed(group_tps, timeout=10))


def raw_tps(prefix: str) -> list[TopicPartition]:
    return [TopicPartition(prefix + e.topic("raw"), p) for e in entities()
            for p in range(PARTITIONS)]  # fmt: skip


def p99_parked(m: dict[str, float]) -> float:
    """The 99th percentile of orion_processor_parked_seconds (upper bucket bound)."""
    buckets = sorted(
        (float(k.split('le="')[1].split('"')[0]), v)
        for k, v in m.items()
        if k.startswith("orion_processor_parked_seconds_bucket")
    )
    total = m.get("orion_processor_parked_seconds_count", 0.0)
    if not total:
        return 0.0
    for bound, count in buckets:
        if count >= 0.99 * total:
            return bound
    return math.inf


@dataclass
class Run:
    rate: float
    rss: list[tuple[int, float]]
    most_parked: float
    last: dict[str, float]


def watch(workers: list[Worker], prefix: str, group: str, total: int, kafka: KafkaConfig) -> Run:
    """Sample until the group has committed ``total`` raw records."""
    consumer = Consumer({**kafka, "group.id": group})
    tps = raw_tps(prefix)
    rss: list[tuple[int, float]] = []
    most_parked = 0.0
    first: tuple[float, int] | None = None
    try:
        while True:
            n = committed(consumer, prefix, tps)
            rss.append((n, sum(rss_mib(w.proc.pid) for w in workers if w.proc)))
            most_parked = max(most_parked, sum(w.metrics().get("orion_processor_parked", 0)
                                               for w in workers))  # fmt: skip
            if first is None and n > 0:
                first = (time.monotonic(), n)
            if n >= total:
                break
            assert all(w.proc and w.proc.poll() is None for w in workers), "a worker died"
            time.sleep(0.5)
        end = time.monotonic()
    finally:
        consumer.close()
    t0, n0 = first or (end, 0)
    return Run((total - n0) / max(end - t0, 1e-9), rss, most_parked, workers[0].metrics())


def rss_profile(samples: list[tuple[int, float]], total: int, steps: int = 10) -> str:
    """Peak RSS within each tenth of the run: flat memory shows as a flat row."""
    cells = []
    for i in range(1, steps + 1):
        lo, hi = total * (i - 1) // steps, total * i // steps
        inside = [r for n, r in samples if lo < n <= hi] or [0.0]
        cells.append(f"{hi // 1000}k:{max(inside):.0f}")
    return " ".join(cells)


def section_backlog(args: argparse.Namespace, prefix: str) -> None:
    s = load_settings()
    bare = bare_loop(s.kafka_client_config(), s.schema_registry_url, prefix, args.events)
    w = Worker(prefix).start()
    try:
        run = watch([w], prefix, prefix + "orion-processor", args.events, s.kafka_client_config())
    finally:
        pass  # the restore section stops it
    print(f"[backlog] events: {args.events:,}")
    print(f"[backlog] bare consume-decode-encode-produce loop: {bare:,.0f} events/s")
    print(f"[backlog] orion process (1 worker, exactly-once):  {run.rate:,.0f} events/s")
    print(f"[backlog] ratio worker/bare: {run.rate / bare:.1%}")
    print(f"[backlog] worker RSS peak per tenth (events: MiB): {rss_profile(run.rss, args.events)}")
    print(f"[backlog] facts parked at once, at most: {run.most_parked:,.0f}")
    print(f"[backlog] p99 time parked: {p99_parked(w.metrics()):g} s")
    args.backlog_worker = w


def section_restore(args: argparse.Namespace, prefix: str) -> None:
    old: Worker | None = getattr(args, "backlog_worker", None)
    if old is None:
        print("[restore] needs the backlog section")
        return
    old.stop()
    started = time.monotonic()
    new = Worker(prefix).start()
    while True:
        m = new.metrics()
        if m.get("orion_processor_assigned_partitions", 0) >= PARTITIONS:
            break
        assert new.proc and new.proc.poll() is None, "the new worker died"
        time.sleep(0.1)
    took = time.monotonic() - started
    print(f"[restore] state of a {args.events:,}-event run: "
          f"{m.get('orion_processor_restored_records_total', 0):,.0f} changelog records in "
          f"{m.get('orion_processor_restore_seconds_sum', 0):.2f} s of restore; "
          f"{took:.1f} s from start to all {PARTITIONS} partitions assigned and ready")  # fmt: skip
    new.stop()


def section_live(args: argparse.Namespace) -> None:
    s = load_settings()
    prefix = namespace(s.kafka_client_config())
    w = Worker(prefix).start()
    time.sleep(8)  # assigned and restored (empty) before the stream starts
    events = int(args.live_rate * args.live_seconds)
    most = 0.0
    env = {**os.environ, "ORION_TOPIC_PREFIX": prefix}
    producer = subprocess.Popen([sys.executable, "-m", "orionctl", "produce", "--events",
                                 str(events), "--rate", str(args.live_rate), "--seed", "1"],
                                env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
    started = time.monotonic()
    while producer.poll() is None:
        most = max(most, w.metrics().get("orion_processor_parked", 0))
        time.sleep(0.5)
    took = time.monotonic() - started
    run = watch([w], prefix, prefix + "orion-processor", events, s.kafka_client_config())
    time.sleep(8)  # the last parked facts wait out the grace
    m = w.metrics()
    w.stop()
    print(f"[live] {events:,} events at {events / took:,.0f} events/s for {took:.0f} s")
    print(f"[live] facts parked at once, at most: {max(most, run.most_parked):,.0f}")
    print(f"[live] p99 time parked: {p99_parked(m):g} s (reference grace 5 s; target <= 6 s)")
    print(f"[live] facts parked in all: {m.get('orion_processor_parked_seconds_count', 0):,.0f}")
    cleanup(s.kafka_client_config(), prefix)


def section_scale(args: argparse.Namespace) -> None:
    s = load_settings()
    prefix = namespace(s.kafka_client_config())
    produce(prefix, args.events)
    workers = [Worker(prefix).start(), Worker(prefix).start()]
    run = watch(workers, prefix, prefix + "orion-processor", args.events, s.kafka_client_config())
    counts = [w.metrics().get("orion_processor_assigned_partitions", 0) for w in workers]
    for w in workers:
        w.stop()
    print(f"[scale] two workers on {args.events:,} events: {run.rate:,.0f} events/s together, "
          f"{run.rate / 2:,.0f} each (partitions {counts[0]:.0f} + {counts[1]:.0f})")  # fmt: skip
    cleanup(s.kafka_client_config(), prefix)


def cleanup(kafka: KafkaConfig, prefix: str) -> None:
    admin = AdminClient(dict(kafka))
    topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if topics:
        for f in admin.delete_topics(topics).values():
            f.result(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--sections", default="backlog,restore,live,scale")
    parser.add_argument("--live-rate", type=int, default=5000)
    parser.add_argument("--live-seconds", type=int, default=60)
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    s = load_settings()
    if sections & {"backlog", "restore"}:
        prefix = namespace(s.kafka_client_config())
        produce(prefix, args.events)
        try:
            if "backlog" in sections:
                section_backlog(args, prefix)
            if "restore" in sections:
                section_restore(args, prefix)
        finally:
            if getattr(args, "backlog_worker", None) is not None:
                args.backlog_worker.stop()
            cleanup(s.kafka_client_config(), prefix)
    if "live" in sections:
        section_live(args)
    if "scale" in sections:
        section_scale(args)


if __name__ == "__main__":
    main()
