"""``orion sink dq`` and ``orion dq``: data-quality outcomes and their scorecard.

Thin wrappers over :mod:`sinks.dq`; the stage package is imported inside each
command, so the CLI's import stays cheap. ``orion sink dq`` joins the ``sink``
group (registered in ``orionctl/cli/main.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from orion.durations import parse_timedelta
from orion.settings import load_settings, load_stage_settings
from orionctl.cli.console import out
from orionctl.cli.service import run_sink


def sink_dq(
    topics: Annotated[
        str | None,
        typer.Option(help="comma-separated topics (default: every raw.*, clean.* and dlq.*)"),
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
) -> None:
    """Count events in, accepted, repaired, duplicates and rejected into dq.*, until stopped.

    Options not given fall back to ORION_DQ_SINK_<FIELD>, then to the defaults
    of sinks/dq/configuration.py.
    """
    from sinks.dq import run_dq_sink
    from sinks.dq.configuration import DEFAULT_GROUP, DqSinkConfig, dq_topics

    settings = load_settings()
    chosen = (
        tuple(t.strip() for t in topics.split(",") if t.strip())
        if topics
        else dq_topics(settings.topic_prefix)
    )
    config = load_stage_settings(
        DqSinkConfig,
        topics=chosen,
        topic_prefix=settings.topic_prefix,
        group=settings.topic_prefix + (group or DEFAULT_GROUP),
        instance_id=instance_id,
        max_records=max_records,
        max_wait_s=max_wait,
    )
    run_sink(
        "sink-dq",
        settings,
        f"{len(config.topics)} topic(s) counted into dq.*",
        lambda stop, heartbeat: run_dq_sink(settings, config, stop, heartbeat),
        lambda stats: (
            f"counted {stats.records} records in {stats.batches} batches, "
            f"{stats.dead_letters} dead letters stored, "
            f"{stats.skipped} re-read and not counted again"
        ),
    )


class By(StrEnum):
    system = "system"
    entity = "entity"
    rule = "rule"


class DqFormat(StrEnum):
    table = "table"
    json = "json"


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return v


def _cell(column: str, v: Any) -> str:
    if v is None:
        return "-" if column.endswith(("_trend", "trend")) else ""
    if column.endswith("trend"):
        return f"{v:+.2f}"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def _merged(columns: list[str], rows: list[tuple[Any, ...]]) -> tuple[list[str], list[list[str]]]:
    """Each ``<x>_pct``/``pct`` column with its trend beside it as one cell: ``5.00 (+0.25)``."""
    trends = {c: c.replace("trend", "pct") for c in columns if c.endswith("trend")}
    shown = [c for c in columns if c not in trends]
    out_rows = []
    for r in rows:
        values = dict(zip(columns, r, strict=True))
        cells = []
        for c in shown:
            cell = _cell(c, values[c])
            trend = next((t for t, p in trends.items() if p == c), None)
            if trend is not None and values[c] is not None:
                cell += f" ({_cell(trend, values[trend])})"
            cells.append(cell)
        out_rows.append(cells)
    names = {"pct": "rate %"}
    return [
        names.get(c, c.removesuffix("_pct") + " %") if c.endswith("pct") else c for c in shown
    ], out_rows


def dq(
    since: Annotated[
        str, typer.Option(help="the window: hours of arrival in the last DURATION (7d, 24h)")
    ] = "7d",
    by: Annotated[By, typer.Option(help="one row per source system, entity, or rule/reason")] = (
        By.entity
    ),
    output: Annotated[DqFormat, typer.Option("--format", help="table or json")] = DqFormat.table,
    database: Annotated[
        str | None,
        typer.Option(help="another database on the same server (e.g. orion_demo)"),
    ] = None,
) -> None:
    """Defect rates of the last --since and their trend against the window before it.

    Rates are percentages of the events that came in; a trend is the change in
    percentage points against the previous window of the same length. Read from
    the dq.* functions the dq sink's counts feed (warehouse_sql/0007_dq.sql).
    """
    from orion.database_url import with_database
    from sinks.dq.scorecard import read_scorecard
    from sinks.warehouse.db import connect
    from sinks.warehouse.migrations import require_current

    window = parse_timedelta(since)
    settings = load_settings()
    login = settings.analyst_login
    dsn = with_database(login.dsn, database) if database else login.dsn
    conn = connect(dsn, application="orion-dq", variable=login.variable)
    try:
        require_current(conn)
        card = read_scorecard(conn, by.value, window)
    finally:
        conn.close()
    if output is DqFormat.json:
        doc = {
            "by": card.by,
            "since_seconds": card.since.total_seconds(),
            "until": card.until.isoformat(),
            "rows": [
                {c: _plain(v) for c, v in zip(card.columns, r, strict=True)} for r in card.rows
            ],
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    table = Table(
        title=f"data quality by {card.by}: arrivals in the last {since} to "
        f"{card.until:%Y-%m-%d %H:%M} UTC",
        caption="rates in % of events in; (+/-) the change in points against the window before",
    )
    columns, rows = _merged(card.columns, card.rows)
    for c in columns:
        table.add_column(
            c, justify="left" if c in ("name", "outcome", "rule_or_reason") else "right"
        )
    for r in rows:
        table.add_row(*r)
    out.print(table)
    if not card.rows:
        out.print("no outcomes counted in that window (is `orion sink dq` running?)")
    elif "settled" in card.columns and not all(r[card.columns.index("settled")] for r in card.rows):
        out.print(
            "settled = no: the window's last hour is recent, so duplicates may still include "
            "records in flight (not yet processed, or parked for their master data)"
        )
