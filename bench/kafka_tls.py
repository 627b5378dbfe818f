"""Benchmark: what TLS costs the producer and the processor, SASL_SSL beside SASL_PLAINTEXT.

Both runs use the same broker, the same SCRAM principals and ACLs: the
client port (SASL_SSL) and a second listener without TLS (SASL_PLAINTEXT,
``ORION_STACK_KAFKA_BENCH_PORT``) that the stack opens only when asked. If the
running broker has no such listener, the benchmark restarts it with one and
restarts it without it at the end. Authentication happens once per
connection, so the difference between the two is the encryption.

Each round produces ``--events`` seeded events with `orion produce --max-rate`
as the ``producer`` principal, then one `orion process` worker as the
``processor`` principal works through them; the order of the two transports
alternates between rounds, and the ratio (TLS / plaintext) is given per
round and for the medians, because the machine is shared.

A "wire" section first sends and reads back 180-byte values with bare
confluent-kafka clients (no Avro, no rules) under the same principals, so
the transport's own cost shows without the pipeline's Python work around it.

Usage: python -m bench.kafka_tls [--events 100000] [--rounds 2] [--wire-records 300000]
       [--sections wire,pipeline]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from bench.processors import Worker as _Worker
from bench.processors import cleanup, namespace, watch
from orion.settings import load_settings
from orionctl.stack import manager
from orionctl.stack.config import StackConfig, load_stack_config
from orionctl.stack.kafka import Kafka
from orionctl.stack.kafka_access import service_env
from orionctl.stack.process import port_open

TRANSPORTS = ("SASL_SSL", "SASL_PLAINTEXT")


def bench_listener(cfg: StackConfig) -> tuple[StackConfig, bool]:
    """The stack's config with the bench listener open; True if it had to be opened."""
    if cfg.kafka_bench_port is not None and port_open(cfg.host, cfg.kafka_bench_port):
        return cfg, False
    port = cfg.kafka_bench_port or cfg.kafka_port + 3
    os.environ["ORION_STACK_KAFKA_BENCH_PORT"] = str(port)
    opened = load_stack_config()
    print(f"restarting Kafka with a SASL_PLAINTEXT listener on {port} for the benchmark")
    manager.restart(opened, "kafka")
    return opened, True


def transport_env(cfg: StackConfig, transport: str) -> dict[str, str]:
    if transport == "SASL_SSL":
        return {}
    return {
        "ORION_KAFKA_BOOTSTRAP": f"{cfg.host}:{cfg.kafka_bench_port}",
        "ORION_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
    }


def produce_rate(env: dict[str, str], events: int) -> float:
    cmd = [sys.executable, "-m", "orionctl", "produce", "--max-rate", "--events", str(events),
           "--seed", "7"]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=900)
    match = re.search(r"\((\d+) events/s", out.stdout)
    if out.returncode != 0 or not match:
        sys.exit(f"orion produce failed ({out.returncode}):\n{out.stdout}\n{out.stderr[-2000:]}")
    return float(match.group(1))


class Worker(_Worker):
    """The benchmark's `orion process` worker, under the processor principal and a transport."""

    def __init__(self, prefix: str, env: dict[str, str]) -> None:
        super().__init__(prefix)
        self.env = env

    def start(self) -> Worker:
        env = {**os.environ, **self.env, "ORION_METRICS_PORT": str(self.port)}
        data = tempfile.mkdtemp(prefix="bench-tls-")
        cmd = [sys.executable, "-m", "orionctl", "process", "--data-dir", data]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)  # fmt: skip
        return self


def wire_round(cfg: StackConfig, transport: str, records: int, prefix: str) -> tuple[float, float]:
    """(produce, consume) records/s of 180-byte values, no serde: the transport alone."""
    from confluent_kafka import Consumer, Producer

    topic = prefix + "raw.erp.sales"
    base = load_settings().kafka_client_config()
    wire = transport_env(cfg, transport)
    if wire:
        base |= {"bootstrap.servers": wire["ORION_KAFKA_BOOTSTRAP"],
                 "security.protocol": wire["ORION_KAFKA_SECURITY_PROTOCOL"]}  # fmt: skip
        base.pop("ssl.ca.location", None)

    def as_(principal: str) -> dict[str, object]:
        env = service_env(cfg, principal, prefix)
        return {**base, "sasl.username": env["ORION_KAFKA_SASL_USERNAME"],
                "sasl.password": env["ORION_KAFKA_SASL_PASSWORD"]}  # fmt: skip

    producer = Producer({**as_("producer"), "acks": "all", "enable.idempotence": True,
                         "linger.ms": 20, "batch.size": 1_000_000,
                         "queue.buffering.max.messages": 1_000_000})  # fmt: skip
    value = os.urandom(90).hex().encode()  # 180 bytes that do not compress
    started = time.monotonic()
    for i in range(records):
        while True:
            try:
                producer.produce(topic, value, str(i % 997).encode())
                break
            except BufferError:
                producer.poll(0.01)
    producer.flush(120)
    produced = records / (time.monotonic() - started)
    consumer = Consumer({**as_("processor"), "group.id": prefix + "orion-processor",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})  # fmt: skip
    consumer.subscribe([topic])
    seen, started = 0, 0.0
    while seen < records:
        batch = consumer.consume(10_000, timeout=1)
        if batch and not started:
            started = time.monotonic()
        seen += len(batch)
    consumed = seen / (time.monotonic() - started)
    consumer.close()
    return produced, consumed


