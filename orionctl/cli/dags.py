"""``orion dags record-success | last-success``: the scheduled DAGs' last successes.

The DAGs in ``deploy/airflow/dags/`` end with ``record-success``; the DAG
exporter (``last-success --serve``) serves the times to Prometheus. Logic in
:mod:`orionctl.ops.dag_runs`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from orion.settings import load_settings
from orionctl.cli.console import out
from orionctl.cli.replay import parse_datetime
from orionctl.cli.service import service, stop_on_signals
from orionctl.ops import dag_runs

dags_app = typer.Typer(help="The scheduled (Airflow) DAGs' last successes.", no_args_is_help=True)


@dags_app.command("record-success")
def record_success(
    dag: Annotated[str, typer.Argument(help="the DAG id, e.g. warehouse_maintenance")],
    logical_date: Annotated[
        str, typer.Option(help="the run's logical date, ISO 8601 (Airflow's {{ logical_date }})")
    ],
) -> None:
    """Record that DAG succeeded now (its final task calls this)."""
    when = parse_datetime(logical_date)
    row = dag_runs.record_success(load_settings().database_dsn, dag, when)
    out.print(
        f"{row.dag_id}: succeeded at {row.succeeded_at.isoformat()} "
        f"(latest logical date {row.logical_date.isoformat()})",
        highlight=False,
    )


@dags_app.command("last-success")
def last_success(
    serve: Annotated[
        bool, typer.Option("--serve", help="run as a service exporting the gauge to Prometheus")
    ] = False,
    marker: Annotated[
        str | None, typer.Option(hidden=True, help="ignored: tells the stack its process")
    ] = None,
) -> None:
    """Each DAG's last success; with --serve, orion_dag_last_success_timestamp_seconds."""
    _ = marker
    settings = load_settings()
    if serve:
        from prometheus_client import REGISTRY

        REGISTRY.register(dag_runs.DagSuccessCollector(settings.database_dsn))
        with service("dag-exporter", settings), stop_on_signals() as stop:
            stop.wait()
        return
    now = dt.datetime.now(dt.UTC)
    table = Table("dag", "last success", "age", "logical date")
    for r in dag_runs.last_successes(settings.database_dsn):
        age = now - r.succeeded_at
        table.add_row(
            r.dag_id, r.succeeded_at.isoformat(), str(age).split(".")[0], r.logical_date.isoformat()
        )
    out.print(table)
