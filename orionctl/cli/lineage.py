"""``orion lineage TABLE KEY...`` and ``orion lineage --event-id ID``: a row's or an event's chain.

A thin layer over :mod:`orionctl.ops.lineage`; prints one rich tree per row
(warehouse row, clean record, raw record, bronze object) or, for an event
that did not reach the warehouse, the dead letter and why.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.tree import Tree

from orion.settings import load_settings
from orionctl.cli.console import out

_SHOWN = 8  # business values shown per row


def _ok(flag: bool | None) -> str:
    return {True: "[green]yes[/]", False: "[red]NO[/]", None: "[yellow]unknown[/]"}[flag]


def _row_label(row: Any) -> str:
    from sinks.warehouse.lineage import LINEAGE_NAMES

    values = {
        k: v
        for k, v in row.values.items()
        if k not in LINEAGE_NAMES and k not in ("loaded_at", "row_hash") and v is not None
    }
    shown = ", ".join(f"{k}={v}" for k, v in list(values.items())[:_SHOWN])
    return f"[bold]warehouse.{row.table}[/] {escape(shown)}"


def _chain_tree(parent: Tree, chain: Any, event_id: str | None) -> None:
    from orionctl.ops.lineage import describe_timestamp

    if chain.clean is not None:
        c = chain.clean
        if c.record is None:
            parent.add(f"clean {c.where}: [red]{escape(c.note)}[/]")
        else:
            same = None if event_id is None else c.event_id == event_id
            repairs = ", ".join(chain.repairs) or "none"
            parent.add(
                f"clean {c.where}: event_id {c.event_id} (matches the row: {_ok(same)}); "
                f"repairs: {escape(repairs)}" + (f" [red]{escape(c.note)}[/]" if c.note else "")
            )
    if chain.raw is not None:
        r = chain.raw
        if r.record is None:
            parent.add(f"raw {r.where}: [red]{escape(r.note)}[/]")
        else:
            same = None if event_id is None else r.event_id == event_id
            parent.add(
                f"raw {r.where} at {describe_timestamp(r.record.timestamp)}: event_id "
                f"{r.event_id} (same event: {_ok(same)})"
                + (f" [yellow]{escape(r.note)}[/]" if r.note else "")
            )
    if chain.bronze is not None:
        b = chain.bronze
        parent.add(f"bronze s3://{escape(b.key)}: record @{b.record.offset}, identical bytes to "
                   f"Kafka's: {_ok(b.identical)}")  # fmt: skip
    for note in chain.notes:
        parent.add(f"[yellow]{escape(note)}[/]")


def lineage(
    table: Annotated[
        str | None, typer.Argument(help="warehouse table, e.g. fact_sales or dim_customer")
    ] = None,
    key: Annotated[
        list[str] | None, typer.Argument(help="natural key value(s), e.g. a sale_id")
    ] = None,
    event_id: Annotated[
        str | None, typer.Option("--event-id", help="start from an event id instead")
    ] = None,
    scan_raw: Annotated[
        bool,
        typer.Option(
            help="--event-id found nowhere else: search the raw topics too (reads them whole)"
        ),
    ] = False,
    database: Annotated[
        str | None, typer.Option(help="another database on ORION_DATABASE_URL's server")
    ] = None,
) -> None:
    """Print where a warehouse row or an event came from: clean, raw, bronze, or the DLQ."""
    from orion.database_url import with_database
    from orionctl.ops.lineage import LineageTracer
    from sinks.warehouse.db import connect
    from sinks.warehouse.migrations import require_current

    if (event_id is None) == (table is None):
        raise typer.BadParameter("give TABLE KEY... or --event-id ID (one of them)")
    if table is not None and not key:
        raise typer.BadParameter("give the row's natural key after the table", param_hint="KEY")
    settings = load_settings()
    dsn = with_database(settings.database_dsn, database) if database else settings.database_dsn
    conn = connect(dsn, application="orion-lineage")
    try:
        require_current(conn)
        with LineageTracer(settings) as tracer:
            if event_id is not None:
                _print_event(tracer.of_event(conn, event_id, scan_raw=scan_raw))
                return
            assert table is not None and key
            chains = tracer.of_key(conn, table, list(key))
    finally:
        conn.close()
    if not chains:
        out.print(f"no row of {table} has the key {' '.join(key)}", highlight=False)
        raise typer.Exit(1)
    for chain in chains:
        tree = Tree(_row_label(chain.row))
        _chain_tree(tree, chain, chain.row.event_id if chain.row is not None else None)
        out.print(tree)


def _print_event(found: Any) -> None:
    top = Tree(f"[bold]event {escape(found.event_id)}[/]: {escape(found.verdict)}")
    for chain in found.chains:
        branch = top.add(_row_label(chain.row)) if chain.row is not None else top
        _chain_tree(branch, chain, found.event_id)
    for row in found.unversioned:
        top.add(_row_label(row) + " [dim](change log)[/]")
    for d in found.dead_letters:
        branch = top.add(
            f"[bold red]dead letter[/] {d.dlq.where}: reason {escape(d.reason)}, rule "
            f"{escape(d.rule) or '-'}" + (f"; {escape(d.exception)}" if d.exception else "")
        )
        _chain_tree(branch, d.source, found.event_id)
    out.print(top)
