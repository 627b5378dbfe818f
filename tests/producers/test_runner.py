"""`orion produce` against the real broker and registry, held against its own ledger."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from orion.catalog import entities
from orion.exceptions import NotWireFormatError
from orion.registry import Registry
from orion.serde import AvroDecoder
from orion.settings import OrionSettings

pytestmark = pytest.mark.integration


def produce(prefix: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ORION_TOPIC_PREFIX": prefix}
    return subprocess.run(
        [sys.executable, "-m", "orionctl", "produce", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def read_topics(settings: OrionSettings, prefix: str) -> dict[str, list[tuple[bytes, bytes]]]:
    """Every (key, value) of every raw topic under ``prefix``, per topic in offset order."""
    consumer = Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": prefix + "check",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    by_partition: dict[tuple[str, int], list[tuple[int, bytes, bytes]]] = defaultdict(list)
    try:
        assignment, total = [], 0
        for entity in entities():
            topic = prefix + entity.topic("raw")
            for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                assignment.append(TopicPartition(topic, p, low))
                total += high - low
        consumer.assign(assignment)
        got = 0
        deadline = time.monotonic() + 120
        while got < total and time.monotonic() < deadline:
            for msg in consumer.consume(5000, timeout=1.0):
                if msg.error() is None:
                    t, part, offset = msg.topic(), msg.partition(), msg.offset()
                    key, value = msg.key(), msg.value()
                    assert t is not None and part is not None and offset is not None
                    assert key is not None and value is not None, "every raw record has both"
                    by_partition[(t, part)].append((offset, key, value))
                    got += 1
        assert got == total, f"read {got} of {total} records"
    finally:
        consumer.close()
    out: dict[str, list[tuple[bytes, bytes]]] = defaultdict(list)
    for (topic, _), rows in sorted(by_partition.items()):
        out[topic.removeprefix(prefix)].extend(
            (k, v) for _, k, v in sorted(rows, key=lambda r: r[0])
        )
    return out


def test_wire_agrees_with_the_ledger_event_for_event(
    settings: OrionSettings, topic_namespace: str, tmp_path: Path
) -> None:
    ledger_path = tmp_path / "ledger.jsonl"
    result = produce(
        topic_namespace,
        "--events",
        "20000",
        "--max-rate",
        "--seed",
        "11",
        "--ledger",
        str(ledger_path),
    )
    assert result.returncode == 0, result.stderr
    assert "sent 20000, delivered 20000, retried 0, failed 0" in result.stdout
    ledger = [json.loads(line) for line in ledger_path.read_text().splitlines()]
    assert len(ledger) == 20000

    wire = read_topics(settings, topic_namespace)
    assert sum(len(v) for v in wire.values()) == 20000
    # Per key, Kafka keeps order: the sequence of event ids per (topic, key) must match.
    expected: dict[tuple[str, str], list[str]] = defaultdict(list)
    poison_ids = set()
    for rec in ledger:
        expected[(rec["topic"], rec["key"])].append(rec["event_id"])
        if rec["reason"] == "NOT_WIRE_FORMAT":
            poison_ids.add(rec["event_id"])
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    records: dict[str, dict[str, Any]] = {}
    with Registry(settings.schema_registry_url) as registry:
        decode = AvroDecoder(registry)
        for topic, messages in wire.items():
            for key, value in messages:
                try:
                    _, record = decode(value)
                except NotWireFormatError:
                    seen[(topic, key.decode())].append("<poison>")
                    continue
                seen[(topic, key.decode())].append(record["event_id"])
                records[record["event_id"]] = record
    for k, ids in expected.items():
        want = ["<poison>" if i in poison_ids else i for i in ids]
        assert seen[k] == want, k
    assert poison_ids, "the default defect mix sends poison"

    # Defects are really on the wire.
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in ledger:
        for kind in rec["defects"]:
            by_kind[kind].append(rec)
    for rec in by_kind["GARBAGE_SUFFIX"]:
        assert any(
            isinstance(v, str) and v.endswith("??") for v in records[rec["event_id"]].values()
        )
    for rec in by_kind["NULL_REQUIRED"]:
        assert None in records[rec["event_id"]].values()
    for rec in by_kind["EXACT_RESEND"]:
        assert rec["duplicate_of"] == rec["event_id"]
    for rec in by_kind["BUSINESS_DUPLICATE"]:
        original = records[rec["duplicate_of"]]
        copy = records[rec["event_id"]]
        assert {k: v for k, v in copy.items() if k not in {"event_id", "produced_at"}} == {
            k: v for k, v in original.items() if k not in {"event_id", "produced_at"}
        }


def test_same_seed_gives_identical_ledgers_and_bytes(
    settings: OrionSettings, topic_namespace: str, tmp_path: Path
) -> None:
    runs = []
    for n in range(2):
        path = tmp_path / f"ledger-{n}.jsonl"
        result = produce(
            topic_namespace, "--events", "3000", "--max-rate", "--seed", "5", "--ledger", str(path)
        )
        assert result.returncode == 0, result.stderr
        runs.append(path.read_bytes())
    assert runs[0] == runs[1]
    wire = read_topics(settings, topic_namespace)
    for topic, messages in wire.items():
        # Both runs went to the same topics: the second half repeats the first, byte for byte.
        by_key: dict[bytes, list[bytes]] = defaultdict(list)
        for key, value in messages:
            by_key[key].append(value)
        for key, values in by_key.items():
            half = len(values) // 2
            assert values[:half] == values[half:], (topic, key)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--sources", "erp,sap"], {}, "unknown source(s): sap"),
        (["--rate", "0"], {}, "--rate must be > 0"),
        (["--rate", "-5"], {}, "--rate must be > 0"),
        (["--defect-rate", "1.5"], {}, "--defect-rate must be between 0 and 1"),
        (["--events", "10"], {"ORION_KAFKA_BOOTSTRAP": "127.0.0.1:1"}, "did not answer"),
        (
            ["--events", "10"],
            {"ORION_SCHEMA_REGISTRY_URL": "http://127.0.0.1:1"},
            "schema registry at http://127.0.0.1:1 did not answer",
        ),
    ],
)
def test_bad_input_exits_quickly_with_a_message(
    topic_namespace: str, args: list[str], env: dict[str, str], message: str
) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "orionctl", "produce", *args],
        env={**os.environ, "ORION_TOPIC_PREFIX": topic_namespace, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30
