"""A re-sent reject is a duplicate, not a second dead letter.

Replaying a window (from the bronze archive, say) re-sends rejected events
with their event ids: they must not be dead-lettered a second time. Bytes
that do not decode have no identity and come back as often as they are sent.
"""

from __future__ import annotations

import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Producer

from orion import deadletter
from orion.settings import OrionSettings
from orionctl.ops.ledger_score import read_layer
from tests.stream_processors.conftest import wait_until_done
from tests.stream_processors.test_against_ledger import Workers, produce

pytestmark = pytest.mark.integration
DECODE_REASONS = {b"NOT_WIRE_FORMAT", b"UNKNOWN_SCHEMA", b"UNDECODABLE"}


def _dead_letters(settings: OrionSettings, prefix: str) -> Counter[tuple[str, bool]]:
    """Dead letters per (topic, decodable)."""
    return Counter(
        (topic, headers[deadletter.REASON] not in DECODE_REASONS)
        for topic, _, _, headers in read_layer(settings, prefix, "dlq")
    )


def _rejected_duplicates(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        lines = r.read().decode().splitlines()
    wanted = [line for line in lines if line.startswith("orion_processor_duplicates_total{")]
    return sum(float(line.rsplit(" ", 1)[1]) for line in wanted if 'kind="rejected"' in line)


def test_resent_rejects_are_duplicates(
    settings: OrionSettings, topic_namespace: str, workers: Workers, tmp_path: Path
) -> None:
    # The run spans a year of event time; the default 7-day window counts from arrival,
    # so every re-send is within it however old its event.
    prefix = topic_namespace
    produce(prefix, tmp_path / "ledger.jsonl", seed=13, events=3_000)
    w = workers()
    wait_until_done(settings, prefix, [w])
    before = _dead_letters(settings, prefix)
    dlq = read_layer(settings, prefix, "dlq")
    assert sum(n for (_, ok), n in before.items() if ok) > 20, before

    resend = Producer({**settings.kafka_client_config(), "enable.idempotence": True})
    for _, key, value, headers in dlq:  # the original bytes, back to where they came from
        resend.produce(headers[deadletter.SOURCE_TOPIC].decode(), value, key,
                       partition=int(headers[deadletter.SOURCE_PARTITION]))  # fmt: skip
    assert resend.flush(30) == 0
    wait_until_done(settings, prefix, [w])
    after = _dead_letters(settings, prefix)
    for (topic, decodable), n in before.items():
        assert after[(topic, decodable)] == n * (1 if decodable else 2), (topic, decodable)
    resent = sum(n for (_, ok), n in before.items() if ok)
    assert _rejected_duplicates(w.port) == resent
