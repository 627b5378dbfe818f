"""`orion replay dlq` after the missing master arrived: the processor judges the facts again.

Sales whose customer never came are dead-lettered UNKNOWN_REFERENCE. When the
customer arrives later, an operator re-feeds those dead letters; they carry
``orion.replayed.from``, so the processor judges them again (not as re-sends of
a reject) and now publishes each exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from itertools import islice

import pytest
from confluent_kafka import Producer

from orion import deadletter
from orion.registry import Registry
from orion.settings import OrionSettings
from orionctl.ops.ledger_score import read_layer
from producers.config import SimulationConfig
from producers.events import SimEvent
from producers.runner import build_encoders
from producers.simulation import simulate
from tests.stream_processors.conftest import wait_until_done
from tests.stream_processors.test_against_ledger import Workers

pytestmark = pytest.mark.integration


def _send(settings: OrionSettings, prefix: str, events: list[SimEvent]) -> None:
    with Registry(settings.schema_registry_url) as registry:
        encoders = build_encoders(registry, prefix)
    producer = Producer({**settings.kafka_client_config(), "enable.idempotence": True})
    for e in events:
        producer.produce(prefix + e.topic, encoders[e.topic](e.value or {}), e.key.encode())
    assert producer.flush(30) == 0


def _unknown_reference_sales(settings: OrionSettings, prefix: str) -> Counter[bytes]:
    return Counter(
        key or b""
        for topic, key, _, headers in read_layer(settings, prefix, "dlq")
        if topic == "dlq.erp.sales" and headers[deadletter.REASON] == b"UNKNOWN_REFERENCE"
    )


def test_replayed_dead_letters_are_published_once_their_master_came(
    settings: OrionSettings, topic_namespace: str, workers: Workers
) -> None:
    prefix = topic_namespace
    config = SimulationConfig(sources=frozenset({"erp", "crm"}), seed=21, defect_rate=0.0)
    events = list(islice(simulate(config), 12_000))
    sales_of: dict[str, list[str]] = {}
    for e in events:
        if e.topic == "raw.erp.sales" and e.value is not None:
            sales_of.setdefault(str(e.value["customer_id"]), []).append(e.key)
    customer = max(sales_of, key=lambda c: len(sales_of[c]))  # the one who bought most
    orphaned = sorted(k.encode() for k in sales_of[customer])
    held_back = [e for e in events if e.topic == "raw.crm.customers" and e.key == customer]
    assert held_back and len(orphaned) >= 2
    _send(settings, prefix, [e for e in events if e not in held_back])
    w = workers(env={"ORION_PROCESSOR_REFERENCE_GRACE": "1s"})
    wait_until_done(settings, prefix, [w])
    assert sorted(_unknown_reference_sales(settings, prefix)) == orphaned

    _send(settings, prefix, held_back)  # the master comes at last
    wait_until_done(settings, prefix, [w])
    replay = subprocess.run(
        [sys.executable, "-m", "orionctl", "replay", "dlq", "--topic", "dlq.erp.sales",
         "--reason", "UNKNOWN_REFERENCE", "--execute"],
        env={**os.environ, "ORION_TOPIC_PREFIX": prefix},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr[-2000:]
    assert f"re-published {len(orphaned)}" in replay.stdout
    wait_until_done(settings, prefix, [w])

    clean = Counter(key for topic, key, _, _ in read_layer(settings, prefix, "clean")
                    if topic == "clean.erp.sales")  # fmt: skip
    assert {k: clean[k] for k in orphaned} == dict.fromkeys(orphaned, 1)
    sold = {k.encode() for keys in sales_of.values() for k in keys}
    assert set(clean) == sold  # every sale published, none twice
    assert all(n == 1 for n in clean.values())
    assert sorted(_unknown_reference_sales(settings, prefix)) == orphaned  # no new dead letters
