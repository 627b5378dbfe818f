"""``orion stack up | down | status | logs``: the backing services without Docker."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from orionctl.cli.console import err, out
from orionctl.stack.config import load_stack_config

if TYPE_CHECKING:
    from orionctl.stack.manager import ComponentStatus

app = typer.Typer(
    help="Install, start, check and stop the local stack (no Docker needed).", no_args_is_help=True
)


def _print_status(rows: list[ComponentStatus]) -> None:
    table = Table(title="orion local stack")
    for col in ("service", "state", "pid", "endpoint", "RSS MiB"):
        table.add_column(col)
    for r in rows:
        state = (
            "[green]healthy[/]"
            if r.healthy
            else ("[yellow]unhealthy[/]" if r.pid else "[red]down[/]")
        )
        table.add_row(
            r.name,
            state,
            str(r.pid or "-"),
            r.endpoint,
            f"{r.rss_mib:.0f}" if r.rss_mib is not None else "-",
        )
    out.print(table)


@app.command()
def up(
    with_: Annotated[
        list[str] | None,
        typer.Option(
            "--with",
            help="also start an optional component: airflow (api-server, scheduler, "
            "dag-processor, DAG exporter); remembered until `down --purge`",
        ),
    ] = None,
    brokers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=5,
            help="Kafka nodes (combined broker+controller, kafka-1..N; 3: replication factor 3, "
            "min.insync.replicas 2); remembered until `down --purge`",
        ),
    ] = None,
) -> None:
    """Install on first use, start what is down, wait until healthy, write the endpoints file."""
    from orionctl.stack import manager  # not at the top: cryptography, for every orion command

    cfg = load_stack_config()
    rows = manager.up(
        cfg,
        report=lambda msg: err.print(f"[dim]stack:[/] {msg}"),
        with_extras=tuple(with_ or ()),
        brokers=brokers,
    )
    _print_status(rows)
    out.print(f"endpoints written to {cfg.env_file}")


@app.command()
def down(
    purge: Annotated[bool, typer.Option(help="also delete the stack's data and logs")] = False,
) -> None:
    """Stop the processes the stack started; keep their data unless --purge."""
    from orionctl.stack import manager  # not at the top: cryptography, for every orion command

    cfg = load_stack_config()
    stopped = manager.down(cfg, purge=purge, report=lambda msg: err.print(f"[dim]stack:[/] {msg}"))
    if not stopped:
        out.print("nothing was running")


@app.command()
def restart(
    name: Annotated[
        str, typer.Argument(help="the service, e.g. postgres, kafka-2 (kafka: every node)")
    ],
    down_for: Annotated[
        float, typer.Option(min=0.0, help="seconds to keep it stopped (fault drills)")
    ] = 0.0,
) -> None:
    """Stop one service and start it again; wait until the whole stack is healthy."""
    from orionctl.stack import manager  # not at the top: cryptography, for every orion command

    cfg = load_stack_config()
    rows = manager.restart(cfg, name, down_for_s=down_for,
                           report=lambda msg: err.print(f"[dim]stack:[/] {msg}"))  # fmt: skip
    _print_status(rows)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Show each service's state; exit 1 unless all are healthy."""
    from orionctl.stack import manager  # not at the top: cryptography, for every orion command

    rows = manager.status(load_stack_config())
    if as_json:
        out.print_json(json.dumps([r.__dict__ for r in rows]))
    else:
        _print_status(rows)
    if not all(r.healthy for r in rows):
        raise typer.Exit(1)


@app.command()
def logs(
    service: Annotated[
        str,
        typer.Argument(
            help="kafka (kafka-1..N on a cluster; kafka: each node's), registry, postgres, s3, "
            "prometheus, airflow-api-server, "
            "airflow-scheduler, airflow-dag-processor or dag-exporter"
        ),
    ],
    lines: Annotated[int, typer.Option("-n", "--lines", min=1)] = 50,
) -> None:
    """Print the last lines of one service's log."""
    from orionctl.stack import manager  # not at the top: cryptography, for every orion command

    typer.echo(manager.logs(load_stack_config(), service, lines))  # raw: never re-wrapped
