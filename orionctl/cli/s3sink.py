"""``orion sink s3``, ``orion archive`` and ``orion replay archive``: the bronze archive.

``orion replay archive`` joins the ``replay`` group of :mod:`orionctl.cli.replay`
(registered in ``orionctl/cli/main.py``); ``python -m orionctl.cli.s3sink`` runs
these commands on their own, with the same error handling as ``orion``.

Thin wrappers over :mod:`sinks.s3` and :mod:`sinks.archive`; the stage
package is imported inside each command, so the shared package never
depends on a stage at import time.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from orion.catalog import entities
from orion.durations import parse_timedelta
from orion.exceptions import ConfigurationError
from orion.settings import load_settings, load_stage_settings
from orionctl.cli.console import err, out
from orionctl.cli.service import run_sink, run_summary

sink_app = typer.Typer(help="Sinks that consume the pipeline's topics.", no_args_is_help=True)


def parse_topics(value: str | None, prefix: str = "", layer: str = "raw") -> tuple[str, ...]:
    """Comma-separated topics (full names), or every ``<layer>.*`` topic under the prefix."""
    if value is None:
        return tuple(prefix + e.topic(layer) for e in entities())
    topics = tuple(t.strip() for t in value.split(",") if t.strip())
    if not topics:
        raise ConfigurationError("--topics is empty", fix="name at least one topic")
    return topics


def parse_date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise ConfigurationError(
            f"{option} must be a date YYYY-MM-DD, got {value!r}", fix="e.g. 2025-01-31"
        ) from e


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )


@sink_app.command("s3")
def sink_s3(
    topics: Annotated[
        str | None, typer.Option(help="comma-separated topics (default: every raw.* topic)")
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="consumer group, put under ORION_TOPIC_PREFIX")
    ] = None,
    instance_id: Annotated[
        str | None,
        typer.Option(help="static group member id (e.g. the pod name): fast restarts"),
    ] = None,
    max_records: Annotated[int | None, typer.Option(min=1, help="rotate after N records")] = None,
    max_mib: Annotated[
        float | None, typer.Option(min=0.01, help="rotate after N MiB buffered")
    ] = None,
    max_age: Annotated[float | None, typer.Option(min=0.05, help="rotate after S seconds")] = None,
    multipart_mib: Annotated[
        float | None, typer.Option(min=5.0, help="objects above N MiB go up in parts")
    ] = None,
    retry_after: Annotated[
        float | None, typer.Option(min=0.01, help="seconds a partition pauses after S3 failed")
    ] = None,
) -> None:
    """Archive every record of the raw topics to S3 bronze, exactly once, until stopped.

    Options not given fall back to ORION_S3_SINK_<FIELD>, then to the defaults of
    sinks/s3/configuration.py (rotation: sinks/base/batch.py BatchLimits).
    """
    from sinks.base import BatchLimits
    from sinks.s3 import S3SinkConfig, run_s3_sink
    from sinks.s3.configuration import DEFAULT_GROUP

    settings = load_settings()
    rotation: dict[str, Any] = {
        k: v
        for k, v in {
            "max_records": max_records,
            "max_bytes": None if max_mib is None else int(max_mib * 1024 * 1024),
            "max_age_s": max_age,
        }.items()
        if v is not None
    }
    config = load_stage_settings(
        S3SinkConfig,
        topics=parse_topics(topics, settings.topic_prefix),
        group=settings.topic_prefix + (group or DEFAULT_GROUP),
        instance_id=instance_id,
        limits=BatchLimits(**rotation) if rotation else None,
        multipart_threshold=None if multipart_mib is None else int(multipart_mib * 1024 * 1024),
        retry_after_s=retry_after,
    )
    run_sink(
        "s3-sink",
        settings,
        f"{len(config.topics)} topic(s) to s3://{settings.s3_bucket}/{config.prefix}/",
        lambda stop, heartbeat: run_s3_sink(settings, config, stop, heartbeat=heartbeat),
        run_summary("archived"),
    )


def archive(
    older_than: Annotated[str, typer.Option(help="compact days older than this, e.g. 30d")] = "30d",
    execute: Annotated[
        bool, typer.Option("--execute", help="apply the plan (default: dry run)")
    ] = False,
    topics: Annotated[
        str | None, typer.Option(help="comma-separated topics (default: all)")
    ] = None,
    max_mib: Annotated[float, typer.Option(min=1.0, help="target size of archive objects")] = 256.0,
    before: Annotated[
        str | None,
        typer.Option(
            help="compact days before this date, YYYY-MM-DD, instead of --older-than "
            "(a scheduler's logical date minus the retention: the same run does the same days)"
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="then check every archived day in [--since, cutoff) against its manifest "
            "and bronze; exit 1 on a problem",
        ),
    ] = False,
    since: Annotated[
        str | None, typer.Option(help="with --verify: first day, YYYY-MM-DD (default cutoff - 7d)")
    ] = None,
) -> None:
    """Compact old bronze days into large archive objects and a manifest (dry run by default)."""
    from sinks.archive import ArchiveOptions, compact, plan_compaction
    from sinks.base.storage import S3Storage, s3_client
    from sinks.s3 import metrics as bronze_metrics

    settings = load_settings()
    cutoff = (
        parse_date(before, "--before")
        if before
        else dt.datetime.now(dt.UTC).date() - parse_timedelta(older_than)
    )
    storage = S3Storage(
        s3_client(settings, timeout_s=60), settings.s3_bucket, counters=bronze_metrics.STORAGE
    )
    try:
        storage.check_bucket(settings.s3_access_key)
        chosen = tuple(t.strip() for t in topics.split(",")) if topics else None
        plan = plan_compaction(storage, cutoff, topics=chosen)
        table = Table(title=f"bronze days before {cutoff.isoformat()}")
        for col in ("topic", "date", "partition", "bronze objects", "covered"):
            table.add_column(col)
        for day in plan:
            table.add_row(
                day.topic,
                day.date.isoformat(),
                str(day.partition),
                str(len(day.sources)),
                str(len(day.covered)),
            )
        out.print(table)
        if not execute:
            out.print(f"dry run: {len(plan)} partition-day(s) to compact; add --execute to apply")
            if verify:
                _verify(storage, parse_date(since, "--since") if since else None, cutoff)
            return
        progress = _progress("archiving")
        with progress:
            task = progress.add_task("archive", total=len(plan))
            results = []
            for day in plan:
                results.append(
                    compact(storage, day, ArchiveOptions(max_bytes=int(max_mib * 2**20)))
                )
                progress.advance(task)
        records = sum(r.records for r in results)
        out.print(
            f"archived {records} records from {sum(r.deleted for r in results)} bronze objects "
            f"into {sum(r.archive_objects for r in results)} archive objects"
        )
        if verify:
            _verify(storage, parse_date(since, "--since") if since else None, cutoff)
    finally:
        storage.close()


def _verify(storage: Any, first: dt.date | None, cutoff: dt.date) -> None:
    """Print each archived day's check; exit 1 when any has a problem."""
    from sinks.archive.verify import verify_archive

    start = first or cutoff - dt.timedelta(days=7)
    days = verify_archive(storage, start, cutoff)
    table = Table(title=f"archived days {start.isoformat()} .. {cutoff.isoformat()} (excl.)")
    for col in ("topic", "date", "objects", "records", "problems"):
        table.add_column(col)
    for d in days:
        table.add_row(
            d.topic, d.date.isoformat(), str(d.objects), str(d.records), "; ".join(d.problems)
        )
    out.print(table)
    bad = [d for d in days if d.problems]
    out.print(
        f"verified {len(days)} archived day(s), {sum(d.records for d in days)} records: "
        + (f"{len(bad)} with problems" if bad else "manifests match")
    )
    if bad:
        raise typer.Exit(1)


