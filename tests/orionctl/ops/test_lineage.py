"""`orion lineage` over a seeded run through the real pipeline pieces.

A simulator run (default defect mix) is produced to raw topics, archived by
the bronze sink, processed by a real `orion process` worker and loaded by the
warehouse loader. Then, for a sample of 200 warehouse rows (dimension
versions and facts), the lineage lookup must lead to a clean record that
decodes to the row's values, a raw record of the same event, and a bronze
object holding that raw record byte for byte; and for a sample of dead
letters, `--event-id` must lead to the dead letter and its reason.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from confluent_kafka import Consumer, KafkaError, TopicPartition

from orion import deadletter
from orion.catalog import entities
from orion.reasons import Outcome
from orion.registry import Registry
from orion.serde import AvroDecoder
from orion.settings import OrionSettings
from orionctl.ops.ledger_score import read_topics
from orionctl.ops.lineage import LineageTracer
from producers.ledger import read_ledger
from sinks.base import BatchLimits, RunnerOptions
from sinks.s3 import S3SinkConfig, run_s3_sink
from sinks.warehouse.configuration import WarehouseSinkConfig, clean_topics
from sinks.warehouse.lineage import WarehouseRow, rows_by_key, table_spec, tables
from sinks.warehouse.tables import LINEAGE, DimSpec, FactSpec
from tests.sinks.conftest import committed, end_offsets, run_in_thread
from tests.sinks.warehouse.kafka_support import loader_thread, stored_offsets
from tests.stream_processors.conftest import wait_until_done, workers  # noqa: F401 - a fixture
from tests.stream_processors.test_against_ledger import Workers, produce
from tests.warehouse_sql.support import fresh_database, migrated

pytestmark = pytest.mark.integration

EVENTS = 6000
SEED = 1818
ROWS = 200
DEAD_LETTERS = 12


@dataclass
class Run:
    settings: OrionSettings  # with the run's bucket and topic prefix
    dsn: str
    prefix: str
    ledger: Path


def _committed_ends(settings: OrionSettings, topics: list[str]) -> dict[tuple[str, int], int]:
    """Last committed record + 1 per partition (transactional topics end in a marker)."""
    consumer = Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": "unused-lineage-ends",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    out: dict[tuple[str, int], int] = {}
    try:
        tps = [
            TopicPartition(t, p, 0)
            for t in topics
            for p in consumer.list_topics(t, timeout=10).topics[t].partitions
        ]
        consumer.assign(tps)
        eof: set[tuple[str, int]] = set()
        deadline = time.monotonic() + 60
        while len(eof) < len(tps) and time.monotonic() < deadline:
            for m in consumer.consume(5000, timeout=1.0):
                key = (m.topic() or "", m.partition() or 0)
                err = m.error()
                if err is not None:
                    assert err.code() == KafkaError._PARTITION_EOF, err
                    eof.add(key)
                    continue
                out[key] = int(m.offset() or 0) + 1
        assert len(eof) == len(tps)
    finally:
        consumer.close()
    return out


@pytest.fixture
def run(
    settings: OrionSettings,
    topic_namespace: str,
    workers: Workers,  # noqa: F811 - the fixture imported above
    s3_bucket: Any,
    tmp_path: Path,
) -> Iterator[Run]:
    prefix = topic_namespace
    s = settings.model_copy(update={"s3_bucket": s3_bucket(), "topic_prefix": prefix})
    t0 = time.monotonic()
    produce(prefix, tmp_path / "ledger.jsonl", seed=SEED, events=EVENTS)
    print(f"produced in {time.monotonic() - t0:.1f}s")
    raw = [prefix + e.topic("raw") for e in entities()]
    bronze_group = f"{prefix}bronze-{uuid.uuid4().hex[:6]}"
    bronze_config = S3SinkConfig(
        topics=tuple(raw), group=bronze_group, limits=BatchLimits(max_records=500, max_age_s=0.5)
    )
    fast = RunnerOptions(poll_timeout_s=0.1, lag_interval_s=0.5)
    stop_bronze, bronze = run_in_thread(
        lambda stop: run_s3_sink(s, bronze_config, stop, runner_options=fast)
    )
    w = workers(env={"ORION_PROCESSOR_REFERENCE_GRACE": "1s"})
    with fresh_database(settings, "wh_lineage_") as dsn:
        migrated(dsn)
        try:
            wait_until_done(s, prefix, [w], timeout_s=120)
            print(f"processed at {time.monotonic() - t0:.1f}s")
            _wait_archived(s, bronze_group, raw, bronze.thread.is_alive)
            print(f"archived at {time.monotonic() - t0:.1f}s")
            clean = list(clean_topics(prefix))
            ends = _committed_ends(s, clean)
            config = WarehouseSinkConfig(
                topics=tuple(clean),
                topic_prefix=prefix,
                group=f"{prefix}wh-{uuid.uuid4().hex[:6]}",
                max_records=5000,
                max_wait_s=0.3,
            )
            stop_loader, loader, errors = loader_thread(s, dsn, config)
            deadline = time.monotonic() + 60
            while not all(stored_offsets(dsn).get(k, 0) >= v for k, v in ends.items()):
                assert loader.is_alive() and not errors, errors
                assert time.monotonic() < deadline, "the loader did not load every clean record"
                time.sleep(0.25)
            stop_loader.set()
            loader.join(60)
            assert not errors, errors
            print(f"loaded at {time.monotonic() - t0:.1f}s")
            yield Run(s, dsn, prefix, tmp_path / "ledger.jsonl")
        finally:
            stop_bronze.set()
            bronze.thread.join(60)
    assert bronze.error is None, bronze.error


def _wait_archived(
    settings: OrionSettings, group: str, topics: list[str], alive: Callable[[], bool]
) -> None:
    """Until the bronze sink committed the end of every raw partition that has records."""
    deadline = time.monotonic() + 60
    for topic in topics:
        ends = {p: o for p, o in end_offsets(settings, topic).items() if o > 0}
        while any(committed(settings, group, topic, 3).get(p, -1) < o for p, o in ends.items()):
            assert alive(), "the bronze sink stopped"
            assert time.monotonic() < deadline, f"{topic} not archived in 60 s"
            time.sleep(0.25)


def _sample(dsn: str) -> list[tuple[DimSpec | FactSpec, WarehouseRow]]:
    """200 rows: every SCD2 version of the keys picked; a few keys of every table, the rest
    at random."""
    rng = random.Random(SEED)  # noqa: S311 - a sample, not cryptography
    conn = psycopg2.connect(dsn)
    try:
        order: list[tuple[DimSpec | FactSpec, tuple[str, ...]]] = []
        rest: list[tuple[DimSpec | FactSpec, tuple[str, ...]]] = []
        for spec in tables().values():
            names = (spec.key,) if isinstance(spec, DimSpec) else spec.natural_key
            where = "WHERE NOT is_inferred" if isinstance(spec, DimSpec) else ""
            with conn.cursor() as cur:
                cur.execute(
                    f"SELECT DISTINCT {', '.join(names)} FROM warehouse.{spec.table} {where}"
                )
                found = [(spec, tuple(str(v) for v in r)) for r in cur.fetchall()]
            conn.rollback()
            rng.shuffle(found)
            order += found[:3]
            rest += found[3:]
        rng.shuffle(rest)
        order += rest
        rows: list[tuple[DimSpec | FactSpec, WarehouseRow]] = []
        for spec, key in order:
            rows += [(spec, r) for r in rows_by_key(conn, spec, list(key))]
            if len(rows) >= ROWS:
                break
    finally:
        conn.close()
    return rows[:ROWS]


def _norm(v: Any) -> Any:
    if isinstance(v, float):
        return Decimal(repr(v))
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC)
    return v


def test_rows_and_dead_letters_lead_back_to_their_raw_and_bronze_records(run: Run) -> None:
    """One seeded run (a module-scoped one cannot use the per-test namespace fixtures) holds
    every check: the sampled chains, the dead letters, the columns, the CLI."""
    check_rows_and_dead_letters(run)
    check_duplicates_are_named(run)
    t0 = time.monotonic()
    check_every_warehouse_table_has_the_lineage_columns(run)
    check_the_cli_prints_the_chain(run)
    print(f"columns and CLI in {time.monotonic() - t0:.1f}s")


def check_rows_and_dead_letters(run: Run) -> None:
    started = time.monotonic()
    sample = _sample(run.dsn)
    print(f"sampled in {time.monotonic() - started:.1f}s")
    assert len(sample) == ROWS
    kinds = {isinstance(spec, DimSpec) for spec, _ in sample}
    assert kinds == {True, False}, "the sample holds dimension versions and facts"
    with LineageTracer(run.settings) as tracer:
        for spec, row in sample:
            chain = tracer.trace(row)
            where = (row.table, row.key)
            assert row.event_id and chain.clean is not None and chain.clean.decoded, where
            clean = chain.clean.decoded
            assert clean["event_id"] == row.event_id, where
            shown = set(spec.attributes if isinstance(spec, DimSpec) else spec.business)
            for name in sorted(shown):
                assert _norm(row.values[name]) == _norm(clean[name]), (where, name)
            if isinstance(spec, DimSpec) and spec.scd == 2:
                assert row.values["valid_from"] == clean["updated_at"], where
            assert chain.raw is not None and chain.raw.record is not None, (where, chain.notes)
            assert chain.raw.event_id == row.event_id, where
            assert chain.raw.topic == row.coordinates.raw_topic == run.prefix + "raw." + spec.stem
            assert chain.bronze is not None, (where, chain.notes)
            assert chain.bronze.identical is True, where
            assert chain.bronze.record.value == chain.raw.record.value, where
            assert chain.bronze.key.startswith(f"bronze/{chain.raw.topic}/dt="), where
        rows_took = time.monotonic() - started

        dlq = [
            rec
            for rec in read_topics(run.settings, [run.prefix + e.topic("dlq") for e in entities()])
            if rec[3]
        ]
        in_warehouse = _warehouse_event_ids(run.dsn)
        with Registry(run.settings.schema_registry_url) as registry:
            decode = AvroDecoder(registry)
            letters = []
            for topic, _p, _k, value, headers in dlq:
                assert value is not None
                try:
                    eid = decode(value)[1]["event_id"]
                except Exception:  # noqa: S112 - poison values carry no event id
                    continue
                if eid not in in_warehouse:
                    letters.append((topic, eid, value, headers))
        assert len(letters) >= DEAD_LETTERS, f"only {len(letters)} decodable dead letters"
        conn = psycopg2.connect(run.dsn)
        try:
            for topic, eid, value, headers in random.Random(SEED).sample(letters, DEAD_LETTERS):  # noqa: S311
                found = tracer.of_event(conn, eid)
                assert found.verdict.startswith("rejected"), (eid, found.verdict)
                assert not found.chains
                [d] = [d for d in found.dead_letters if d.dlq.topic == topic]
                assert d.dlq.record is not None and d.dlq.record.value == value
                assert d.reason == headers[deadletter.REASON].decode()
                assert d.rule == headers[deadletter.RULE].decode()
                raw = d.source.raw
                assert raw is not None and raw.record is not None
                assert raw.record.value == value  # the dead letter keeps the original bytes
                assert d.source.bronze is not None and d.source.bronze.identical is True
        finally:
            conn.close()
    print(f"lineage: {ROWS} rows in {rows_took:.1f}s, {DEAD_LETTERS} dead letters in "
          f"{time.monotonic() - started - rows_took:.1f}s")  # fmt: skip


def check_duplicates_are_named(run: Run) -> None:
    """Business duplicates (a re-send under a new event id) the processors dropped, found in
    the raw topics (--scan-raw) and named as copies of the event the warehouse holds."""
    started = time.monotonic()
    held = _warehouse_event_ids(run.dsn)
    copies = [
        r
        for r in read_ledger(run.ledger)
        if r.outcome is Outcome.DUPLICATE
        and r.event_id != r.duplicate_of
        and r.duplicate_of in held
    ]
    assert copies, "the seeded run has business duplicates"
    conn = psycopg2.connect(run.dsn)
    try:
        with LineageTracer(run.settings) as tracer:
            for r in random.Random(SEED).sample(copies, min(3, len(copies))):  # noqa: S311
                assert tracer.of_event(conn, r.event_id).verdict.startswith("not found")
                found = tracer.of_event(conn, r.event_id, scan_raw=True)
                assert found.verdict.startswith(
                    f"dropped as a duplicate of event {r.duplicate_of} "
                ), (r.event_id, found.verdict)
                [chain] = found.chains
                assert chain.raw is not None and chain.raw.event_id == r.event_id
                assert chain.bronze is not None and chain.bronze.identical is True
    finally:
        conn.close()
    print(f"duplicates in {time.monotonic() - started:.1f}s")


def _warehouse_event_ids(dsn: str) -> set[str]:
    conn = psycopg2.connect(dsn)
    try:
        out: set[str] = set()
        for spec in tables().values():
            with conn.cursor() as cur:
                cur.execute(f"SELECT event_id FROM warehouse.{spec.table}")
                out.update(r[0] for r in cur.fetchall() if r[0])
        return out
    finally:
        conn.close()


def check_every_warehouse_table_has_the_lineage_columns(run: Run) -> None:
    conn = psycopg2.connect(run.dsn)
    try:
        with conn.cursor() as cur:
            for spec in tables().values():
                names = [spec.table] + (
                    [spec.changes] if isinstance(spec, DimSpec) and spec.scd == 2 else []
                )
                for table in names:
                    cur.execute(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = 'warehouse' AND table_name = %s",
                        (table,),
                    )
                    have = {r[0] for r in cur.fetchall()}
                    assert {c.name for c in LINEAGE} <= have, table
                    cur.execute(
                        f"SELECT count(*), count(clean_offset), count(raw_offset) "
                        f"FROM warehouse.{table}"
                        + (
                            " WHERE NOT is_inferred"
                            if table == spec.table and isinstance(spec, DimSpec)
                            else ""
                        )
                    )
                    total, clean, raw = cur.fetchone() or (0, 0, 0)
                    assert total == clean == raw, (table, total, clean, raw)
    finally:
        conn.close()


def check_the_cli_prints_the_chain(run: Run) -> None:
    conn = psycopg2.connect(run.dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT sale_id, event_id FROM warehouse.fact_sales LIMIT 1")
            sale_id, event_id = cur.fetchone() or ("", "")
        [row] = rows_by_key(conn, table_spec("fact_sales"), [sale_id])
    finally:
        conn.close()
    env = {
        **os.environ,
        "ORION_TOPIC_PREFIX": run.prefix,
        "ORION_S3_BUCKET": run.settings.s3_bucket,
        "ORION_DATABASE_URL": run.dsn,
    }
    for args in (["fact_sales", sale_id], ["--event-id", event_id]):
        result = subprocess.run(
            [sys.executable, "-m", "orionctl", "lineage", *args],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        text = " ".join(result.stdout.split())  # rich wraps long lines
        assert f"sale_id={sale_id}" in text, text
        assert f"clean {row.coordinates.clean_topic}[{row.coordinates.clean_partition}]" in text
        assert "identical bytes to Kafka's: yes" in text, text
    result = subprocess.run(
        [sys.executable, "-m", "orionctl", "lineage", "--event-id", str(uuid.uuid4())],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "not found in the warehouse or the DLQ" in " ".join(result.stdout.split())
