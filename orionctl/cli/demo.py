"""``orion demo``: the main job end to end on the local stack (what `make demo` runs)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orion.settings import default_stack_dir, load_settings
from orionctl.cli.console import err, out


def demo(
    events: Annotated[int, typer.Option(min=1000, envvar="DEMO_EVENTS")] = 100_000,
    seed: Annotated[int, typer.Option()] = 42,
) -> None:
    """Produce a seeded run with defects through processors and both sinks, then report."""
    # Here, not at the top: the demo's imports (boto3 and the whole pipeline) would be
    # paid by every other `orion` command's start-up.
    from orionctl.demo import DEMO_DATABASE, report_command, run_demo

    settings = load_settings()
    summary, report_text = run_demo(
        settings,
        events,
        seed,
        default_stack_dir() / "demo",
        report=lambda msg: err.print(f"[dim]demo:[/] {msg}"),
    )
    out.print(report_text, markup=False, highlight=False)

    table = Table(title=f"demo summary ({summary.prefix.rstrip('.')}, {summary.elapsed_s:.0f}s)")
    table.add_column("what")
    table.add_column("expected (ledger)", justify="right")
    table.add_column("pipeline", justify="right")
    table.add_row("events produced", str(summary.events), str(summary.events))
    for outcome in ("ACCEPT", "REPAIR", "DUPLICATE"):
        table.add_row(f"  {outcome.lower()}", str(summary.expected[outcome]), "")
    rejected = sum(summary.dead_letters.values())
    table.add_row("  rejected (dead letters)", str(summary.expected["REJECT"]), str(rejected))
    for reason in sorted(set(summary.expected_reasons) | set(summary.dead_letters)):
        table.add_row(
            f"    {reason}",
            str(summary.expected_reasons[reason]),
            str(summary.dead_letters[reason]),
        )
    table.add_row("bronze objects in S3", "", str(summary.bronze_objects))
    for name, rows in summary.warehouse_rows.items():
        table.add_row(f"warehouse.{name} rows", "", str(rows))
    out.print(table)
    out.print(
        f"warehouse database: {DEMO_DATABASE}; topics under {summary.prefix}", highlight=False
    )
    out.print(f"HTML report: {summary.report_html}", highlight=False, soft_wrap=True)
    out.print("report on this run again:", highlight=False)
    out.print(f"  {report_command(summary.prefix)}", markup=False, highlight=False, soft_wrap=True)
    if summary.report_html is not None:
        html = report_command(summary.prefix, summary.report_html)
        out.print(f"  {html}", markup=False, highlight=False, soft_wrap=True)
