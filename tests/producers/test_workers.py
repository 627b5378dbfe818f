"""`orion produce --workers 2` against the real broker and registry, held against its ledger."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from orion.exceptions import NotWireFormatError
from orion.registry import Registry
from orion.serde import AvroDecoder
from orion.settings import OrionSettings
from producers.simulation import SimulationConfig, simulate
from producers.topics import SOURCES
from tests.producers.test_runner import produce, read_topics

pytestmark = pytest.mark.integration


def test_two_workers_send_exactly_the_ledgers_events_and_the_one_process_ledger(
    settings: OrionSettings, topic_namespace: str, tmp_path: Path
) -> None:
    ledger_path = tmp_path / "ledger.jsonl"
    result = produce(
        topic_namespace,
        *("--events", "3000", "--max-rate", "--seed", "11", "--workers", "2"),
        *("--ledger", str(ledger_path)),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "sent 3000, delivered 3000, retried 0, failed 0" in result.stdout

    # The ledger is the one-process ledger of the same seed, byte for byte.
    one_process = simulate(SimulationConfig(sources=SOURCES, seed=11, total_events=3000))
    lines = ledger_path.read_text().splitlines()
    assert lines == [ev.ledger.to_json() for ev in one_process]

    # Every ledger event is on its topic, under its key, once, in the ledger's order per key.
    expected: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rec in map(json.loads, lines):
        poison = rec["reason"] == "NOT_WIRE_FORMAT"
        expected[(rec["topic"], rec["key"])].append("<poison>" if poison else rec["event_id"])
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    wire = read_topics(settings, topic_namespace)
    with Registry(settings.schema_registry_url) as registry:
        decode = AvroDecoder(registry)
        for topic, messages in wire.items():
            for key, value in messages:
                try:
                    event_id = decode(value)[1]["event_id"]
                except NotWireFormatError:
                    event_id = "<poison>"
                seen[(topic, key.decode())].append(event_id)
    assert sum(len(v) for v in seen.values()) == 3000
    assert seen == expected
