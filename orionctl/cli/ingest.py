"""``orion ingest files``: export files in the S3 landing zone to raw events.

A thin wrapper over :mod:`producers.landing`; the stage package is imported
inside the command, so the shared package never depends on a stage at
import time.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from orion.durations import parse_duration
from orion.metrics import Heartbeat
from orion.settings import load_settings, load_stage_settings
from orionctl.cli.console import err, out
from orionctl.cli.service import service, stop_on_signals

if TYPE_CHECKING:
    from producers.landing.ingester import PassResult
    from producers.landing.zone import LandingZone

ingest_app = typer.Typer(help="Ingest what systems export as files.", no_args_is_help=True)


@ingest_app.command("files")
def ingest_files(
    watch: Annotated[
        bool, typer.Option("--watch", help="run as a service: look again every --interval")
    ] = False,
    interval: Annotated[
        str | None, typer.Option(help="with --watch, the pause after an empty look, e.g. 10s")
    ] = None,
    bucket: Annotated[
        str | None, typer.Option(help="bucket of the landing zone (default ORION_S3_BUCKET)")
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX: the sheet to read (default first)")] = (
        None
    ),
    max_file_mib: Annotated[
        float | None, typer.Option(min=0.001, help="reject larger files unread")
    ] = None,
) -> None:
    """Publish every row of every file under landing/<domain>/<entity>/ as a raw event.

    Each file then moves to processed/<day>/ or rejected/<day>/ beside a JSON
    report. Without --watch: one pass over what is there now, then exit (1 when
    a file had to be left to try again). Options not given fall back to
    ORION_INGEST_<FIELD>, then to producers/landing/configuration.py.
    """
    from producers.landing.configuration import IngestConfig
    from producers.landing.ingester import Ingester

    settings = load_settings()
    config = load_stage_settings(
        IngestConfig,
        bucket=bucket,
        interval_s=None if interval is None else parse_duration(interval),
        sheet=sheet,
        max_file_bytes=None if max_file_mib is None else int(max_file_mib * 1024 * 1024),
    )
    with service("ingester", settings) as endpoint, stop_on_signals() as stop:
        ingester = Ingester(settings, config, stop=stop)
        where = f"s3://{ingester.zone.bucket}/landing/"
        try:
            if not watch:
                result = ingester.run_pass()
                _summary(result)
                if result.left:
                    raise typer.Exit(1)
                return
            err.print(f"ingester: watching {where}, metrics on http://{endpoint.address}/metrics")
            heartbeat = Heartbeat(stall_after_s=max(60.0, 3 * config.interval_s))
            heartbeat.beat(1)
            endpoint.set_readiness(heartbeat.ready)

            def on_pass(result: PassResult) -> None:
                heartbeat.beat(1)
                if result.pending:
                    err.print(
                        f"pass: {result.pending} pending, {dict(result.decided)} decided, "
                        f"{result.rows} rows published, {result.left} left"
                    )

            ingester.watch(on_pass)
        finally:
            ingester.close()


def _zone(bucket: str | None) -> LandingZone:
    from orion.s3 import client
    from producers.landing.zone import LandingZone

    settings = load_settings()
    zone = LandingZone(client(settings, timeout_s=30), bucket or settings.s3_bucket)
    zone.check()
    return zone


@ingest_app.command("pending")
def pending(
    bucket: Annotated[
        str | None, typer.Option(help="bucket of the landing zone (default ORION_S3_BUCKET)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON list of keys")] = False,
) -> None:
    """List the files waiting under landing/ (what a scheduler's sensor waits for)."""
    keys = [o.key for o in _zone(bucket).pending()]
    if as_json:
        typer.echo(json.dumps(keys))
        return
    for key in keys:
        out.print(key, highlight=False)
    out.print(f"{len(keys)} file(s) pending")


@ingest_app.command("check")
def check(
    keys: Annotated[list[str], typer.Argument(help="landing/ keys an ingest pass was given")],
    bucket: Annotated[
        str | None, typer.Option(help="bucket of the landing zone (default ORION_S3_BUCKET)")
    ] = None,
) -> None:
    """Exit 1 unless every KEY moved from landing/ to processed/ or rejected/ (since yesterday)."""
    zone = _zone(bucket)
    today = dt.datetime.now(dt.UTC).date()
    days = (today, today - dt.timedelta(days=1))
    missing = []
    for key in keys:
        target = zone.where_decided(key, days)
        if target is None:
            missing.append(key)
        else:
            out.print(f"{key} -> {target}", highlight=False)
    if missing:
        out.print(f"{len(missing)} file(s) not decided: {', '.join(missing)}", highlight=False)
        raise typer.Exit(1)
    out.print(f"all {len(keys)} file(s) decided")


def _summary(result: PassResult) -> None:
    table = Table("file", "verdict", "rows", "published", "row errors", "reason")
    for r in result.reports:
        table.add_row(
            r.key,
            r.verdict,
            str(r.data_rows),
            str(r.published),
            str(r.row_error_count),
            r.reason or "",
        )
    out.print(table)
    out.print(
        f"{result.pending} file(s): {result.decided['processed']} processed, "
        f"{result.decided['rejected']} rejected, {result.left} left to try again; "
        f"{result.rows} rows published"
    )
