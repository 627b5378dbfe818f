"""``orion sink silver`` and ``orion silver query``: the silver layer (Parquet in S3).

``orion sink silver`` joins the ``sink`` group of :mod:`orionctl.cli.s3sink`
(registered in ``orionctl/cli/main.py``). Thin wrappers over
:mod:`sinks.silver`; the stage package is imported inside each command, so
the CLI's import stays cheap.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orion.settings import load_settings, load_stage_settings
from orionctl.cli.console import out
from orionctl.cli.s3sink import parse_topics
from orionctl.cli.service import run_sink, run_summary

silver_app = typer.Typer(
    help="The silver layer: clean records as Parquet in S3.", no_args_is_help=True
)


def sink_silver(
    topics: Annotated[
        str | None, typer.Option(help="comma-separated topics (default: every clean.* topic)")
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="consumer group, put under ORION_TOPIC_PREFIX")
    ] = None,
    instance_id: Annotated[
        str | None,
        typer.Option(help="static group member id (e.g. the pod name): fast restarts"),
    ] = None,
    max_records: Annotated[int | None, typer.Option(help="rotate after N records")] = None,
    max_mib: Annotated[float | None, typer.Option(help="rotate after N MiB buffered")] = None,
    max_age: Annotated[float | None, typer.Option(help="rotate after S seconds")] = None,
    retry_after: Annotated[
        float | None, typer.Option(help="seconds a partition pauses after S3 failed")
    ] = None,
) -> None:
    """Write every clean record to S3 silver as Parquet, exactly once, until stopped.

    Options not given fall back to ORION_SILVER_SINK_<FIELD>, then to the
    defaults of sinks/silver/configuration.py; bad values stop here, named.
    """
    from sinks.silver import SilverSinkConfig, run_silver_sink
    from sinks.silver.configuration import DEFAULT_GROUP

    settings = load_settings()
    config = load_stage_settings(
        SilverSinkConfig,
        topics=parse_topics(topics, settings.topic_prefix, "clean"),
        topic_prefix=settings.topic_prefix,
        group=settings.topic_prefix + (group or DEFAULT_GROUP),
        instance_id=instance_id,
        max_records=max_records,
        max_bytes=None if max_mib is None else int(max_mib * 1024 * 1024),
        max_age_s=max_age,
        retry_after_s=retry_after,
    )
    run_sink(
        "silver-sink",
        settings,
        f"{len(config.topics)} topic(s) to s3://{settings.s3_bucket}/{config.prefix}/",
        lambda stop, heartbeat: run_silver_sink(settings, config, stop, heartbeat=heartbeat),
        run_summary("wrote"),
    )


@silver_app.command("query")
def silver_query(
    sql: Annotated[str, typer.Argument(help="SQL over the views, e.g. erp_sales, iot_telemetry")],
    prefix: Annotated[
        str | None, typer.Option(help="silver prefix in the bucket (default: the sink's)")
    ] = None,
) -> None:
    """Run DuckDB SQL over silver; every entity is a view named like erp_sales (plus dt)."""
    from sinks.silver.configuration import SilverSinkConfig
    from sinks.silver.query import query

    settings = load_settings()
    default = SilverSinkConfig.model_fields["prefix"].default
    result = query(settings, sql, prefix or str(default))
    table = Table()
    for col in result.columns:
        table.add_column(col)
    for row in result.rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    out.print(table)