def one_round(cfg: StackConfig, transport: str, events: int) -> tuple[float, float]:
    """(producer events/s, processor events/s) over ``transport`` in a fresh namespace."""
    operator = load_settings().kafka_client_config()
    prefix = namespace(operator)
    try:
        wire = transport_env(cfg, transport)
        producer = {**os.environ, **service_env(cfg, "producer", prefix), **wire}
        produced = produce_rate(producer, events)
        worker = Worker(prefix, {**service_env(cfg, "processor", prefix), **wire}).start()
        try:
            run = watch([worker], prefix, prefix + "orion-processor", events, operator)
        finally:
            if worker.proc is not None and worker.proc.poll() is None:
                worker.proc.send_signal(signal.SIGTERM)
                worker.proc.wait(120)
        return produced, run.rate
    finally:
        cleanup(operator, prefix)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--wire-records", type=int, default=300_000)
    parser.add_argument("--sections", default="wire,pipeline")
    args = parser.parse_args()
    cfg = load_stack_config()
    if not Kafka(cfg).secured:
        sys.exit("the stack runs plaintext Kafka (ORION_STACK_KAFKA_SECURITY); nothing to compare")
    cfg, opened = bench_listener(cfg)
    results: dict[str, list[tuple[float, float]]] = {t: [] for t in TRANSPORTS}
    wire: dict[str, list[tuple[float, float]]] = {t: [] for t in TRANSPORTS}
    sections = set(args.sections.split(","))
    try:
        for i in range(args.rounds * 2 if "wire" in sections else 0):
            order = TRANSPORTS if i % 2 == 0 else tuple(reversed(TRANSPORTS))
            for transport in order:
                operator = load_settings().kafka_client_config()
                prefix = namespace(operator)
                try:
                    rates = wire_round(cfg, transport, args.wire_records, prefix)
                finally:
                    cleanup(operator, prefix)
                wire[transport].append(rates)
                print(f"[wire {i + 1}] {transport:<14} produce {rates[0]:>9,.0f} records/s  "
                      f"consume {rates[1]:>9,.0f} records/s", flush=True)  # fmt: skip
        for i in range(args.rounds if "pipeline" in sections else 0):
            order = TRANSPORTS if i % 2 == 0 else tuple(reversed(TRANSPORTS))
            for transport in order:
                produced, processed = one_round(cfg, transport, args.events)
                results[transport].append((produced, processed))
                print(f"[round {i + 1}] {transport:<14} producer {produced:>9,.0f} events/s  "
                      f"processor {processed:>9,.0f} events/s", flush=True)  # fmt: skip
    finally:
        if opened:
            os.environ.pop("ORION_STACK_KAFKA_BENCH_PORT", None)
            print("restarting Kafka without the benchmark listener")
            manager.restart(load_stack_config(), "kafka")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs (shared), {when}, "
          f"{args.events:,} events a run")  # fmt: skip
    figures = [(wire, ("wire produce", "wire consume")),
               (results, ("orion produce", "orion process"))]  # fmt: skip
    for table, names in figures:
        if not table["SASL_SSL"]:
            continue
        for i, name in enumerate(names):
            tls = statistics.median(r[i] for r in table["SASL_SSL"])
            plain = statistics.median(r[i] for r in table["SASL_PLAINTEXT"])
            pairs = zip(table["SASL_SSL"], table["SASL_PLAINTEXT"], strict=True)
            per_round = ", ".join(f"{t[i] / p[i]:.2f}" for t, p in pairs)
            print(f"{name:<13} SASL_SSL {tls:>9,.0f}/s  SASL_PLAINTEXT {plain:>9,.0f}/s  "
                  f"TLS/plaintext {tls / plain:.2f} (rounds: {per_round})")  # fmt: skip


if __name__ == "__main__":
    main()
