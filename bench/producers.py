"""Benchmark: `orion produce --max-rate` beside Kafka's own ProducerPerformance.

Both send the same number of records of the same average size to the same
local broker with acks=all and idempotence, in one run, so the ratio holds
on a shared, noisy machine. Also samples the producer's RSS to show it stays
flat. Usage: python -m bench.producers [--events N]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from orion.kafka_config import KafkaConfig
from orion.settings import load_settings
from orionctl.stack.config import load_stack_config
from orionctl.stack.kafka import Kafka

PERF_TOPIC = "bench.producer-performance"


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_orion(events: int) -> tuple[float, float, list[float]]:
    """events/s, bytes/event and RSS samples of one `orion produce --max-rate` run."""
    cmd = [
        sys.executable,
        "-m",
        "orionctl",
        "produce",
        "--max-rate",
        "--events",
        str(events),
        "--seed",
        "7",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    samples = []
    while proc.poll() is None:
        time.sleep(2)
        try:
            rss = rss_mib(proc.pid)
        except OSError:
            break
        if rss:  # 0 once the process has exited but not yet been reaped
            samples.append(rss)
    out = proc.stdout.read() if proc.stdout else ""
    match = re.search(r"\((\d+) events/s, (\d+) bytes/event\)", out)
    if proc.returncode != 0 or not match:
        sys.exit(f"orion produce failed ({proc.returncode}):\n{out}")
    return float(match.group(1)), float(match.group(2)), samples


def java_client_properties(kafka: KafkaConfig) -> list[str]:
    """The same connection for Kafka's Java tools (``--producer-props``)."""
    props = [
        f"bootstrap.servers={kafka['bootstrap.servers']}",
        f"security.protocol={kafka.get('security.protocol', 'PLAINTEXT')}",
    ]
    if "sasl.username" in kafka:
        props += [
            f"sasl.mechanism={kafka['sasl.mechanism']}",
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{kafka["sasl.username"]}" password="{kafka["sasl.password"]}";',
        ]
    if "ssl.ca.location" in kafka:
        props += ["ssl.truststore.type=PEM", f"ssl.truststore.location={kafka['ssl.ca.location']}"]
    return props


def run_perf(records: int, size: int, kafka: KafkaConfig) -> float:
    admin = AdminClient(dict(kafka))
    if PERF_TOPIC not in admin.list_topics(timeout=10).topics:
        admin.create_topics([NewTopic(PERF_TOPIC, 6, 1)])[PERF_TOPIC].result(30)
    libs = Kafka(load_stack_config()).install_dir / "libs" / "*"
    cmd = [
        "java",
        "-Xmx512m",
        "-cp",
        str(libs),
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        PERF_TOPIC,
        "--num-records",
        str(records),
        "--record-size",
        str(size),
        "--throughput",
        "-1",
        "--producer-props",
        *java_client_properties(kafka),
        "acks=all",
        "enable.idempotence=true",
        "linger.ms=20",
        "batch.size=1000000",
        "compression.type=lz4",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=1800).stdout
    final = [ln for ln in out.splitlines() if "records sent" in ln][-1]
    match = re.search(r"([\d.]+) records/sec", final)
    assert match, final
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500_000)
    args = parser.parse_args()
    settings = load_settings()
    subprocess.run(
        [sys.executable, "-m", "orionctl", "topics", "create"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    ours, size, samples = run_orion(args.events)
    theirs = run_perf(args.events, int(size), settings.kafka_client_config())
    print(f"events: {args.events}, average record: {size:.0f} bytes")
    print(f"orion produce --max-rate:     {ours:10.0f} events/s")
    print(f"kafka ProducerPerformance:    {theirs:10.0f} records/s")
    print(f"ratio orion / ProducerPerformance: {ours / theirs:.2f}")
    if samples:
        q = len(samples)
        print(
            "producer RSS MiB at 25/50/75/100% of the run: "
            + " ".join(f"{samples[min(q - 1, int(q * f))]:.0f}" for f in (0.25, 0.5, 0.75, 1.0))
        )


if __name__ == "__main__":
    main()
