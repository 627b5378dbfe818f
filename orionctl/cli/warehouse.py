"""``orion warehouse migrate|status|backup|restore``, ``orion sink warehouse``, ``orion report``.

Thin wrappers over :mod:`sinks.warehouse`; the stage package is imported
inside each command, so the shared package never depends on a stage at
import time. ``python -m orionctl.cli.warehouse`` runs these commands on their
own (tests use it until they are wired into ``orion``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from psycopg2.extensions import connection as Connection
from rich.table import Table

from orion.settings import OrionSettings, load_settings, load_stage_settings
from orionctl.cli.console import err, out
from orionctl.cli.service import run_sink

if TYPE_CHECKING:
    from sinks.warehouse.exceptions import MigrationError

warehouse_app = typer.Typer(
    help="The PostgreSQL warehouse: schema and backups.", no_args_is_help=True
)


@warehouse_app.command("migrate")
def migrate() -> None:
    """Apply the pending warehouse_sql/ migrations, each once, in order."""
    from sinks.warehouse.migrations import migrate as apply

    applied = apply(load_settings().database_dsn)
    for name in applied:
        out.print(f"applied {name}")
    out.print(
        f"{len(applied)} migration(s) applied" if applied else "warehouse schema is up to date"
    )


@warehouse_app.command("status")
def status() -> None:
    """Show each migration file and whether the database has it (applied, pending, changed)."""
    from sinks.warehouse.db import connect
    from sinks.warehouse.migrations import status as states

    conn = connect(load_settings().database_dsn)
    try:
        table = Table(title="warehouse migrations")
        for col in ("version", "file", "state"):
            table.add_column(col)
        for s in states(conn):
            table.add_row(f"{s.version:04d}", s.name, s.state)
        out.print(table)
    finally:
        conn.close()


@warehouse_app.command("backup")
def backup(
    path: Annotated[
        Path | None, typer.Argument(help="file to write (pg_dump custom format)")
    ] = None,
    to_s3: Annotated[
        str | None,
        typer.Option(
            help="s3://bucket/key instead of a file, with the tables' checksums beside it "
            "(s3:/// = ORION_S3_BUCKET); `orion warehouse verify` checks it"
        ),
    ] = None,
) -> None:
    """Dump the warehouse database to PATH, or to S3 with checksums (--to-s3)."""
    from orionctl.cli.upkeep import backup_s3
    from sinks.warehouse.backup import backup as dump

    if (path is None) == (to_s3 is None):
        raise typer.BadParameter("give PATH or --to-s3, one of them", param_hint="PATH")
    if to_s3 is not None:
        backup_s3(to_s3)
        return
    assert path is not None
    written = dump(load_settings().database_dsn, path)
    out.print(f"backup written to {written} ({written.stat().st_size} bytes)")


@warehouse_app.command("restore")
def restore(path: Annotated[Path, typer.Argument(help="a file `warehouse backup` wrote")]) -> None:
    """Restore PATH over the warehouse database (its objects are replaced, all or nothing)."""
    from sinks.warehouse.backup import restore as load

    load(load_settings().database_dsn, path)
    out.print(f"restored {path}")


def sink_warehouse(
    topics: Annotated[
        str | None, typer.Option(help="comma-separated clean topics (default: every clean.*)")
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="consumer group, put under ORION_TOPIC_PREFIX")
    ] = None,
    instance_id: Annotated[
        str | None, typer.Option(help="static group member id (e.g. the pod name): fast restarts")
    ] = None,
    max_records: Annotated[
        int | None, typer.Option(min=1, help="commit a batch at N records")
    ] = None,
    max_wait: Annotated[
        float | None, typer.Option(min=0.01, help="commit a batch S seconds after its first record")
    ] = None,
    db_retries: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="exit 1 after N consecutive failed batches while the database is down "
            "(not given: keep backing off)",
        ),
    ] = None,
) -> None:
    """Load the clean topics into the warehouse, exactly once, until stopped.

    Options not given fall back to ORION_WAREHOUSE_SINK_<FIELD>, then to the defaults
    of sinks/warehouse/configuration.py.
    """
    from sinks.warehouse import run_warehouse_sink
    from sinks.warehouse.configuration import DEFAULT_GROUP, WarehouseSinkConfig, clean_topics

    settings = load_settings()
    chosen = (
        tuple(t.strip() for t in topics.split(",") if t.strip())
        if topics
        else clean_topics(settings.topic_prefix)
    )
    config = load_stage_settings(
        WarehouseSinkConfig,
        topics=chosen,
        topic_prefix=settings.topic_prefix,
        group=settings.topic_prefix + (group or DEFAULT_GROUP),
        instance_id=instance_id,
        max_records=max_records,
        max_wait_s=max_wait,
        db_retries=db_retries,
    )
    run_sink(
        "sink-warehouse",
        settings,
        f"{len(config.topics)} topic(s) to the warehouse",
        lambda stop, heartbeat: run_warehouse_sink(settings, config, stop, heartbeat),
        lambda stats: (
            f"loaded {stats.records} records in {stats.batches} batches, "
            f"{stats.rejected} rejected, {stats.skipped} tombstones skipped"
        ),
    )


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return v


def report(
    question: Annotated[
        str | None, typer.Option(help="one question by name (default: all)")
    ] = None,
    output: Annotated[
        Format, typer.Option("--format", help="table, json, csv or html")
    ] = Format.table,
    limit: Annotated[int, typer.Option(min=1, help="rows per question")] = 20,
    list_only: Annotated[bool, typer.Option("--list", help="list the questions only")] = False,
    path: Annotated[
        Path | None,
        typer.Option("--output", help="write json, csv or html to this file, not stdout"),
    ] = None,
    to_s3: Annotated[
        str | None,
        typer.Option(
            help="write json, csv or html to this s3://bucket/key (s3:/// = ORION_S3_BUCKET)"
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            help="another database on ORION_DATABASE_URL's server, e.g. orion_demo (`make demo`)"
        ),
    ] = None,
    dead_letters: Annotated[
        bool,
        typer.Option(
            help="html: count dead letters per reason from the dlq.* topics under "
            "ORION_TOPIC_PREFIX"
        ),
    ] = True,
) -> None:
    """Answer the finance department's questions from the analytics views."""
    from orion.database_url import describe, with_database
    from sinks.warehouse.db import connect
    from sinks.warehouse.exceptions import MigrationError
    from sinks.warehouse.migrations import require_current
    from sinks.warehouse.report import answer, find, questions

    if (path is not None or to_s3 is not None) and output is Format.table:
        raise typer.BadParameter("--output needs --format json, csv or html", param_hint="--output")
    if path is not None and to_s3 is not None:
        raise typer.BadParameter("--output or --to-s3, not both", param_hint="--to-s3")
    if question and output is Format.html:
        raise typer.BadParameter("the html page holds every question", param_hint="--question")
    settings = load_settings()
    login = settings.analyst_login
    dsn = with_database(login.dsn, database) if database else login.dsn
    conn = connect(dsn, application="orion-report", variable=login.variable)
    try:
        try:
            require_current(conn)
        except MigrationError as e:
            raise _with_demo_hint(conn, e) if database is None else e from None
        if output is Format.html and not list_only:
            text = _html(conn, settings, limit, describe(dsn), dead_letters)
            _emit(text, path, to_s3, settings)
            return
        chosen = [find(conn, question)] if question else questions(conn)
        if list_only:
            for q in chosen:
                out.print(f"{q.name}: {q.title}", highlight=False)
            return
        answers = [answer(conn, q, limit) for q in chosen]
    finally:
        conn.close()
    if output is Format.json:
        doc = {
            a.question.name: {
                "title": a.question.title,
                "rows": [{c: _plain(v) for c, v in zip(a.columns, r, strict=True)} for r in a.rows],
            }
            for a in answers
        }
        _emit(json.dumps(doc, indent=2) + "\n", path, to_s3, settings)
    elif output is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for a in answers:
            writer.writerow([f"# {a.question.name}: {a.question.title}"])
            writer.writerow(a.columns)
            writer.writerows([[_plain(v) for v in r] for r in a.rows])
        _emit(buffer.getvalue(), path, to_s3, settings)
    else:
        for a in answers:
            table = Table(title=f"{a.question.title} [dim]({a.question.name})[/]")
            for c in a.columns:
                table.add_column(c, justify="right" if _numeric(a, c) else "left")
            for r in a.rows:
                table.add_row(*("" if v is None else str(_plain(v)) for v in r))
            out.print(table)


