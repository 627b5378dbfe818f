"""Entry point of the ``orion`` command.

Errors the product raises on purpose (:class:`~orion.exceptions.OrionError`)
print one message with its fix and exit 1, without a traceback; anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer
from confluent_kafka import KafkaException

from orion.exceptions import OrionError
from orion.kafka_errors import is_fatal
from orionctl.cli import admin, dq, s3sink, silver, stack, upkeep, warehouse
from orionctl.cli.console import err
from orionctl.cli.dags import dags_app
from orionctl.cli.demo import demo
from orionctl.cli.ingest import ingest_app
from orionctl.cli.lineage import lineage
from orionctl.cli.process import process
from orionctl.cli.produce import produce
from orionctl.cli.replay import lag, replay_app

app = typer.Typer(
    name="orion",
    help="Orion Motors finance event pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack.app, name="stack")
app.add_typer(admin.topics_app, name="topics")
app.add_typer(admin.schemas_app, name="schemas")
app.command()(produce)
app.command()(process)
app.command()(lag)
app.add_typer(replay_app, name="replay")
app.add_typer(s3sink.sink_app, name="sink")
app.command("archive")(s3sink.archive)
replay_app.command("archive")(s3sink.replay_archive)
app.add_typer(warehouse.warehouse_app, name="warehouse")
warehouse.warehouse_app.add_typer(upkeep.partitions_app, name="partitions")
warehouse.warehouse_app.command("vacuum")(upkeep.vacuum)
warehouse.warehouse_app.command("check-scd2")(upkeep.check_scd2)
warehouse.warehouse_app.command("verify")(upkeep.verify)
app.add_typer(dags_app, name="dags")
s3sink.sink_app.command("warehouse")(warehouse.sink_warehouse)
s3sink.sink_app.command("silver")(silver.sink_silver)
s3sink.sink_app.command("dq")(dq.sink_dq)
app.add_typer(silver.silver_app, name="silver")
app.command()(warehouse.report)
app.command()(dq.dq)
app.command()(lineage)
app.command()(demo)
app.add_typer(ingest_app, name="ingest")


def main() -> None:
    # Usage errors are typer's to report (exit 2); our own errors come out of the
    # standalone app as exceptions and end here.
    try:
        app()
    except OrionError as e:
        err.print(f"[bold red]error:[/] {e}", markup=True, highlight=False)
        sys.exit(1)
    except KafkaException as e:
        if not is_fatal(e.args[0]):
            raise
        # A consumer or producer librdkafka has given up on (e.g. a static member fenced
        # by its own rejoin): only a new process recovers; the data is safe.
        err.print(f"[bold red]error:[/] fatal Kafka client error: {e.args[0]}", highlight=False)
        err.print("  fix: the service exits for its supervisor to restart it", highlight=False)
        sys.exit(1)
