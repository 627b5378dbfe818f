"""``orion produce``: run the simulated source systems against Kafka."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orion.settings import load_settings
from orionctl.cli.console import err, out
from orionctl.cli.service import service, stop_on_signals

if TYPE_CHECKING:
    from producers.configuration import ProducerSettings

log = logging.getLogger("orion.produce")


def produce(
    sources: Annotated[
        str | None, typer.Option(help="comma-separated source systems, e.g. erp,crm, or all")
    ] = None,
    events: Annotated[int | None, typer.Option(help="stop after N events, e.g. 100000")] = None,
    duration: Annotated[
        str | None, typer.Option(help="or stop after this long, e.g. 90s, 2h (plain: seconds)")
    ] = None,
    rate: Annotated[float | None, typer.Option(help="events per second, e.g. 1000")] = None,
    max_rate: Annotated[
        bool | None, typer.Option("--max-rate", help="send as fast as possible")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="same seed, same events, e.g. 7")] = None,
    defect_rate: Annotated[
        float | None, typer.Option(help="share of events with a defect (0-1), e.g. 0.1")
    ] = None,
    ledger: Annotated[Path | None, typer.Option(help="write the ground-truth ledger here")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="processes encoding and sending, e.g. 2 (default 1: all in one process);"
            " the same events and ledger whatever the number"
        ),
    ] = None,
    to_files: Annotated[
        str | None,
        typer.Option(
            help="write landing-zone export files (CSV, JSON, JSONL, XLSX) to this directory"
            " or s3://bucket/prefix instead of Kafka; needs --events or --duration"
        ),
    ] = None,
) -> None:
    """Publish simulated ERP, CRM, Finance, Supplier and IoT events (until stopped by default).

    With --to-files, write them as the export files those systems would drop in
    the landing zone instead (the ledger then holds the ids the file ingester
    derives). Every option falls back to ORION_PRODUCER_<NAME>, e.g.
    ORION_PRODUCER_RATE. Defaults and checks: producers/configuration.py.
    """
    # The stage package is imported here, not at the top, so that the shared
    # package never depends on a stage at import time.
    from producers.configuration import load_producer_settings
    from producers.runner import ProduceStats, run

    config = load_producer_settings(
        sources=sources, events=events, duration_s=duration, rate=rate, max_rate=max_rate,
        seed=seed, defect_rate=defect_rate, ledger=ledger, to_files=to_files, workers=workers,
    )  # fmt: skip
    if config.to_files is not None:
        _export(config.to_files, config)
        return
    settings = load_settings()
    sim = config.simulation_config()
    options = config.produce_options()
    with service("producer", settings), stop_on_signals() as stop:
        progress = Progress(
            TextColumn("producing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[rate]:>8.0f} ev/s"),
            console=err,
            disable=not err.is_terminal,
        )
        started = time.monotonic()

        def show(stats: ProduceStats) -> None:
            rate = stats.sent / max(time.monotonic() - started, 1e-9)
            progress.update(task, completed=stats.sent, rate=rate)

        with progress:
            task = progress.add_task("produce", total=config.events, rate=0.0)
            stats = run(settings, sim, options, stop, on_progress=show)
    table = Table(title="produced")
    for col in ("topic", "events"):
        table.add_column(col)
    for topic, n in sorted(stats.by_topic.items()):
        table.add_row(topic, str(n))
    out.print(table)
    out.print(
        f"sent {stats.sent}, delivered {stats.delivered}, retried {stats.retried}, "
        f"failed {stats.failed} in {stats.elapsed_s:.1f}s ({stats.rate:.0f} events/s, "
        f"{stats.bytes / max(stats.sent, 1):.0f} bytes/event)"
    )
    log.info(
        "produce finished",
        extra={"sent": stats.sent, "delivered": stats.delivered, "failed": stats.failed},
    )
    if stats.failed:
        raise typer.Exit(1)


def _export(to_files: str, config: ProducerSettings) -> None:
    """``--to-files``: no Kafka, no service endpoint; S3 settings only for an s3:// target."""
    from producers.exports.storage import LocalStorage, S3Storage, Storage, parse_target
    from producers.exports.writer import run_export

    target = parse_target(to_files)
    storage: Storage
    if isinstance(target, Path):
        storage = LocalStorage(target)
    else:
        from orion import s3  # boto3: only for an s3:// target (~0.3 s of every start-up)

        storage = S3Storage(s3.client(load_settings()), target)
    with stop_on_signals() as stop:
        stats = run_export(config.simulation_config(), config.export_options(), storage, stop)
    table = Table(title="exported")
    for col in ("format", "files", "rows", "bytes"):
        table.add_column(col, justify="left" if col == "format" else "right")
    for fmt in sorted(stats.files):
        table.add_row(
            fmt, str(stats.files[fmt]), str(stats.rows_by_format[fmt]),
            str(stats.bytes_by_format[fmt]),
        )  # fmt: skip
    out.print(table)
    out.print(f"to {storage.describe()}", soft_wrap=True)
    out.print(
        f"events {stats.events}, rows {stats.rows} in {sum(stats.files.values())} files, "
        f"{sum(stats.bytes_by_format.values())} bytes, poison left out {stats.poison_skipped}, "
        f"in {stats.elapsed_s:.1f}s ({stats.rate:.0f} rows/s)"
    )
    log.info(
        "export finished",
        extra={"events": stats.events, "rows": stats.rows, "files": sum(stats.files.values())},
    )