def _with_demo_hint(conn: Connection, error: MigrationError) -> MigrationError:
    """``error``, with the command for the demo's database when there is one to report on.

    `make demo` loads a database of its own, which ORION_DATABASE_URL does not
    name; a first `orion report` after it would otherwise only say to migrate.
    """
    from orionctl.demo import DEMO_DATABASE
    from sinks.warehouse.exceptions import ChangedMigrationError, MigrationError

    if isinstance(error, ChangedMigrationError):
        return error
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DEMO_DATABASE,))
        found = cur.fetchone() is not None
    conn.rollback()
    if not found:
        return error
    return MigrationError(
        error.message,
        fix=f"{error.fix}; or, for what `make demo` loaded: "
        f"orion report --database {DEMO_DATABASE}",
    )


def _emit(
    text: str, path: Path | None, to_s3: str | None = None, settings: OrionSettings | None = None
) -> None:
    if to_s3 is not None and settings is not None:
        from orionctl.cli.upkeep import parse_s3_url, storage_for

        bucket, key = parse_s3_url(to_s3, "--to-s3", settings.s3_bucket)
        storage = storage_for(settings, bucket)
        try:
            storage.put(key, text.encode("utf-8"))
        finally:
            storage.close()
        out.print(f"report written to s3://{bucket}/{key}", highlight=False)
        return
    if path is None:
        sys.stdout.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    out.print(f"report written to {path.resolve()}", highlight=False)


def _html(
    conn: Connection, settings: OrionSettings, limit: int, source: str, dead_letters: bool
) -> str:
    from confluent_kafka import KafkaException

    from orionctl.ops.dead_letters import count_dead_letters
    from sinks.warehouse.reporting import DeadLetters, html_report

    if not dead_letters:
        counted = DeadLetters(unavailable="not counted (--no-dead-letters)")
    else:
        try:
            counted = DeadLetters(
                count_dead_letters(settings.kafka_client_config(), settings.topic_prefix)
            )
        except KafkaException as e:
            err.print(f"dead letters not counted: Kafka did not answer ({e})")
            counted = DeadLetters(unavailable=f"Kafka did not answer at {settings.kafka_bootstrap}")
    return html_report(conn, limit=limit, dead_letters=counted, source=source)


def _numeric(a: Any, column: str) -> bool:
    i = a.columns.index(column)
    return any(isinstance(r[i], int | float | Decimal) for r in a.rows)
