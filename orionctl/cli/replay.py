"""``orion lag`` and ``orion replay kafka``: see and rewind consumer groups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from orion.durations import parse_timedelta
from orion.exceptions import ConfigurationError
from orion.settings import OrionSettings, load_settings
from orionctl.cli.console import err, out
from orionctl.cli.service import service, stop_on_signals
from orionctl.ops import exporter, offsets, sink_offsets

replay_app = typer.Typer(
    help="Replay topics: rewind a consumer group, or re-publish.", no_args_is_help=True
)


def parse_datetime(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError as e:
        raise ConfigurationError(
            f"not a date-time: {value!r}", fix="use ISO 8601, e.g. 2026-11-25T08:00:00+02:00"
        ) from e
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def lag(
    group: Annotated[
        str | None,
        typer.Option(help="one consumer group (default: all; with ORION_TOPIC_PREFIX its own)"),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="run as a service exporting the lag to Prometheus")
    ] = False,
) -> None:
    """Lag per consumer group, topic and partition, including the warehouse's offsets table."""
    settings = load_settings()
    if serve:
        _serve_lag(settings)
        return
    kafka, prefix = settings.kafka_client_config(), settings.topic_prefix
    rows = (
        [r for r in exporter.all_lag(kafka, settings.database_dsn, prefix) if r.group == group]
        if group and group.startswith(sink_offsets.GROUP_PREFIX)
        else offsets.lag(kafka, group)
        if group
        else exporter.all_lag(kafka, settings.database_dsn, prefix)
    )
    table = Table(title="consumer lag")
    for col in ("group", "topic", "partition", "committed", "end", "lag"):
        table.add_column(
            col, justify="right" if col in {"partition", "committed", "end", "lag"} else "left"
        )
    for row in rows:
        committed = "-" if row.committed is None else str(row.committed)
        table.add_row(
            row.group, row.topic, str(row.partition), committed, str(row.end), str(row.lag)
        )
    out.print(table)


@replay_app.command("kafka")
def replay_kafka(
    group: Annotated[str, typer.Option(help="the consumer group to rewind")],
    to_datetime: Annotated[str | None, typer.Option(help="ISO 8601 time to rewind to")] = None,
    by_duration: Annotated[str | None, typer.Option(help="rewind by this much, e.g. 6h")] = None,
    to_offset: Annotated[int | None, typer.Option(min=0, help="absolute offset")] = None,
    to_earliest: Annotated[bool, typer.Option("--to-earliest")] = False,
    topics: Annotated[
        str | None, typer.Option(help="comma-separated (default: the group's)")
    ] = None,
    execute: Annotated[
        bool, typer.Option("--execute", help="apply; without it, only plan")
    ] = False,
    kafka_group: Annotated[
        str, typer.Option(help="for a table:<sink> group, the Kafka group its consumers join")
    ] = "orion-warehouse-sink",
) -> None:
    """Plan (and with --execute apply) a rewind of a stopped consumer group."""
    settings = load_settings()
    target = offsets.ResetTarget(
        to_datetime=parse_datetime(to_datetime) if to_datetime else None,
        by_duration=parse_timedelta(by_duration) if by_duration else None,
        to_offset=to_offset,
        to_earliest=to_earliest,
    )
    names = [settings.topic(t.strip()) for t in topics.split(",")] if topics else None
    table_sink = (
        group.removeprefix(sink_offsets.GROUP_PREFIX)
        if group.startswith(sink_offsets.GROUP_PREFIX)
        else None
    )
    committed: dict[tuple[str, int], int | None] | None = None
    if table_sink is not None:
        stored = sink_offsets.read(settings.database_dsn).get(table_sink)
        if not stored:
            raise ConfigurationError(
                f"no offsets stored for sink {table_sink!r}",
                fix="see `orion lag` for the table:<sink> groups",
            )
        committed = dict(stored)
    plan = offsets.plan_reset(settings.kafka_client_config(), group, names, target, committed)
    table = Table(title=f"rewind of {group}" + ("" if execute else " (plan only: add --execute)"))
    for col in ("topic", "partition", "current", "new", "records to replay"):
        table.add_column(col)
    for r in plan:
        replayed = (r.current - r.new) if r.current is not None else 0
        table.add_row(
            r.topic,
            str(r.partition),
            "-" if r.current is None else str(r.current),
            str(r.new),
            str(max(replayed, 0)),
        )
    out.print(table)
    if not execute:
        return
    if table_sink is None:
        offsets.apply_reset(settings.kafka_client_config(), group, plan)
    else:
        # The sink reads its position from its table; its Kafka group only assigns
        # partitions, and must be empty so that no running loader overwrites us.
        offsets.ensure_inactive(settings.kafka_client_config(), kafka_group)
        sink_offsets.write(
            settings.database_dsn, table_sink, {(r.topic, r.partition): r.new for r in plan}
        )
    out.print(f"offsets of {group} changed; start its consumers to replay")


def _serve_lag(settings: OrionSettings) -> None:
    from prometheus_client import REGISTRY

    REGISTRY.register(
        exporter.LagCollector(
            settings.kafka_client_config(), settings.database_dsn, prefix=settings.topic_prefix
        )
    )
    with service("lag-exporter", settings), stop_on_signals() as stop:
        stop.wait()


@replay_app.command("dlq")
def replay_dlq(
    topic: Annotated[str, typer.Option(help="the DLQ topic, e.g. dlq.erp.sales")],
    reason: Annotated[str | None, typer.Option(help="only dead letters with this reason")] = None,
    execute: Annotated[
        bool, typer.Option("--execute", help="re-publish; without it, only count")
    ] = False,
) -> None:
    """Re-feed dead letters to their raw topics so the processors judge them again."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from orionctl.ops.dlq_replay import replay_dlq as run

    settings = load_settings()
    progress = Progress(
        TextColumn("dead letters"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task("read", total=None)
        result = run(
            settings,
            settings.topic(topic),
            reason,
            execute=execute,
            on_progress=lambda n, total: progress.update(task, completed=n, total=total),
        )
    table = Table(
        title=f"dead letters of {topic}" + ("" if execute else " (count only: add --execute)")
    )
    table.add_column("reason")
    table.add_column("records", justify="right")
    for code, n in sorted(result.by_reason.items()):
        table.add_row(code, str(n))
    out.print(table)
    out.print(
        f"read {result.read}, matched {sum(result.by_reason.values())}, re-published {result.sent}"
    )