def replay_archive(
    topic: Annotated[str, typer.Option(help="the archived topic")],
    from_date: Annotated[str, typer.Option("--from", help="first record date, YYYY-MM-DD")],
    to_date: Annotated[str, typer.Option("--to", help="last record date, YYYY-MM-DD")],
    target_topic: Annotated[
        str | None, typer.Option(help="publish here instead of the original topic")
    ] = None,
) -> None:
    """Re-publish archived records byte for byte (key, value, headers, timestamp), in order."""
    from sinks.archive import replay
    from sinks.base.storage import S3Storage, s3_client
    from sinks.s3 import metrics as bronze_metrics

    first, last = parse_date(from_date, "--from"), parse_date(to_date, "--to")
    if last < first:
        raise ConfigurationError("--to is before --from", fix="swap them")
    settings = load_settings()
    storage = S3Storage(
        s3_client(settings, timeout_s=60), settings.s3_bucket, counters=bronze_metrics.STORAGE
    )
    try:
        storage.check_bucket(settings.s3_access_key)
        progress = _progress("replaying")
        with progress:
            task = progress.add_task("replay", total=None)

            def on_object(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            stats = replay(
                settings, storage, topic, first, last, target_topic or topic, on_object=on_object
            )
    finally:
        storage.close()
    out.print(
        f"replayed {stats.records} records from {stats.objects} objects to "
        f"{target_topic or topic} ({stats.duplicates} duplicate offsets skipped)"
    )
