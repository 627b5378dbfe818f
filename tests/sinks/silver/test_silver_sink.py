"""The silver sink against the real stack: killed twice, it still writes every clean record once.

One module-scoped run publishes a seeded simulator run's clean records to
its own clean topics (as the processors would, through
``tests.sinks.warehouse.kafka_support.publish``), loads them into a fresh
warehouse with an in-process loader, and meanwhile runs ``orion sink
silver`` as a subprocess, SIGKILLed twice mid-run and restarted. The tests
then read silver back through ``sinks.silver.query`` (DuckDB) and compare it
with the topics and the warehouse.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pyarrow as pa
import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from orion.catalog import entities, load_schema, load_schema_text, subject
from orion.registry import Registry
from orion.serde import AvroEncoder
from orion.settings import OrionSettings
from sinks.base import Batch, BatchLimits, KafkaRecord
from sinks.base.storage import S3Storage, s3_client
from sinks.silver.arrow_schema import arrow_schema
from sinks.silver.decode import RowDecoder
from sinks.silver.parquet_format import ParquetFormat
from sinks.silver.query import query, view_name
from sinks.silver.writer import SilverSink
from sinks.warehouse.configuration import WarehouseSinkConfig
from sinks.warehouse.tables import FACTS
from tests.conftest import unique
from tests.orion_process import OrionProcess
from tests.sinks.conftest import orion_cli
from tests.sinks.warehouse.kafka_support import (
    create_clean_topics,
    end_offsets,
    loader_thread,
    publish,
    wait_loaded,
)
from tests.warehouse_sql.support import clean_events, fresh_database, migrated, to_clean

pytestmark = pytest.mark.integration

SEED = 20260301
EVENTS = 12_000
DAYS = 10  # business days the run spans: several dt= folders per partition, late events
KILLS = 2


@dataclass
class Run:
    settings: OrionSettings  # with the run's bucket
    prefix: str
    events: list[tuple[str, str, dict[str, Any]]]
    ends: dict[tuple[str, int], int]
    warehouse: str
    keys: list[str]


class SilverProcess(OrionProcess):
    def __init__(self, log: Path, env: dict[str, str], *args: str) -> None:
        super().__init__(["sink", "silver", *args], log, env)


def committed(settings: OrionSettings, group: str, ends: dict[tuple[str, int], int]) -> int:
    consumer = Consumer({**settings.kafka_client_config(), "group.id": group})
    try:
        tps = consumer.committed([TopicPartition(t, p) for t, p in ends], timeout=10)
        return sum(max(tp.offset, 0) for tp in tps)
    finally:
        consumer.close()


def silver_keys(s3: Any, bucket: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="silver/")
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


@pytest.fixture(scope="module")
def run(
    settings: OrionSettings, s3_client: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    bucket = unique("test-")
    s3_client.create_bucket(Bucket=bucket)
    topics = create_clean_topics(settings, prefix)
    events = clean_events(SEED, EVENTS, days=DAYS)
    publish(settings, prefix, events)
    ends = end_offsets(settings, topics)
    total = sum(ends.values())
    logs = tmp_path_factory.mktemp("silver")
    group = f"g-{uuid.uuid4().hex[:8]}"
    env = {"ORION_TOPIC_PREFIX": prefix, "ORION_S3_BUCKET": bucket}
    args = ("--max-records", "300", "--max-age", "0.3", "--group", group)
    try:
        with fresh_database(settings) as dsn:
            migrated(dsn)
            wh = WarehouseSinkConfig(
                topics=tuple(topics), topic_prefix=prefix, group=f"w-{group}", max_wait_s=0.5
            )
            stop, thread, errors = loader_thread(settings, dsn, wh)
            for k in range(KILLS):
                proc = SilverProcess(logs / f"silver-{k}.log", env, *args, "--instance-id", "s-a")
                target = total * (k + 1) // (KILLS + 2)
                deadline = time.monotonic() + 60
                while committed(settings, prefix + group, ends) < target:
                    assert proc.alive(), proc.output()
                    assert time.monotonic() < deadline, "silver sink made no progress"
                    time.sleep(0.1)
                proc.kill()
            proc = SilverProcess(logs / "silver-final.log", env, *args, "--instance-id", "s-a")
            deadline = time.monotonic() + 90
            while committed(settings, prefix + group, ends) < total:
                assert proc.alive(), proc.output()
                assert time.monotonic() < deadline, "silver sink did not catch up"
                time.sleep(0.2)
            assert proc.terminate() == 0, proc.output()
            wait_loaded(dsn, ends, 90, thread.is_alive)
            stop.set()
            thread.join(60)
            assert not errors, errors
            with_bucket = settings.model_copy(update={"s3_bucket": bucket})
            yield Run(with_bucket, prefix, events, ends, dsn, silver_keys(s3_client, bucket))
    finally:
        admin = AdminClient(settings.kafka_client_config())
        for f in admin.delete_topics(topics).values():
            f.result(timeout=60)
        for key in silver_keys(s3_client, bucket):
            s3_client.delete_object(Bucket=bucket, Key=key)
        s3_client.delete_bucket(Bucket=bucket)


def test_every_clean_record_is_one_row_after_two_kills(run: Run) -> None:
    expected = Counter(stem for stem, _k, _e in run.events)
    for e in entities():
        view = view_name(e.stem)
        [(rows, distinct)] = query(
            run.settings,
            f"SELECT count(*), count(DISTINCT (kafka_topic, kafka_partition, kafka_offset)) "
            f"FROM {view}",
        ).rows
        assert rows == distinct == expected[e.stem], e.stem
    assert sum(run.ends.values()) == len(run.events)


def test_objects_are_named_by_their_first_offset_and_hold_one_event_day(run: Run) -> None:
    [(bad_days,)] = query(
        run.settings,
        "SELECT count(*) FROM erp_sales WHERE CAST(timezone('UTC', event_time) AS DATE) <> dt",
    ).rows
    assert bad_days == 0
    folders = {k.split("/")[2] for k in run.keys if "/erp.sales/" in k}
    assert len(folders) >= DAYS - 1
    for key in run.keys:
        topic, partition, offset = key.rsplit("/", 1)[1].removesuffix(".parquet").split("+")
        assert topic.startswith(run.prefix + "clean.") and int(partition) in range(3)
        assert len(offset) == 20
    [(starts,)] = query(
        run.settings,
        "SELECT count(*) FROM (SELECT kafka_partition, min(kafka_offset) FROM iot_telemetry "
        "GROUP BY kafka_partition, dt)",
    ).rows
    assert starts >= 3 * (DAYS - 1)


def test_money_totals_equal_the_warehouse_facts(run: Run) -> None:
    checked = 0
    for stem, spec in FACTS.items():
        schema = arrow_schema(stem)
        money = [f.name for f in schema if pa.types.is_decimal(f.type)]
        if not money:
            continue
        nk = ", ".join(spec.natural_key)
        sums = ", ".join(f"sum({m})" for m in money)
        latest = query(
            run.settings,
            f"SELECT {sums}, count(*) FROM (SELECT *, row_number() OVER (PARTITION BY {nk} "
            "ORDER BY event_time DESC, produced_at DESC, event_id) AS n "
            f"FROM {view_name(stem)}) WHERE n = 1",
        ).rows[0]
        with psycopg2.connect(run.warehouse) as conn, conn.cursor() as cur:
            cur.execute(f"SELECT {sums}, count(*) FROM warehouse.{spec.table}")
            warehouse = cur.fetchone()
        conn.close()
        assert latest == warehouse, stem
        every = query(run.settings, f"SELECT {sums} FROM {view_name(stem)}").rows[0]
        decoded = [to_clean(s, e) for s, _k, e in run.events if s == stem]
        assert every == tuple(sum((r[m] for r in decoded), Decimal(0)) for m in money), stem
        checked += 1
    assert checked >= 4


def test_orion_silver_query_prints_a_real_count(run: Run) -> None:
    expected = sum(1 for stem, _k, _e in run.events if stem == "erp.sales")
    result = orion_cli(
        "silver",
        "query",
        "SELECT count(*) AS sales FROM erp_sales",
        bucket=run.settings.s3_bucket,
        env={"COLUMNS": "120"},
    )
    assert result.returncode == 0, result.stderr
    assert "sales" in result.stdout and f" {expected} " in result.stdout, result.stdout
    bad = orion_cli("silver", "query", "SELECT nope FROM erp_sales", bucket=run.settings.s3_bucket)
    assert bad.returncode == 1 and "query failed" in bad.stderr, bad.stderr


def test_a_replay_with_other_batch_cuts_finds_every_object_again(
    settings: OrionSettings, s3_bucket: Any
) -> None:
    """In process: the first run stops half-way through a batch; the replay cuts elsewhere."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    topic = f"{prefix}clean.erp.sales"
    stem = "erp.sales"
    events = [to_clean(s, e) for s, _k, e in clean_events(SEED, 6000, days=5) if s == stem]
    path = next(e for e in entities() if e.stem == stem).schema_path("clean")
    with Registry(settings.schema_registry_url) as registry:
        encode = AvroEncoder.register(
            registry, subject(topic), load_schema(path), load_schema_text(path)
        )
        records = [
            KafkaRecord(topic, 0, i, 0, 1, None, None if i % 17 == 0 else encode(r))
            for i, r in enumerate(events)
        ]
        storage = S3Storage(s3_client(settings), s3_bucket())

        def sink() -> SilverSink:
            return SilverSink(
                storage, RowDecoder(registry), ParquetFormat(), BatchLimits(), topic_prefix=prefix
            )

        def write(cuts: list[int]) -> list[int]:
            out, start, s = [], 0, sink()
            for end in cuts:
                batch = Batch(topic, 0, list(records[start:end]))
                if not batch.records:
                    continue
                nxt = s.write(batch)
                out.append(nxt)
                start = max(end, nxt)
            return out

        write([40, len(records) // 2])  # killed after these: nothing committed
        crashed = sorted(storage.list_keys("silver/"))
        assert crashed
        nexts = write([25, 26, 90, len(records)])  # replay from 0, cut elsewhere
        assert nexts[-1] == len(records)
        first_keys = sorted(storage.list_keys("silver/"))
        assert set(crashed) <= set(first_keys)
        bodies = {k: storage.get(k) for k in first_keys}
        assert write([len(records)]) == [len(records)]  # a third run adds nothing
        assert sorted(storage.list_keys("silver/")) == first_keys
        assert {k: storage.get(k) for k in first_keys} == bodies
        fmt = ParquetFormat()
        covered = sorted(o for body in bodies.values() for o, _e in fmt.coverage(body).rows)
        assert covered == [i for i in range(len(records)) if i % 17]
        # An uninterrupted run (other cuts, so other object boundaries) holds the same rows.
        storage.close()
        storage = S3Storage(s3_client(settings), s3_bucket())
        write([len(records)])
        again = [
            row for k in storage.list_keys("silver/") for row in fmt.coverage(storage.get(k)).rows
        ]
        assert sorted(again) == sorted(
            row for body in bodies.values() for row in fmt.coverage(body).rows
        )
        storage.close()
