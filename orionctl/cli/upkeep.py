"""``orion warehouse partitions ensure|retire``, ``vacuum``, ``check-scd2``, ``verify``, S3 backups.

The warehouse's scheduled upkeep, as the maintenance and backup DAGs run it
(``deploy/airflow/dags/``), and as an operator runs it by hand. Each command
is safe to run again for the same day: it finds what is already done and
skips it. Thin wrappers over :mod:`sinks.warehouse.partitions`,
:mod:`sinks.warehouse.upkeep` and :mod:`sinks.warehouse.verified_backup`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from orion.exceptions import ConfigurationError
from orion.settings import OrionSettings, load_settings
from orionctl.cli.console import out
from orionctl.cli.s3sink import parse_date

if TYPE_CHECKING:
    from sinks.base.storage import S3Storage

partitions_app = typer.Typer(
    help="Monthly partitions: create ahead, retire to S3 Parquet.", no_args_is_help=True
)


def parse_s3_url(value: str, option: str, default_bucket: str) -> tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key); ``s3:///key`` or a bare key uses the default bucket."""
    if not value.startswith("s3://"):
        raise ConfigurationError(
            f"{option} must be an s3:// URL, got {value!r}", fix="e.g. s3://orion-bronze/backups"
        )
    bucket, _, key = value.removeprefix("s3://").partition("/")
    key = key.strip("/")
    if not key:
        raise ConfigurationError(f"{option} names no key: {value!r}", fix="s3://bucket/prefix")
    return bucket or default_bucket, key


def storage_for(settings: OrionSettings, bucket: str) -> S3Storage:
    from sinks.base.storage import S3Storage, s3_client

    storage = S3Storage(s3_client(settings, timeout_s=60), bucket)
    storage.check_bucket()
    return storage


def _today(value: str | None, option: str) -> dt.date:
    return parse_date(value, option) if value else dt.datetime.now(dt.UTC).date()


@partitions_app.command("ensure")
def ensure(
    months_ahead: Annotated[int, typer.Option(min=0, help="months after this one to create")] = 2,
    at: Annotated[
        str | None, typer.Option(help="the day to count from, YYYY-MM-DD (default today, UTC)")
    ] = None,
) -> None:
    """Create this month's and the next N months' partitions of every partitioned table."""
    from sinks.warehouse.db import connect
    from sinks.warehouse.migrations import require_current
    from sinks.warehouse.partitions import ensure_partitions

    conn = connect(load_settings().database_dsn, application="orion-partitions")
    try:
        require_current(conn)
        created = ensure_partitions(conn, _today(at, "--at"), months_ahead)
    finally:
        conn.close()
    for table, n in created.items():
        out.print(f"{table}: {n} partition(s) created")


@partitions_app.command("retire")
def retire(
    export_to: Annotated[
        str,
        typer.Option(help="s3://bucket/prefix for the Parquet exports (s3:/// = ORION_S3_BUCKET)"),
    ],
    older_than: Annotated[
        int, typer.Option(min=1, help="retention in months: retire months before this many ago")
    ] = 24,
    at: Annotated[
        str | None, typer.Option(help="the day to count from, YYYY-MM-DD (default today, UTC)")
    ] = None,
) -> None:
    """Detach each month past retention, export it to S3 Parquet, verify the rows, drop it."""
    from sinks.warehouse.db import connect
    from sinks.warehouse.migrations import require_current
    from sinks.warehouse.partitions import PARTITIONED, months_before, partitions, retire_partition

    settings = load_settings()
    bucket, prefix = parse_s3_url(export_to, "--export-to", settings.s3_bucket)
    cutoff = months_before(_today(at, "--at"), older_than)
    storage = storage_for(settings, bucket)
    conn = connect(settings.database_dsn, application="orion-partitions")
    try:
        require_current(conn)
        table = Table("partition", "rows", "exported to")
        done = 0
        for family in PARTITIONED:
            for part in partitions(conn, family):
                if part.month >= cutoff:
                    continue
                r = retire_partition(conn, storage, part, prefix)
                table.add_row(r.name, str(r.rows), f"s3://{bucket}/{r.key}")
                done += 1
    finally:
        conn.close()
        storage.close()
    out.print(table)
    out.print(f"{done} partition(s) before {cutoff:%Y-%m} retired")


def vacuum() -> None:
    """VACUUM (ANALYZE) the tables the loader and the dq sink churn."""
    from sinks.warehouse.db import connect
    from sinks.warehouse.upkeep import vacuum_analyze

    conn = connect(load_settings().database_dsn, application="orion-vacuum")
    try:
        tables = vacuum_analyze(conn)
    finally:
        conn.close()
    out.print(f"vacuumed and analysed {len(tables)} tables")


def check_scd2() -> None:
    """Exit 1 when a business key of an SCD2 dimension has more than one current row."""
    from sinks.warehouse.db import connect
    from sinks.warehouse.upkeep import check_scd2 as check

    conn = connect(load_settings().database_dsn, application="orion-check-scd2")
    try:
        found = check(conn)
    finally:
        conn.close()
    if not found:
        out.print("SCD2: every business key has at most one current row")
        return
    table = Table("table", "key", "current rows")
    for v in found:
        table.add_row(v.table, v.key, str(v.current_rows))
    out.print(table)
    out.print(f"SCD2: {len(found)} key(s) with more than one current row")
    raise typer.Exit(1)


def backup_s3(
    to: Annotated[
        str, typer.Argument(help="s3://bucket/key of the dump (s3:/// = ORION_S3_BUCKET)")
    ],
) -> None:
    """Dump the warehouse to S3 with its table checksums (same snapshot); skip if already there."""
    from sinks.warehouse.verified_backup import backup_to_s3

    settings = load_settings()
    bucket, key = parse_s3_url(to, "TO", settings.s3_bucket)
    storage = storage_for(settings, bucket)
    try:
        r = backup_to_s3(settings.database_dsn, storage, key)
    finally:
        storage.close()
    if r.taken:
        out.print(f"backup written to s3://{bucket}/{key} ({r.bytes} bytes, {r.tables} tables, "
                  f"{r.rows} rows)")  # fmt: skip
    else:
        out.print(f"s3://{bucket}/{key} already holds a complete backup ({r.rows} rows): kept")


def verify(
    backup: Annotated[str, typer.Argument(help="s3://bucket/key that `backup-s3` wrote")],
) -> None:
    """Restore a backup into a scratch database and compare every table's checksum."""
    from sinks.warehouse.verified_backup import verify_backup

    settings = load_settings()
    bucket, key = parse_s3_url(backup, "BACKUP", settings.s3_bucket)
    storage = storage_for(settings, bucket)
    try:
        sums = verify_backup(settings.database_dsn, storage, key)
    finally:
        storage.close()
    out.print(
        f"s3://{bucket}/{key}: restored, {len(sums)} tables and "
        f"{sum(n for n, _ in sums.values())} rows match their checksums"
    )
