"""A seeded run through `orion process` and the dq sink, held against the producers' ledger.

One run: a seeded producer run (default defect mix) into its own namespace,
one real `orion process` worker, and an in-process dq sink counting while the
worker processes. Then: dq counts per entity and reason equal the ledger's
(events in, accepted = ACCEPT + REPAIR, repaired per rule = REPAIR per defect
kind, rejected per reason, duplicates = DUPLICATE), ``dq.dead_letters`` holds
exactly the DLQ topics' records (coordinates, key and value bytes), a full
replay of the sink changes nothing, and ``orion dq`` prints the same numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from confluent_kafka import Consumer, KafkaError, TopicPartition

from orion.catalog import entities
from orion.reasons import DefectKind, Outcome
from orion.settings import OrionSettings
from producers.ledger import read_ledger
from sinks.base import KafkaRecord
from sinks.dq.configuration import DqSinkConfig, dq_topics
from sinks.dq.consumer import DqSink
from tests.stream_processors.conftest import wait_until_done
from tests.stream_processors.conftest import workers as workers  # the fixture
from tests.stream_processors.test_against_ledger import Workers, produce
from tests.warehouse_sql.support import fresh_database, migrated, reaching

pytestmark = pytest.mark.integration

EVENTS = 15_000
SEED = 1818
#: The repair rule (orion.repairs) that undoes each repairable defect kind.
REPAIR_RULE = {
    DefectKind.CURRENCY_FORMAT: "currency_format",
    DefectKind.DATE_FORMAT: "date_format",
    DefectKind.VIN_FORMAT: "vin_format",
    DefectKind.GARBAGE_SUFFIX: "garbage_suffix",
}

Partition = tuple[str, int]


def read_committed(
    settings: OrionSettings, topics: list[str]
) -> dict[Partition, list[KafkaRecord]]:
    """Every committed record of ``topics`` with its offset, per partition, to each end."""
    consumer = Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": "dq-test-reader",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    out: dict[Partition, list[KafkaRecord]] = {}
    try:
        tps = [TopicPartition(t, p, 0) for t in topics
               for p in consumer.list_topics(t, timeout=10).topics[t].partitions]  # fmt: skip
        consumer.assign(tps)
        out = {(tp.topic, tp.partition): [] for tp in tps}
        eof: set[Partition] = set()
        deadline = time.monotonic() + 60
        while len(eof) < len(tps) and time.monotonic() < deadline:
            for m in consumer.consume(5000, timeout=0.5):
                err = m.error()
                if err is not None:
                    assert err.code() == KafkaError._PARTITION_EOF, str(err)
                    eof.add((m.topic() or "", m.partition() or 0))
                    continue
                out[(m.topic() or "", m.partition() or 0)].append(KafkaRecord.from_message(m))
        assert len(eof) == len(tps), "did not reach the end of every partition"
    finally:
        consumer.close()
    return out


def stored(dsn: str) -> dict[Partition, int]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT topic, partition, next_offset FROM metadata.sink_offsets "
                    "WHERE sink = 'dq'")  # fmt: skip
        rows = {(t, p): o for t, p, o in cur.fetchall()}
    conn.close()
    return rows


@dataclass
class SinkThread:
    stop: threading.Event
    thread: threading.Thread
    errors: list[BaseException]

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(60)
        assert not self.thread.is_alive() and not self.errors, self.errors


def start_sink(settings: OrionSettings, dsn: str, prefix: str) -> SinkThread:
    config = DqSinkConfig(topics=dq_topics(prefix), topic_prefix=prefix,
                          group=prefix + "orion-dq-sink", max_wait_s=0.5)  # fmt: skip
    sink = DqSink(reaching(settings, dsn), config)
    stop, errors = threading.Event(), []

    def body() -> None:
        try:
            sink.run(stop)
        except BaseException as e:  # surfaced by finish()
            errors.append(e)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return SinkThread(stop, thread, errors)


def wait_counted(dsn: str, want: dict[Partition, int], sink: SinkThread, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while stored(dsn) != want:
        assert sink.thread.is_alive(), sink.errors
        assert time.monotonic() < deadline, f"dq sink not caught up: {stored(dsn)} != {want}"
        time.sleep(0.25)


def dq_counts(dsn: str) -> Counter[tuple[str, str, str, str]]:
    """(system.entity, outcome, rule or reason) -> count, every hour together."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT system || '.' || entity, outcome, rule_or_reason, sum(count) "
                    "FROM dq.outcomes GROUP BY 1, 2, 3")  # fmt: skip
        out = Counter({(e, o, r, ""): int(n) for e, o, r, n in cur.fetchall()})
        cur.execute("SELECT system || '.' || entity, duplicates FROM dq.scorecard")
        for e, n in cur.fetchall():
            out[(e, "duplicates", "", "")] = int(n)
    conn.close()
    return Counter({k: n for k, n in out.items() if n != 0})  # negatives stay visible


