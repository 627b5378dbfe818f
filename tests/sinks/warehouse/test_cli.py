"""The warehouse commands through their own entry point: migrate, sink start-up, backup, report."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg2
import pytest

from orion.settings import OrionSettings
from sinks.warehouse.checksum import table_checksums
from tests.warehouse_sql.support import cli_entry, fresh_database, load_sample

pytestmark = pytest.mark.integration


def orion(*args: str, dsn: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli_entry(), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "ORION_DATABASE_URL": dsn, "ORION_LOG_LEVEL": "WARNING"},
        timeout=timeout,
        check=False,
    )


def test_migrate_command_is_idempotent(settings: OrionSettings) -> None:
    with fresh_database(settings) as dsn:
        first = orion("warehouse", "migrate", dsn=dsn)
        assert first.returncode == 0, first.stderr
        assert "applied 0001_schemas.sql" in first.stdout
        second = orion("warehouse", "migrate", dsn=dsn)
        assert second.returncode == 0 and "up to date" in second.stdout
        status = orion("warehouse", "status", dsn=dsn)
        assert "pending" not in status.stdout and "applied" in status.stdout


def test_sink_stops_at_start_up_when_the_database_is_unreachable(settings: OrionSettings) -> None:
    result = orion(
        "sink", "warehouse", dsn="postgresql://orion:x@127.0.0.1:1/warehouse", timeout=60
    )
    assert result.returncode == 1
    assert "did not answer" in result.stderr and "ORION_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_sink_stops_at_start_up_when_migrations_are_missing(settings: OrionSettings) -> None:
    with fresh_database(settings) as dsn:
        result = orion("sink", "warehouse", dsn=dsn, timeout=60)
    assert result.returncode == 1
    assert "orion warehouse migrate" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_backup_and_restore_round_trip(
    settings: OrionSettings, warehouse_db: str, tmp_path: Path
) -> None:
    load_sample(warehouse_db)
    path = tmp_path / "warehouse.dump"
    done = orion("warehouse", "backup", str(path), dsn=warehouse_db)
    assert done.returncode == 0, done.stderr
    with psycopg2.connect(warehouse_db) as conn:
        original = table_checksums(conn)
    conn.close()
    assert original["fact_sales"][0] > 0
    with fresh_database(settings) as target:
        restored = orion("warehouse", "restore", str(path), dsn=target)
        assert restored.returncode == 0, restored.stderr
        again = orion("warehouse", "restore", str(path), dsn=target)  # over itself: replaces
        assert again.returncode == 0, again.stderr
        with psycopg2.connect(target) as conn:
            assert table_checksums(conn) == original
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM metadata.sink_offsets")
                row = cur.fetchone()
                assert row is not None and row[0] > 0
        conn.close()
        status = orion("warehouse", "status", dsn=target)
        assert "pending" not in status.stdout and "changed" not in status.stdout


def test_report_answers_every_question(warehouse_db: str) -> None:
    load_sample(warehouse_db)
    listed = orion("report", "--list", dsn=warehouse_db)
    names = [line.split(":")[0] for line in listed.stdout.splitlines() if line.strip()]
    assert len(names) >= 20, listed.stdout
    result = orion("report", "--format", "json", "--limit", "5", dsn=warehouse_db)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert sorted(doc) == sorted(names)
    assert doc["revenue_by_year"]["rows"][0]["fiscal_year"] == "FY2026"
    assert all(doc[n]["rows"] for n in ("revenue_by_dealer", "payment_status_share", "discounts"))
    one = orion("report", "--question", "financing_methods", "--format", "csv", dsn=warehouse_db)
    assert one.returncode == 0 and one.stdout.splitlines()[1].startswith("payment_method,sales")
    table = orion("report", "--question", "revenue_by_brand", dsn=warehouse_db)
    assert table.returncode == 0 and "Revenue by brand" in table.stdout
    unknown = orion("report", "--question", "nope", dsn=warehouse_db)
    assert unknown.returncode == 1 and "revenue_by_year" in unknown.stderr
