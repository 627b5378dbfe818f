"""``orion process``: run one stream-processor worker (several share the partitions)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from orion.settings import load_settings
from orionctl.cli.console import err
from orionctl.cli.service import service, stop_on_signals


def process(
    app_id: Annotated[
        str | None, typer.Option(help="consumer group / app id, under the topic prefix")
    ] = None,
    instance_id: Annotated[
        str | None,
        typer.Option(
            help="stable name of this worker slot (e.g. the pod name): a restart under it "
            "takes its partitions back at once; never give two live workers one"
        ),
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where local RocksDB state lives")] = None,
    dedup_window: Annotated[
        str | None,
        typer.Option(help="how long after an event arrived a re-send of it is dropped: 7d, 12h"),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="raw records per transaction at most, e.g. 5000")
    ] = None,
    batch_interval: Annotated[
        str | None, typer.Option(help="longest wait for a batch to fill, e.g. 100ms")
    ] = None,
    session_timeout: Annotated[
        str | None,
        typer.Option(help="how long the group waits for a dead worker, e.g. 30s (6s-300s)"),
    ] = None,
    reference_grace: Annotated[
        str | None,
        typer.Option(help="how late a master may be produced after its fact, e.g. 5s"),
    ] = None,
    store_memory: Annotated[
        int | None,
        typer.Option(help="RocksDB memory per partition in MiB (4-4096), e.g. 16"),
    ] = None,
    exit_when_stuck: Annotated[
        str | None,
        typer.Option(help="exit 1 (for a supervisor to restart) when stuck this long, e.g. 5m"),
    ] = None,
) -> None:
    """Validate, repair, deduplicate and dead-letter every raw topic into clean and dlq topics.

    Exactly once, on Kafka transactions (one per batch). Every option falls back to
    ORION_PROCESSOR_<NAME> (e.g. ORION_PROCESSOR_DEDUP_WINDOW); the defaults are those of
    stream_processors/configuration.py. The Faust-era options
    --guarantee and --web-port are gone: exactly-once is the only mode, and the metrics
    endpoint is ORION_METRICS_PORT.
    """
    # The stage package is imported here, not at the top: `orion --help` and the
    # other commands do not pay for importing every stage.
    from stream_processors.configuration import load_processor_config
    from stream_processors.engine import stuck
    from stream_processors.exceptions import EngineFatalError
    from stream_processors.runner import Worker, run

    config = load_processor_config(
        app_id=app_id, instance_id=instance_id, data_dir=data_dir, dedup_window_s=dedup_window,
        batch_max_records=batch_size, batch_interval_s=batch_interval,
        session_timeout_s=session_timeout, reference_grace_s=reference_grace,
        store_memory_mib=store_memory, exit_when_stuck_s=exit_when_stuck,
    )  # fmt: skip
    settings = load_settings()
    with service("processor", settings) as endpoint, stop_on_signals() as stop:
        ready: dict[str, Worker | None] = {"worker": None}

        def on_ready(w: Worker) -> None:
            ready["worker"] = w

        endpoint.set_readiness(lambda: ready["worker"] is not None and ready["worker"].ready)
        try:
            run(settings, config, stop, on_ready=on_ready)
        except EngineFatalError as e:
            if not stuck():
                raise
            # A librdkafka call never returned; destroying that client at interpreter
            # exit could block for ever, so say why and leave at once.
            err.print(f"[bold red]error:[/] {e}", markup=True, highlight=False)
            logging.shutdown()
            sys.stderr.flush()
            os._exit(1)
