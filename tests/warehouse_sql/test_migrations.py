"""Migrations: applied once each, recorded with checksums, edited files refused."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import psycopg2
import pytest

from sinks.warehouse.db import connect
from sinks.warehouse.exceptions import ChangedMigrationError, MigrationError
from sinks.warehouse.migrations import MIGRATIONS_DIR, discover, migrate, require_current

pytestmark = pytest.mark.integration


def test_migrate_applies_each_file_once(empty_db: str) -> None:
    names = [m.name for m in discover()]
    assert names[0] == "0001_schemas.sql" and len(names) >= 6
    assert migrate(empty_db) == names
    assert migrate(empty_db) == []
    with psycopg2.connect(empty_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT name, checksum FROM metadata.schema_migrations ORDER BY version")
        assert cur.fetchall() == [(m.name, m.checksum) for m in discover()]
    conn.close()
    conn = connect(empty_db)
    require_current(conn)
    conn.close()


def test_a_changed_applied_file_is_refused_by_name(empty_db: str, tmp_path: Path) -> None:
    files = tmp_path / "sql"
    shutil.copytree(MIGRATIONS_DIR, files)
    migrate(empty_db, files)
    edited = files / "0004_facts.sql"
    edited.write_text(edited.read_text() + "\n-- an innocent comment\n")
    with pytest.raises(ChangedMigrationError, match=r"0004_facts\.sql"):
        migrate(empty_db, files)
    conn = connect(empty_db)
    with pytest.raises(ChangedMigrationError, match=r"0004_facts\.sql"):
        require_current(conn, files)
    conn.close()


def test_a_failing_migration_is_rolled_back_and_named(empty_db: str, tmp_path: Path) -> None:
    files = tmp_path / "sql"
    shutil.copytree(MIGRATIONS_DIR, files)
    (files / "0900_broken.sql").write_text(
        "CREATE TABLE warehouse.half_done (x int);\nSELECT no_such_function();\n"
    )
    with pytest.raises(MigrationError, match=r"0900_broken\.sql"):
        migrate(empty_db, files)
    with psycopg2.connect(empty_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT to_regclass('warehouse.half_done'), count(*) "
            "FROM metadata.schema_migrations WHERE version = 900"
        )
        assert cur.fetchone() == (None, 0)
    conn.close()
    conn = connect(empty_db)
    with pytest.raises(MigrationError, match="not applied"):
        require_current(conn, files)
    conn.close()


def test_dim_date_has_the_fiscal_hierarchy(warehouse_db: str) -> None:
    with psycopg2.connect(warehouse_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT min(date_actual), max(date_actual), count(*), "
            "count(DISTINCT fiscal_quarter_label) FROM warehouse.dim_date "
            "WHERE fiscal_year_label = 'FY2026'"
        )
        assert cur.fetchone() == (dt.date(2025, 3, 1), dt.date(2026, 2, 28), 365, 4)
        cur.execute(
            "SELECT fiscal_quarter, fiscal_month, is_weekend, day_of_week FROM warehouse.dim_date "
            "WHERE date_actual IN ('2025-03-01', '2025-05-31', '2025-06-02', '2026-02-28') "
            "ORDER BY date_actual"
        )
        assert cur.fetchall() == [
            (1, 1, True, 6),
            (1, 3, True, 6),
            (2, 4, False, 1),
            (4, 12, True, 6),
        ]
        cur.execute("SELECT min(date_actual), max(date_actual) FROM warehouse.dim_date")
        assert cur.fetchone() == (dt.date(1900, 1, 1), dt.date(2100, 12, 31))
    conn.close()


def test_telemetry_partitions_are_created_for_the_months_asked(warehouse_db: str) -> None:
    with psycopg2.connect(warehouse_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT warehouse.ensure_telemetry_partitions("
            "'2025-03-31 23:00+00', '2025-05-01 00:00+00')"
        )
        assert cur.fetchone() == (3,)
        cur.execute(
            "SELECT warehouse.ensure_telemetry_partitions("
            "'2025-04-15 00:00+00', '2025-04-16 00:00+00')"
        )
        assert cur.fetchone() == (0,)
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'warehouse.fact_telemetry'::regclass ORDER BY 1"
        )
        assert [r[0] for r in cur.fetchall()] == [
            "fact_telemetry_y2025m03",
            "fact_telemetry_y2025m04",
            "fact_telemetry_y2025m05",
        ]
    conn.close()
