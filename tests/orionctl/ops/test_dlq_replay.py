"""`orion replay dlq` re-publishes matching dead letters to their raw topics, once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from orion import deadletter
from orion.settings import OrionSettings

pytestmark = pytest.mark.integration


def _dead_letter(topic: str, reason: str, offset: int) -> list[tuple[str, str | bytes | None]]:
    return [
        (deadletter.REASON, reason.encode()),
        (deadletter.SOURCE_TOPIC, topic.encode()),
        (deadletter.SOURCE_PARTITION, b"0"),
        (deadletter.SOURCE_OFFSET, str(offset).encode()),
    ]


def _read_all(
    settings: OrionSettings, topic: str
) -> list[tuple[bytes, bytes, dict[str, str | bytes | None]]]:
    consumer = Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": topic + ".chk",
            "enable.auto.commit": False,
        }
    )
    out: list[tuple[bytes, bytes, dict[str, str | bytes | None]]] = []
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        tps = []
        for p in parts:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                tps.append((TopicPartition(topic, p, low), high - low))
        consumer.assign([tp for tp, _ in tps])
        want = sum(n for _, n in tps)
        deadline = time.monotonic() + 30
        while len(out) < want and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=1.0):
                if msg.error() is None:
                    key, value = msg.key(), msg.value()
                    assert key is not None and value is not None
                    out.append((key, value, dict(msg.headers() or [])))
    finally:
        consumer.close()
    return out


def test_replay_counts_then_re_publishes_only_the_reason_and_only_once(
    settings: OrionSettings, topic_namespace: str
) -> None:
    raw, dlq = topic_namespace + "raw.erp.sales", topic_namespace + "dlq.erp.sales"
    producer = Producer(settings.kafka_client_config())
    for i in range(30):
        reason = "INVALID_VIN" if i % 3 == 0 else "INVALID_EMAIL"
        producer.produce(
            dlq,
            key=f"SAL-{i}".encode(),
            value=b"\x00bytes-" + bytes([i]),
            headers=_dead_letter(raw, reason, i),
            partition=i % 3,
        )
    assert producer.flush(30) == 0
    env = {**os.environ, "ORION_TOPIC_PREFIX": topic_namespace}

    def replay(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "orionctl", "replay", "dlq", "--topic", "dlq.erp.sales", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    counted = replay("--reason", "INVALID_VIN")
    assert counted.returncode == 0, counted.stderr
    assert "read 30, matched 10, re-published 0" in counted.stdout
    assert _read_all(settings, raw) == []

    sent = replay("--reason", "INVALID_VIN", "--execute")
    assert sent.returncode == 0, sent.stderr
    assert "matched 10, re-published 10" in sent.stdout
    replayed = _read_all(settings, raw)
    assert sorted(k for k, _, _ in replayed) == sorted(f"SAL-{i}".encode() for i in range(0, 30, 3))
    for key, value, headers in replayed:
        i = int(key.decode().split("-")[1])
        assert value == b"\x00bytes-" + bytes([i])
        replayed_from = headers[deadletter.REPLAYED_FROM]
        assert isinstance(replayed_from, bytes) and replayed_from.startswith(dlq.encode())

    again = replay("--reason", "INVALID_VIN", "--execute")
    assert again.returncode == 0 and "read 0, matched 0, re-published 0" in again.stdout
    other = replay("--reason", "INVALID_EMAIL")
    assert "matched 20" in other.stdout  # a replay of one reason never skips another's
    missing = replay("--topic", "dlq.nothing.here")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