def ledger_counts(ledger: Path) -> Counter[tuple[str, str, str, str]]:
    """The same keys from the ground truth."""
    want: Counter[tuple[str, str, str, str]] = Counter()
    for rec in read_ledger(ledger):
        e = rec.topic.removeprefix("raw.")
        want[(e, "in", "", "")] += 1
        if rec.outcome in (Outcome.ACCEPT, Outcome.REPAIR):
            want[(e, "accepted", "", "")] += 1
        if rec.outcome is Outcome.REPAIR:
            want[(e, "repaired", "", "")] += 1
            for d in rec.defects:
                want[(e, "repair", REPAIR_RULE[d], "")] += 1
        elif rec.outcome is Outcome.REJECT:
            assert rec.reason is not None
            want[(e, "rejected", rec.reason.value, "")] += 1
        elif rec.outcome is Outcome.DUPLICATE:
            want[(e, "duplicates", "", "")] += 1
    return want


def dead_letter_rows(dsn: str) -> dict[tuple[str, int, int], tuple[Any, ...]]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute('SELECT topic, partition, "offset", key, payload, reason, source_topic, '
                    "source_partition, source_offset FROM dq.dead_letters")  # fmt: skip
        rows = {
            (t, p, o): (_bytes(k), _bytes(v), r, st, sp, so)
            for t, p, o, k, v, r, st, sp, so in cur.fetchall()
        }
    conn.close()
    return rows


def _bytes(v: Any) -> bytes | None:
    return None if v is None else bytes(v)


@pytest.fixture
def dq_db(settings: OrionSettings) -> Iterator[str]:
    with fresh_database(settings, "dq_test_") as dsn:
        yield migrated(dsn)


def test_dq_counts_and_dead_letters_equal_the_ledger(
    settings: OrionSettings, topic_namespace: str, workers: Workers, dq_db: str, tmp_path: Path
) -> None:
    prefix = topic_namespace
    started = time.monotonic()
    ledger = tmp_path / "ledger.jsonl"
    produce(prefix, ledger, seed=SEED, events=EVENTS)
    sink = start_sink(settings, dq_db, prefix)  # counts while the worker processes
    took = wait_until_done(settings, prefix, [workers()])
    layers = {
        layer: [prefix + e.topic(layer) for e in entities()] for layer in ("raw", "clean", "dlq")
    }
    records = read_committed(settings, [t for ts in layers.values() for t in ts])
    # the next offset the sink stores: after the last record it read (a commit marker may follow)
    want = {tp: rs[-1].offset + 1 for tp, rs in records.items() if rs}
    wait_counted(dq_db, want, sink, 60)
    sink.finish()
    counted = time.monotonic() - started

    got, expected = dq_counts(dq_db), ledger_counts(ledger)
    assert got == expected, {k: (got[k], expected[k]) for k in got.keys() | expected.keys()
                             if got[k] != expected[k]}  # fmt: skip

    letters = {(r.topic, r.partition, r.offset): r for t in layers["dlq"]
               for (topic, _p), rs in records.items() if topic == t for r in rs}  # fmt: skip
    rows = dead_letter_rows(dq_db)
    assert rows.keys() == letters.keys()
    for coords, r in letters.items():
        headers = {k: (v or b"").decode() for k, v in r.headers}
        assert rows[coords] == (r.key, r.value, headers["orion.reason"],
                                headers["orion.source.topic"],
                                int(headers["orion.source.partition"]),
                                int(headers["orion.source.offset"])), coords  # fmt: skip

    # A full replay (the sink's offsets deleted) re-reads everything and counts nothing twice.
    with psycopg2.connect(dq_db) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM metadata.sink_offsets WHERE sink = 'dq'")
    conn.close()
    again = start_sink(settings, dq_db, prefix)
    wait_counted(dq_db, want, again, 60)
    again.finish()
    assert dq_counts(dq_db) == got
    assert dead_letter_rows(dq_db) == rows

    # `orion dq`, through its own entry point, prints the same numbers.
    env = {**os.environ, "ORION_DATABASE_URL": dq_db}
    result = subprocess.run([sys.executable, "-m", "orionctl", "dq", "--since", "2d", "--format",
                             "json"], env=env, capture_output=True, text=True, timeout=60,
                            check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    by_entity = {row["name"]: row for row in json.loads(result.stdout)["rows"]}
    assert by_entity.keys() == {e for (e, _o, _r, _) in expected}
    for e, row in by_entity.items():
        for outcome in ("in", "accepted", "repaired", "duplicates"):
            assert (
                row["events_in" if outcome == "in" else outcome] == expected[(e, outcome, "", "")]
            )
        rejects = sum(n for (x, o, _r, _), n in expected.items() if x == e and o == "rejected")
        assert row["rejected"] == rejects, e
        pct = (Decimal(100 * rejects) / row["events_in"]).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert Decimal(str(row["reject_pct"])) == pct, e
    result = subprocess.run([sys.executable, "-m", "orionctl", "dq", "--by", "rule", "--format",
                             "json"], env=env, capture_output=True, text=True, timeout=60,
                            check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    by_rule = {(row["outcome"], row["rule_or_reason"]): row["records"]
               for row in json.loads(result.stdout)["rows"]}  # fmt: skip
    want_rule: Counter[tuple[str, str]] = Counter()
    for (_e, outcome, rule, _), n in expected.items():
        if outcome in ("repair", "rejected"):
            want_rule[(outcome, rule)] += n
    assert by_rule == want_rule
    totals: Counter[str] = Counter()
    for (_e, outcome, _r, _), n in expected.items():
        totals[outcome] += n
    print(f"dq: {EVENTS} events processed in {took:.1f}s, counted and checked in {counted:.1f}s;"
          f" {dict(totals)}, {len(rows)} dead letters")  # fmt: skip
