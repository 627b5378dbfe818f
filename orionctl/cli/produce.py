"""``orion produce``: run the simulated source systems against Kafka."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orion.exceptions import ConfigurationError
from orion.settings import load_settings
from orionctl.cli.console import err, out
from orionctl.cli.service import service, stop_on_signals

SOURCES = ("erp", "crm", "finance", "supplier", "iot")
log = logging.getLogger("orion.produce")


def parse_sources(value: str) -> frozenset[str]:
    names = {s.strip().lower() for s in value.split(",") if s.strip()}
    if names == {"all"}:
        return frozenset(SOURCES)
    unknown = sorted(names - set(SOURCES))
    if unknown or not names:
        raise ConfigurationError(
            f"unknown source(s): {', '.join(unknown) or '(none given)'}",
            fix=f"use a comma-separated list of {', '.join(SOURCES)}, or all",
        )
    return frozenset(names)


def produce(
    sources: Annotated[str, typer.Option(help="erp,crm,finance,supplier,iot or all")] = "all",
    events: Annotated[int | None, typer.Option(min=1, help="stop after N events")] = None,
    duration: Annotated[float | None, typer.Option(help="stop after S seconds")] = None,
    rate: Annotated[float | None, typer.Option(help="events per second (default 1000)")] = None,
    max_rate: Annotated[bool, typer.Option("--max-rate", help="send as fast as possible")] = False,
    seed: Annotated[int, typer.Option(help="same seed, same events")] = 42,
    defect_rate: Annotated[float, typer.Option(help="share of events with a defect")] = 0.10,
    ledger: Annotated[Path | None, typer.Option(help="write the ground-truth ledger here")] = None,
) -> None:
    """Publish simulated ERP, CRM, Finance, Supplier and IoT events (until stopped by default)."""
    # The stage package is imported here, not at the top, so that the shared
    # package never depends on a stage at import time.
    from producers.runner import ProduceOptions, ProduceStats, run
    from producers.simulation import SimulationConfig

    chosen = parse_sources(sources)
    if events is not None and duration is not None:
        raise ConfigurationError("--events and --duration exclude each other", fix="give one")
    if duration is not None and duration <= 0:
        raise ConfigurationError(f"--duration must be > 0, got {duration}")
    if rate is not None and max_rate:
        raise ConfigurationError("--rate and --max-rate exclude each other", fix="give one")
    if rate is not None and rate <= 0:
        raise ConfigurationError(f"--rate must be > 0 events per second, got {rate}")
    if not 0.0 <= defect_rate <= 1.0:
        raise ConfigurationError(f"--defect-rate must be between 0 and 1, got {defect_rate}")
    settings = load_settings()
    sim = SimulationConfig(sources=chosen, seed=seed, defect_rate=defect_rate, total_events=events)
    options = ProduceOptions(
        events=events,
        duration_s=duration,
        rate=None if max_rate else (rate or 1000.0),
        ledger=ledger,
    )
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
            task = progress.add_task("produce", total=events, rate=0.0)
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
