"""The dedup window counts from when an event arrived, not from its event time.

Found by the chaos drill (2026-12-02): an opening stock snapshot (event time
the 1st of the month) was re-sent as a business duplicate seconds after the
original, but by then the entity's newest event was six weeks later in event
time, the original's key had expired, and the copy reached clean. Here a real
worker reads, on partition 0: an event, an event of the same entity 30 days
later in event time, a filler (its batch, more than a second on, runs the
expiry pass), then the first event again under a new event id. The copy must
be dropped. On partition 1 the first event's record is stamped 10 days ago
(the Kafka timestamp a producer sets): past the 7-day window, its copy is new.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from confluent_kafka import Producer

from orion.catalog import entity, load_schema_text, subject
from orion.registry import Registry
from orion.settings import OrionSettings
from orionctl.ops.ledger_score import read_topics
from tests.stream_processors.conftest import wait_until_done
from tests.stream_processors.hostile import base_events, encode
from tests.stream_processors.test_against_ledger import Workers

pytestmark = pytest.mark.integration
STEM = "erp.dealers"
DAY_MS = 86_400_000


def _later(record: dict[str, Any], days: int) -> dict[str, Any]:
    shift = days * DAY_MS
    return {**record, "event_id": str(uuid.uuid4()), "event_time": record["event_time"] + shift,
            "produced_at": record["produced_at"] + shift,
            "updated_at": record["updated_at"] + shift}  # fmt: skip


def test_a_business_duplicate_is_dropped_however_old_its_event(
    settings: OrionSettings, topic_namespace: str, workers: Workers
) -> None:
    prefix = topic_namespace
    raw, clean = prefix + "raw." + STEM, prefix + "clean." + STEM
    with Registry(settings.schema_registry_url) as registry:
        sid = registry.register(subject(raw), load_schema_text(entity(STEM).schema_path("raw")))
    dealers = base_events(6, seed=21)[STEM]
    producer = Producer({**settings.kafka_client_config(), "enable.idempotence": True})
    now_ms = int(time.time() * 1000)

    def send(p: int, n: int, record: dict[str, Any] | None = None, ts: int = 0) -> None:
        key, base = dealers[n]  # ts 0: the producer stamps it now
        producer.produce(raw, encode(sid, STEM, record or base), key.encode(), partition=p,
                         timestamp=ts)  # fmt: skip
        assert producer.flush(30) == 0

    # Dealers 0-2 on partition 0, 3-5 on partition 1: first, 30 days later, filler.
    send(0, 0)
    send(1, 3, ts=now_ms - 10 * DAY_MS)
    for p in (0, 1):
        send(p, 3 * p + 1, _later(dealers[3 * p + 1][1], 30))
    w = workers()
    wait_until_done(settings, prefix, [w])
    time.sleep(1.5)  # the next batch runs the expiry pass
    for p in (0, 1):
        send(p, 3 * p + 2)
    wait_until_done(settings, prefix, [w])
    copies = {p: {**dealers[3 * p][1], "event_id": str(uuid.uuid4())} for p in (0, 1)}
    for p in (0, 1):
        send(p, 3 * p, copies[p])  # a business duplicate of the first
    wait_until_done(settings, prefix, [w])

    out = read_topics(settings, [clean])
    values = {p: [v or b"" for _, q, _, v, _ in out if q == p] for p in (0, 1)}
    assert len(values[0]) == 3, "the copy of an event that arrived seconds ago was published"
    assert not any(copies[0]["event_id"].encode() in v for v in values[0])
    assert len(values[1]) == 4, "a copy 10 days after its original is a new event"
    assert sum(copies[1]["event_id"].encode() in v for v in values[1]) == 1
