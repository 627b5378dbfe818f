"""Hostile input through a real worker and the real warehouse: nothing crashes, stalls or is lost.

A few hundred raw records go to real raw topics (this test's prefix): valid
simulator events, most of them with hostile values put in
(:mod:`tests.stream_processors.hostile`), garbage bytes, and records near
the broker's size limit. One real ``orion process`` worker must read them
all (its group commits every raw partition to the end, nothing left parked),
each raw record must come out exactly once, on clean or on the DLQ (counted
by the source coordinates every output carries), every dead letter with a
reason of :class:`orion.reasons.Reason` and small enough to produce. Then the
real warehouse loader loads the clean topics into a fresh database with no
record refused (``metadata.rejected_records`` empty) and the rows read back
equal what was clean, per entity. The counts are printed.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from confluent_kafka import KafkaError, Message, Producer

from orion import deadletter
from orion.catalog import entities, entity, load_schema_text, subject
from orion.reasons import Reason
from orion.registry import Registry
from orion.serde import AvroDecoder
from orion.settings import OrionSettings
from orionctl.ops.ledger_score import read_topics
from sinks.warehouse.configuration import WarehouseSinkConfig
from sinks.warehouse.tables import DIMENSIONS, FACTS
from stream_processors.record_size import MAX_RECORD_BYTES, wire_size
from tests.sinks.warehouse.kafka_support import end_offsets, loader_thread, wait_loaded
from tests.stream_processors.conftest import Worker, wait_until_done
from tests.stream_processors.hostile import base_events, encode, seeded_record
from tests.warehouse_sql.support import fresh_database, migrated

pytestmark = pytest.mark.integration
BROKER_LIMIT = 1_048_588  # the broker's message.max.bytes default: the largest record batch
PER_STEM = 14
SEED = 1515
Coordinates = tuple[str, int, int]


def _records(
    raw_ids: dict[str, int], rng: random.Random
) -> list[tuple[str, bytes | None, bytes | None]]:
    """(raw topic stem, key, value): masters first, so hostile facts can still go clean."""
    out: list[tuple[str, bytes | None, bytes | None]] = []
    bases = base_events(PER_STEM, seed=SEED)
    order = [e.stem for e in sorted(entities(), key=lambda e: (not e.master, e.stem))]
    for stem in order:
        master = entity(stem).master or stem == "erp.sales"  # referred to: spoil fewer
        for i, (key, base) in enumerate(bases[stem]):
            hostile = i % 3 == 0 if master else i % 3 != 0
            record = seeded_record(rng, base, stem) if hostile else base
            out.append((stem, key.encode(), encode(raw_ids[stem], stem, record)))
    dealer_key, dealer = bases["erp.dealers"][1]
    big = {**dealer, "event_id": str(uuid.uuid4())}
    sid = raw_ids["erp.dealers"]
    dkey = dealer_key.encode()
    for street in (900_000, 990_000, BROKER_LIMIT - 1_000):  # fits; no headroom; at the limit
        value = encode(sid, "erp.dealers", {**big, "street": "s" * street})
        out.append(("erp.dealers", dkey, value))
    out.append(  # an id so long that the clean record (it is key and field) would not fit
        ("erp.dealers", b"D-LONG", encode(sid, "erp.dealers", {**big, "dealer_id": "D" * 950_000}))
    )
    for i in range(30):  # bytes that are no record
        stem = order[i % len(order)]
        value = rng.randbytes(rng.randrange(40))
        if i % 3 == 1:
            value = b"\x00" + (10**6 + i).to_bytes(4, "big") + value  # unknown schema id
        out.append((stem, None if i % 2 else b"k", value if i % 5 else None))
    return out


def _produce(
    settings: OrionSettings, prefix: str, records: list[tuple[str, bytes | None, bytes | None]]
) -> dict[Coordinates, str]:
    """Produce them; the raw coordinates of each, with its stem."""
    producer = Producer({**settings.kafka_client_config(), "enable.idempotence": True,
                         "message.max.bytes": BROKER_LIMIT, "linger.ms": 5})  # fmt: skip
    sent: dict[Coordinates, str] = {}
    failures: list[KafkaError] = []

    def delivered(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            failures.append(err)
        else:
            sent[(msg.topic() or "", msg.partition() or 0, msg.offset() or 0)] = msg.topic() or ""

    for stem, key, value in records:
        producer.produce(f"{prefix}raw.{stem}", value, key, on_delivery=delivered)
        producer.poll(0)
    assert producer.flush(30) == 0
    assert not failures, failures[:3]
    return {c: t.removeprefix(prefix + "raw.") for c, t in sent.items()}


def _warehouse_rows(dsn: str, stem: str) -> int:
    """Rows the loader holds for ``stem``: one per fact key or SCD1 dimension member, one
    change-log row per SCD2 version."""
    dim = next((d for d in DIMENSIONS.values() if d.stem == stem), None)
    if dim is None:
        query = f"SELECT count(*) FROM warehouse.{FACTS[stem].table}"
    elif dim.scd == 1:
        query = f"SELECT count(*) FROM warehouse.{dim.table} WHERE NOT is_inferred"
    else:
        query = f"SELECT count(DISTINCT event_id) FROM warehouse.{dim.changes}"
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query)
        (n,) = cur.fetchone() or (0,)
    conn.close()
    return int(n)


def test_hostile_records_end_clean_or_dead_lettered_once_and_clean_ones_load(
    settings: OrionSettings, topic_namespace: str, workers: Any, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    prefix = topic_namespace
    started = time.monotonic()
    with Registry(settings.schema_registry_url) as registry:
        raw_ids = {e.stem: registry.register(subject(prefix + e.topic("raw")),
                                             load_schema_text(e.schema_path("raw")))
                   for e in entities()}  # fmt: skip
        rng = random.Random(SEED)  # noqa: S311 - a fixed set of records, not secrets
        sent = _produce(settings, prefix, _records(raw_ids, rng))
        w: Worker = workers(env={"ORION_PROCESSOR_REFERENCE_GRACE": "1s"})  # orphans sooner
        wait_until_done(settings, prefix, [w], timeout_s=120)  # alive, at the end, none parked
        processed_s = time.monotonic() - started

        topics = [prefix + e.topic(layer) for e in entities() for layer in ("clean", "dlq")]
        outputs: Counter[Coordinates] = Counter()
        reasons: Counter[str] = Counter()
        keys: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        clean: Counter[str] = Counter()
        decode = AvroDecoder(registry)
        for topic, _, key, value, headers in read_topics(settings, topics):
            source = (headers[deadletter.SOURCE_TOPIC].decode(),
                      int(headers[deadletter.SOURCE_PARTITION]),
                      int(headers[deadletter.SOURCE_OFFSET]))  # fmt: skip
            outputs[source] += 1
            assert wire_size(key, value, list(headers.items())) <= MAX_RECORD_BYTES
            stem = topic.removeprefix(prefix).partition(".")[2]
            if topic.startswith(prefix + "dlq."):
                reason = headers[deadletter.REASON].decode()
                assert reason in Reason.__members__, f"{reason!r} is no Reason"
                reasons[reason] += 1
            else:
                assert value is not None
                _, record = decode(value)
                keys[stem].add(tuple(record[k] for k in entity(stem).business_key))
                clean[stem] += 1

    assert set(outputs) == set(sent), "a raw record has no clean or dead-letter output"
    assert [c for c, n in outputs.items() if n != 1] == [], "a raw record came out twice"
    assert reasons[Reason.RECORD_TOO_LARGE] == 3  # 990 KB, 1 MiB, and the 950 KB id twice over
    assert clean["erp.dealers"] > 0 and sum(clean.values()) > len(sent) // 4

    with fresh_database(settings) as raw_dsn:
        dsn = migrated(raw_dsn)
        clean_topics = [prefix + e.topic("clean") for e in entities()]
        config = WarehouseSinkConfig(topics=tuple(clean_topics), topic_prefix=prefix,
                                     group=f"g-{uuid.uuid4().hex[:8]}", max_wait_s=0.5)  # fmt: skip
        stop, thread, errors = loader_thread(settings, dsn, config)
        try:
            # The processor writes in transactions: each partition ends with a commit
            # marker, one past the last record the loader stores the next offset of.
            last = {tp: high - 1 for tp, high in end_offsets(settings, clean_topics).items()}
            wait_loaded(dsn, last, 60, thread.is_alive)
        finally:
            stop.set()
            thread.join(30)
        assert not errors, errors
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT topic, reason, left(detail, 300) FROM metadata.rejected_records")
            refused = cur.fetchall()
        conn.close()
        assert refused == [], f"the warehouse refused clean records: {refused[:5]}"
        rows = {stem: _warehouse_rows(dsn, stem) for stem in clean}
    want = {stem: len(keys[stem]) for stem in clean}
    scd2 = [d.stem for d in DIMENSIONS.values() if d.scd == 2 and d.stem in clean]
    want.update({stem: clean[stem] for stem in scd2})
    took = time.monotonic() - started
    dead = ", ".join(f"{r} {n}" for r, n in sorted(reasons.items()))
    with capsys.disabled():
        print(f"\nfuzz hostile: {len(sent)} raw records tried, {sum(clean.values())} clean,"
              f" {sum(reasons.values())} dead-lettered ({dead}); processed in {processed_s:.1f}s,"
              f" {took:.1f}s with the load; warehouse rows {sum(rows.values())}")  # fmt: skip
    assert rows == want
