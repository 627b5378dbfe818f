"""Each DAG run with ``airflow dags test`` against the stack, on real data, read back.

One ``airflow dags test`` per DAG (plus one failing run): Airflow's start-up
dominates, so every test makes its run count. The tasks call the project's
``orion`` command; each test gives them its own bucket or database through
``ORION_*`` variables, which take precedence over the stack's endpoints file.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg2
import pyarrow.parquet as pq
import pytest

from orion.settings import OrionSettings
from orionctl.stack.config import StackConfig
from sinks.base import BatchLimits, RunnerOptions
from sinks.s3 import S3SinkConfig, run_s3_sink
from tests.conftest import unique
from tests.sinks.conftest import produce_records, run_in_thread, wait_committed

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

TODAY = dt.datetime.now(dt.UTC).date()


def keys(s3_client: Any, bucket: str, prefix: str) -> list[str]:
    out: list[str] = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return sorted(out)


def test_bronze_lifecycle_compacts_old_days_verifies_and_reaches_prometheus(
    airflow: Callable[..., Any],
    settings: OrionSettings,
    airflow_stack: StackConfig,
    kafka_topic: Callable[..., str],
    s3_bucket: Callable[[], str],
    s3_client: Any,
) -> None:
    topic, bucket = kafka_topic(partitions=2), s3_bucket()
    produce_records(settings, topic, 600, partitions=2, span_days=1.5)  # 44 days ago
    s = settings.model_copy(update={"s3_bucket": bucket})
    config = S3SinkConfig(
        topics=(topic,), group=unique("g-"), limits=BatchLimits(max_records=100, max_age_s=0.5)
    )
    stop, holder = run_in_thread(
        lambda st: run_s3_sink(s, config, st, runner_options=RunnerOptions(poll_timeout_s=0.1))
    )
    wait_committed(s, config.group, topic, alive=holder.thread.is_alive)
    stop.set()
    holder.thread.join(60)
    assert holder.error is None
    bronze = keys(s3_client, bucket, f"bronze/{topic}/")
    days = {k.split("/")[2] for k in bronze}
    assert len(bronze) > 4 and len(days) >= 2

    started = time.time()
    run = airflow(
        "dags", "test", "bronze_lifecycle", TODAY.isoformat(), env={"ORION_S3_BUCKET": bucket}
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert keys(s3_client, bucket, f"bronze/{topic}/") == []
    archived = keys(s3_client, bucket, f"archive/{topic}/")
    manifests = [k for k in archived if k.endswith("manifest.json")]
    assert {k.split("/")[2] for k in manifests} == days
    listed = 0
    for m in manifests:
        doc = json.loads(s3_client.get_object(Bucket=bucket, Key=m)["Body"].read())
        listed += sum(o["count"] for o in doc["objects"])
        assert {s for o in doc["objects"] for s in o["sources"]} <= set(bronze)
    assert listed == 600
    assert "archived 600 records" in run.stdout + run.stderr
    assert "manifests match" in run.stdout + run.stderr

    # The final task's record reaches the stack's Prometheus through the DAG exporter.
    prom = f"http://{airflow_stack.host}:{airflow_stack.prometheus_port}/api/v1/query"
    deadline = time.monotonic() + 60
    value = None
    while time.monotonic() < deadline:
        body = httpx.get(
            prom,
            params={"query": 'orion_dag_last_success_timestamp_seconds{dag="bronze_lifecycle"}'},
        ).json()
        result = body["data"]["result"]
        if result and float(result[0]["value"][1]) >= started:
            value = float(result[0]["value"][1])
            break
        time.sleep(2)
    assert value is not None, "Prometheus never saw the DAG's success"
    assert value <= time.time()


def _insert_telemetry(dsn: str, month: dt.date, n: int) -> None:
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        first = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)
        cur.execute("SELECT warehouse.ensure_telemetry_partitions(%s, %s)", (first, first))
        for i in range(n):
            cur.execute(
                "INSERT INTO warehouse.fact_telemetry (telemetry_id, event_time, vin, "
                "vehicle_key, date_key, speed_kmh, fuel_level_pct, engine_temp_c, latitude, "
                "longitude, odometer_km, error_codes, event_id, produced_at) VALUES "
                "(%s, %s, 'VIN0000000000000', 1, 20230101, 80, 50, 90, -26.2, 28.0, %s, "
                "ARRAY['P0300'], %s, %s)",
                (f"T-{i}", first + dt.timedelta(hours=i), 1000 + i, f"ev-{i}", first),
            )
    conn.close()


def _partitions(dsn: str) -> dict[str, bool]:
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT partition, parent IS NOT NULL FROM metadata.monthly_partitions")
        found = dict(cur.fetchall())
    conn.close()
    return found


def test_maintenance_fails_with_s3_down_then_retires_an_old_month_without_redoing_work(
    airflow: Callable[..., Any],
    warehouse_db: str,
    s3_bucket: Callable[[], str],
    s3_client: Any,
    airflow_stack: StackConfig,
) -> None:
    bucket = s3_bucket()
    _insert_telemetry(warehouse_db, dt.date(2023, 1, 1), 40)
    env = {"ORION_DATABASE_URL": warehouse_db, "ORION_S3_BUCKET": bucket}
    failures = airflow_stack.dir / "logs" / "airflow-failures.log"
    before = failures.read_text() if failures.exists() else ""

    # S3 unreachable: partitions are created, the retirement is tried twice, the run fails.
    down = airflow(
        "dags", "test", "warehouse_maintenance", TODAY.isoformat(),
        env={**env, "ORION_S3_ENDPOINT": "http://127.0.0.1:9"},
    )  # fmt: skip
    assert down.returncode != 0
    output = down.stdout + down.stderr
    assert output.count("running") and "up_for_retry" in output
    new_lines = failures.read_text()[len(before) :].splitlines()
    assert len(new_lines) == 1, new_lines
    assert "dag=warehouse_maintenance task=retire_partitions" in new_lines[0]
    assert "try=2" in new_lines[0] and "docs/runbook.md#" in new_lines[0]
    assert "ORION DAG FAILURE" in output  # the same line in the task's log
    parts = _partitions(warehouse_db)
    nxt = (TODAY.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    assert parts[f"fact_telemetry_y{nxt:%Y}m{nxt:%m}"] is True
    assert parts["fact_telemetry_y2023m01"] is True  # S3 was down: nothing detached

    # S3 back: the same logical date finds its partitions made and retires the old month.
    run = airflow("dags", "test", "warehouse_maintenance", TODAY.isoformat(), env=env)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    output = run.stdout + run.stderr
    assert "fact_telemetry: 0 partition(s) created" in output
    assert "SCD2: every business key has at most one current row" in output
    assert "vacuumed and analysed" in output
    parts = _partitions(warehouse_db)
    assert "fact_telemetry_y2023m01" not in parts
    assert parts[f"fact_telemetry_y{nxt:%Y}m{nxt:%m}"] is True
    key = "exports/warehouse/fact_telemetry/month=2023-01/fact_telemetry_y2023m01.parquet"
    table = pq.read_table(io.BytesIO(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()))
    assert table.num_rows == 40
    assert sorted(str(v) for v in table.column("telemetry_id").to_pylist()) == sorted(
        f"T-{i}" for i in range(40)
    )
    assert failures.read_text()[len(before) :].count("\n") == 1  # no new failure line


def test_backup_is_restored_and_matches_its_checksums_and_a_rerun_keeps_it(
    airflow: Callable[..., Any],
    warehouse_db: str,
    s3_bucket: Callable[[], str],
    s3_client: Any,
) -> None:
    bucket = s3_bucket()
    _insert_telemetry(warehouse_db, TODAY.replace(day=1), 25)
    env = {"ORION_DATABASE_URL": warehouse_db, "ORION_S3_BUCKET": bucket}
    run = airflow("dags", "test", "warehouse_backup", TODAY.isoformat(), env=env)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    output = run.stdout + run.stderr
    assert "match their checksums" in output
    key = f"backups/warehouse/{TODAY.isoformat()}.dump"
    assert keys(s3_client, bucket, "backups/") == [key, key + ".checksums.json"]
    sums = json.loads(
        s3_client.get_object(Bucket=bucket, Key=key + ".checksums.json")["Body"].read()
    )
    assert sums["fact_telemetry"]["rows"] == 25
    # The scratch database is gone.
    conn = psycopg2.connect(warehouse_db)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'orion_verify_%'")
        row = cur.fetchone()
    conn.close()
    assert row == (0,)


def test_finance_report_writes_json_and_csv_for_the_closed_month(
    airflow: Callable[..., Any],
    warehouse_db: str,
    s3_bucket: Callable[[], str],
    s3_client: Any,
) -> None:
    bucket = s3_bucket()
    env = {"ORION_DATABASE_URL": warehouse_db, "ORION_S3_BUCKET": bucket}
    run = airflow("dags", "test", "finance_report", "2026-11-01", env=env)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    prefix = "reports/finance/2026-10/"
    assert keys(s3_client, bucket, prefix) == [prefix + "report.csv", prefix + "report.json"]
    doc = json.loads(s3_client.get_object(Bucket=bucket, Key=prefix + "report.json")["Body"].read())
    assert doc and all("title" in q and "rows" in q for q in doc.values())
    csv_text = (
        s3_client.get_object(Bucket=bucket, Key=prefix + "report.csv")["Body"].read().decode()
    )
    assert all(f"# {name}:" in csv_text for name in doc)


@pytest.fixture
def topic_prefix(settings: OrionSettings) -> str:
    return unique("af") + "."


def test_landing_ingest_senses_ingests_and_every_file_is_decided(
    airflow: Callable[..., Any],
    settings: OrionSettings,
    s3_bucket: Callable[[], str],
    s3_client: Any,
    topic_prefix: str,
) -> None:
    from typer.testing import CliRunner

    from orionctl.cli.main import app

    bucket = s3_bucket()
    env = {"ORION_S3_BUCKET": bucket, "ORION_TOPIC_PREFIX": topic_prefix}
    steps = (
        ["topics", "create"],
        ["schemas", "register"],
        ["produce", "--to-files", f"s3://{bucket}", "--events", "300", "--seed", "7"],
    )
    for args in steps:  # in this process: three interpreter start-ups fewer
        done = CliRunner().invoke(app, args, env=env)
        assert done.exit_code == 0, (args, done.output[-2000:], done.exception)
    landed = keys(s3_client, bucket, "landing/")
    assert landed

    run = airflow(
        "dags", "test", "landing_ingest", TODAY.isoformat(),
        env={"ORION_S3_BUCKET": bucket, "ORION_TOPIC_PREFIX": topic_prefix},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert keys(s3_client, bucket, "landing/") == []
    decided = keys(s3_client, bucket, "processed/") + keys(s3_client, bucket, "rejected/")
    for key in landed:
        rest = key.removeprefix("landing/")
        assert any(d.endswith("/" + rest) for d in decided), key
    assert f"all {len(landed)} file(s) decided" in run.stdout + run.stderr
