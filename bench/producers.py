"""Benchmark: `orion produce --max-rate` with one and N workers beside Kafka's ProducerPerformance.

All three send the same number of records of the same average size to the
same local broker with acks=all and idempotence, in one run, so the ratios
hold on a shared, noisy machine: `orion produce --workers 1`, `--workers N`
(simulation here, encoding and sending in N processes) and the bare Java
producer. Also samples the producer's RSS (all its processes) to show it
stays flat. Usage: python -m bench.producers [--events N] [--workers N] [--ledger]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def children(pid: int) -> list[int]:
    """Direct children of a process (the producer's workers)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def run_orion(events: int, workers: int, ledger: Path | None) -> tuple[float, float, list[float]]:
    """events/s, bytes/event and RSS samples (all processes) of one `orion produce` run."""
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
        "--workers",
        str(workers),
    ]
    if ledger is not None:
        cmd += ["--ledger", str(ledger)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    samples = []
    while proc.poll() is None:
        time.sleep(2)
        try:
            rss = sum(rss_mib(p) for p in [proc.pid, *children(proc.pid)])
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
    props = [
        *java_client_properties(kafka),
        "acks=all",
        "enable.idempotence=true",
        "linger.ms=20",
        "batch.size=1000000",
        "compression.type=lz4",
    ]
    # A file, not --producer-props: that option splits each pair at every "=", and the
    # SASL JAAS line has several (it failed with "Invalid property" once SASL came in).
    with tempfile.NamedTemporaryFile("w", suffix=".properties") as config:
        config.write("\n".join(props) + "\n")
        config.flush()
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
            "--producer.config",
            config.name,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=1800).stdout
    final = [ln for ln in out.splitlines() if "records sent" in ln][-1]
    match = re.search(r"([\d.]+) records/sec", final)
    assert match, final
    return float(match.group(1))


def quartiles(samples: list[float]) -> str:
    q = len(samples)
    if not q:
        return "-"
    return " / ".join(f"{samples[min(q - 1, int(q * f))]:.0f}" for f in (0.25, 0.5, 0.75, 1.0))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2, help="N of the --workers N run")
    parser.add_argument("--ledger", action="store_true", help="both orion runs write a ledger")
    args = parser.parse_args()
    settings = load_settings()
    subprocess.run(
        [sys.executable, "-m", "orionctl", "topics", "create"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory() as tmp:
        first, second = (Path(tmp) / "one.jsonl", Path(tmp) / "many.jsonl")
        one, size, one_rss = run_orion(args.events, 1, first if args.ledger else None)
        many, _, many_rss = run_orion(args.events, args.workers, second if args.ledger else None)
        same = args.ledger and first.read_bytes() == second.read_bytes()
    theirs = run_perf(args.events, int(size), settings.kafka_client_config())
    print(f"events: {args.events}, average record: {size:.0f} bytes, ledger: {args.ledger}")
    print(f"orion produce --max-rate --workers 1:  {one:10.0f} events/s")
    print(f"orion produce --max-rate --workers {args.workers}:  {many:10.0f} events/s")
    print(f"kafka ProducerPerformance:             {theirs:10.0f} records/s")
    print(f"ratio --workers {args.workers} / --workers 1: {many / one:.2f}")
    print(f"ratio orion / ProducerPerformance: {one / theirs:.2f} (1 worker), {many / theirs:.2f}")
    if args.ledger:
        print(f"ledgers of the two runs byte-identical: {same}")
    print(f"producer RSS MiB at 25/50/75/100% of the run, 1 worker: {quartiles(one_rss)}")
    print(f"producer RSS MiB (all processes), {args.workers} workers: {quartiles(many_rss)}")


if __name__ == "__main__":
    main()
