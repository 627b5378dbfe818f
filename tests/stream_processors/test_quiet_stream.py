"""A quiet stream decides its parked facts: a sale before its vehicle, an orphan, then nothing.

Found by an end-to-end check (issue #12): with the Faust engine both facts
stayed parked for ever once the stream went quiet, because the reference
index counted itself caught up only at the last offset + 1, and the last
offset of a transactional partition is a commit marker. Here the sale whose
vehicle comes two seconds later (inside the 5 s reference grace) must reach
clean, and the sale naming a dealer that never exists must be dead-lettered,
both within the grace plus a few seconds, with nothing produced after them.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from orion.registry import Registry
from orion.serde import AvroDecoder, AvroEncoder
from orion.settings import OrionSettings
from orion.vin import check_digit
from orionctl.ops.ledger_score import read_topics
from tests.stream_processors.conftest import Worker, wait_until_done
from tests.stream_processors.test_against_ledger import Workers, produce

pytestmark = pytest.mark.integration
GRACE_S = 5.0


def _first_valid(settings: OrionSettings, prefix: str, stem: str) -> tuple[int, dict[str, Any]]:
    """A raw record of ``stem`` that the worker published clean (schema id, decoded value)."""
    clean = {k for _, _, k, _, _ in read_topics(settings, [f"{prefix}clean.{stem}"])}
    with Registry(settings.schema_registry_url) as registry:
        decode = AvroDecoder(registry)
        for _, _, key, value, _ in read_topics(settings, [f"{prefix}raw.{stem}"]):
            if key in clean and value:
                return decode(value)
    raise AssertionError(f"no clean {stem} to copy")


def _new_vin(vin: str) -> str:
    body = vin[:11] + "987654"
    return body[:8] + check_digit(body) + body[9:]


def test_parked_facts_are_decided_in_a_quiet_stream(
    settings: OrionSettings, topic_namespace: str, workers: Workers, tmp_path: Path
) -> None:
    prefix = topic_namespace
    produce(prefix, tmp_path / "ledger.jsonl", seed=21, events=3_000)  # sales start after ~1,000
    w: Worker = workers()
    wait_until_done(settings, prefix, [w])
    vehicle_id, vehicle = _first_valid(settings, prefix, "erp.vehicles")
    sale_id, sale = _first_valid(settings, prefix, "erp.sales")
    with Registry(settings.schema_registry_url) as registry:
        encode_vehicle = AvroEncoder(vehicle_id, registry.parsed_schema(vehicle_id))
        encode_sale = AvroEncoder(sale_id, registry.parsed_schema(sale_id))
    vin = _new_vin(str(vehicle["vin"]))
    vehicle.update(vin=vin, event_id=str(uuid.uuid4()))
    waiting = {**sale, "event_id": str(uuid.uuid4()), "sale_id": f"{sale['sale_id']}-Q1",
               "vin": vin}  # fmt: skip
    orphan = {**sale, "event_id": str(uuid.uuid4()), "sale_id": f"{sale['sale_id']}-Q2",
              "dealer_id": "DLR-NEVER"}  # fmt: skip
    producer = Producer(settings.kafka_client_config())
    for rec in (waiting, orphan):
        producer.produce(f"{prefix}raw.erp.sales", encode_sale(rec), rec["sale_id"].encode())
    assert producer.flush(10) == 0
    time.sleep(2.0)  # the vehicle comes two seconds after the sale that names it
    producer.produce(f"{prefix}raw.erp.vehicles", encode_vehicle(vehicle), vin.encode())
    assert producer.flush(10) == 0
    sent = time.monotonic()

    deadline = sent + GRACE_S + 8
    clean_ids: set[bytes | None] = set()
    dead: dict[bytes | None, bytes] = {}
    while time.monotonic() < deadline:
        clean_ids = {k for _, _, k, _, _ in read_topics(settings, [f"{prefix}clean.erp.sales"])}
        dead = {k: h["orion.reason"] for _, _, k, _, h in
                read_topics(settings, [f"{prefix}dlq.erp.sales"])}  # fmt: skip
        if waiting["sale_id"].encode() in clean_ids and orphan["sale_id"].encode() in dead:
            break
        time.sleep(0.5)
    took = time.monotonic() - sent
    print(f"both decided {took:.1f}s after the last record")
    assert waiting["sale_id"].encode() in clean_ids, (
        "the sale before its vehicle never reached clean"
    )
    assert waiting["sale_id"].encode() not in dead, "the sale was rejected before its vehicle came"
    assert dead.get(orphan["sale_id"].encode()) == b"UNKNOWN_REFERENCE"
    assert w.metric("orion_processor_parked") == 0
