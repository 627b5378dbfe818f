"""The roles of 0010_roles.sql on a real server: what each login may and may not do.

One migrated database is loaded with a seeded sample through the real
writer as ``orion_loader``. The report's views as 0006 made them, before
any masking, are created again in a scratch schema and answered as the
owner; the analyst answers the same questions from ``analytics``: the
figures are the same, every PII column of ``metadata.pii_columns`` is
refused, and the PII the views show is masked. The loader is refused every
DDL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from psycopg2 import errors, sql

from orion.database_url import database_of, with_database
from orion.settings import OrionSettings
from orionctl.stack.config import StackConfig
from orionctl.stack.postgres import Postgres
from sinks.dq.scorecard import read_scorecard
from sinks.warehouse.db import connect
from sinks.warehouse.migrations import MIGRATIONS_DIR, migrate
from sinks.warehouse.report import answer, questions
from sinks.warehouse.reporting.quality import DeadLetters, read_quality
from sinks.warehouse.tables import DIMENSIONS
from tests.conftest import DOCKER
from tests.warehouse_sql.support import fresh_database, load_sample

pytestmark = pytest.mark.integration

CLEAN = Path(__file__).resolve().parents[2] / "schemas" / "avro" / "clean"


@pytest.fixture(scope="module")
def db(settings: OrionSettings) -> Iterator[Any]:
    """(owner dsn, the owner's answers of the unmasked views) of a loaded database."""
    with fresh_database(settings, prefix="wh_roles_") as dsn:
        migrate(dsn)
        load_sample(_login(settings, "loader", dsn), total=3000, seed=15)
        conn = connect(dsn)
        with conn.cursor() as cur:
            cur.execute("CREATE SCHEMA unmasked")
            cur.execute(
                (MIGRATIONS_DIR / "0006_analytics.sql")
                .read_text()
                .replace("analytics.", "unmasked.")
            )
        conn.commit()
        out = {q.name: answer(conn, q).rows for q in questions(conn, "unmasked")}
        conn.rollback()
        conn.close()
        yield dsn, out


def _login(settings: OrionSettings, which: str, dsn: str) -> str:
    """The stack's ``which`` login on the database ``dsn`` names (it follows the owner's)."""
    if DOCKER:
        pytest.skip("the containers' PostgreSQL has no role logins (orion stack up makes them)")
    login = settings.analyst_login if which == "analyst" else settings.loader_login
    assert login.variable != "ORION_DATABASE_URL", "the stack writes one URL per role"
    return with_database(login.dsn, database_of(dsn))


def test_the_analyst_reads_every_question_with_the_same_figures(
    db: tuple[str, dict[str, list[tuple[Any, ...]]]], settings: OrionSettings
) -> None:
    dsn, before = db
    conn = connect(_login(settings, "analyst", dsn))
    with conn.cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone() == ("orion_analyst",)
    after = {q.name: answer(conn, q).rows for q in questions(conn)}
    conn.rollback()
    assert sum(len(r) for r in before.values()) > 100
    for name, rows in before.items():
        assert after[name] == rows, name  # counts and money as the owner saw them before
    assert set(after) - set(before) == {"customer_directory"}, "a new question: compare it"
    quality = read_quality(conn, DeadLetters())
    assert {d for d, _, _ in quality.inferred} == {d.table for d in DIMENSIONS.values()}
    assert quality.records_loaded > 0
    read_scorecard(conn, "entity", dt.timedelta(days=7))
    conn.close()


def test_the_analyst_is_refused_every_pii_column_and_sees_them_masked(
    db: tuple[str, Any], settings: OrionSettings
) -> None:
    dsn, _ = db
    owner = psycopg2.connect(dsn)
    with owner.cursor() as cur:
        cur.execute("SELECT table_name, column_name FROM metadata.pii_columns")
        pii = cur.fetchall()
        cur.execute(
            "SELECT customer_id, email, phone, date_of_birth, street_name, first_name "
            "FROM warehouse.dim_customer WHERE is_current AND NOT is_inferred"
        )
        customers = {r[0]: r[1:] for r in cur.fetchall()}
    owner.close()
    assert len(pii) >= 20 and customers
    analyst = psycopg2.connect(_login(settings, "analyst", dsn))
    analyst.autocommit = True
    with analyst.cursor() as cur:
        for statement in ("SELECT * FROM warehouse.dim_customer", "SELECT 1 FROM dq.dead_letters"):
            with pytest.raises(errors.InsufficientPrivilege):
                cur.execute(statement)
        for table, column in pii:
            schema = (
                "dq"
                if table == "dead_letters"
                else ("metadata" if table == "rejected_records" else "warehouse")
            )
            with pytest.raises(errors.InsufficientPrivilege):
                cur.execute(
                    sql.SQL("SELECT {} FROM {} LIMIT 1").format(
                        sql.Identifier(column), sql.Identifier(schema, table)
                    )
                )
        cur.execute(
            "SELECT customer_id, email, phone, birth_year, first_initial "
            "FROM analytics.customer_directory"
        )
        shown = cur.fetchall()
        every_answer = json.dumps(
            [answer(analyst, q).rows for q in questions(analyst)], default=str
        )
    analyst.close()
    assert len(shown) == len(customers)
    for customer_id, email, phone, year, initial in shown:
        raw_email, raw_phone, dob, street, first = customers[customer_id]
        local, domain = raw_email.split("@", 1)
        assert email == f"{local[0]}***@{domain}"
        digits = re.sub(r"\D", "", raw_phone)
        assert phone == "*" * (len(digits) - 3) + digits[-3:]
        assert year == dob.year and initial == first[0] + "."
    for _, (raw_email, raw_phone, dob, street, _) in list(customers.items())[:200]:
        for secret in (raw_email, raw_phone, dob.isoformat(), street):
            assert secret not in every_answer


def test_every_email_and_phone_field_of_the_schemas_is_declared_pii(
    db: tuple[str, Any],
) -> None:
    declared: set[str] = set()
    conn = psycopg2.connect(db[0])
    with conn.cursor() as cur:
        cur.execute("SELECT column_name FROM metadata.pii_columns")
        declared = {r[0] for r in cur.fetchall()}
    conn.close()
    for path in CLEAN.glob("*.avsc"):
        for f in json.loads(path.read_text())["fields"]:
            if f.get("orion.kind") in ("email", "phone"):
                assert f["name"] in declared, (path.name, f["name"])
    assert {"date_of_birth", "street_name", "street_number", "first_name"} <= declared


def test_the_loader_writes_but_cannot_change_any_table(
    db: tuple[str, Any], settings: OrionSettings
) -> None:
    dsn, _ = db
    loader_dsn = _login(settings, "loader", dsn)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM metadata.load_batches")
        batches_before = cur.fetchone()
    conn.close()
    load_sample(loader_dsn, total=800, seed=16)
    conn = psycopg2.connect(loader_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT current_user, count(*) FROM metadata.load_batches")
        user, batches = cur.fetchone()  # type: ignore[misc]
        assert user == "orion_loader" and (batches - 1,) == batches_before
        # The fixture's load, as the loader, made the telemetry partitions (as the migrator).
        cur.execute(
            "SELECT count(*), bool_and(pg_get_userbyid(relowner) = 'orion_migrator') "
            "FROM pg_inherits JOIN pg_class ON oid = inhrelid "
            "WHERE inhparent = 'warehouse.fact_telemetry'::regclass"
        )
        partitions, owned = cur.fetchone()  # type: ignore[misc]
        assert partitions >= 6 and owned
        refused = [
            "DROP TABLE warehouse.fact_sales",
            "ALTER TABLE warehouse.fact_sales ADD COLUMN x integer",
            "TRUNCATE warehouse.fact_sales",
            "TRUNCATE metadata.sink_offsets",
            "CREATE TABLE warehouse.extra (x integer)",
            "CREATE TABLE metadata.extra (x integer)",
            "CREATE VIEW analytics.extra AS SELECT 1",
            "DROP VIEW analytics.revenue_by_year",
            "ALTER FUNCTION analytics.mask_email(text) RENAME TO unmask",
            "SELECT * FROM analytics.revenue_by_year",
            "DROP SCHEMA warehouse CASCADE",
        ]
        for statement in refused:
            with pytest.raises(errors.InsufficientPrivilege):
                cur.execute(statement)
    conn.close()


def test_a_later_migration_run_by_a_superuser_is_owned_by_the_migrator_with_the_grants(
    settings: OrionSettings, stack: StackConfig, tmp_path: Path
) -> None:
    files = tmp_path / "sql"
    shutil.copytree(MIGRATIONS_DIR, files)
    (files / "0999_later.sql").write_text(
        "CREATE TABLE warehouse.later (x integer);\n"
        "CREATE VIEW analytics.later AS SELECT 1 AS one;\n"
    )
    with fresh_database(settings, prefix="wh_later_") as dsn:
        database = database_of(dsn)
        migrate(Postgres(stack).dsn(database), files)  # the stack's bootstrap superuser
        loader = psycopg2.connect(_login(settings, "loader", dsn))
        loader.autocommit = True
        with loader.cursor() as cur:
            cur.execute("INSERT INTO warehouse.later VALUES (1)")
            cur.execute(
                "SELECT pg_get_userbyid(relowner) FROM pg_class "
                "WHERE oid = 'warehouse.later'::regclass"
            )
            assert cur.fetchone() == ("orion_migrator",)
            with pytest.raises(errors.InsufficientPrivilege):
                cur.execute("DROP TABLE warehouse.later")
        loader.close()
        analyst = psycopg2.connect(_login(settings, "analyst", dsn))
        with analyst.cursor() as cur:
            cur.execute("SELECT one FROM analytics.later")
            assert cur.fetchone() == (1,)
        analyst.close()
