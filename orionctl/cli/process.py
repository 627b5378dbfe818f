"""``orion process``: run one stream-processor worker (several share the partitions)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from orion.durations import parse_duration
from orion.exceptions import ConfigurationError
from orion.settings import load_settings
from orionctl.cli.console import err
from orionctl.cli.service import service, stop_on_signals


def _env(name: str, default: str) -> str:
    return os.environ.get(f"ORION_PROCESSOR_{name}", default)


def _int(option: int | None, name: str, default: str, unit: str) -> int:
    text = str(option) if option is not None else _env(name, default)
    if not text.isdigit():
        raise ConfigurationError(f"ORION_PROCESSOR_{name} must be a number of {unit}, got {text!r}")
    return int(text)


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
        str | None, typer.Option(help="dedup retention in event time, e.g. 7d, 12h")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="raw records per transaction at most (default 5000)")
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
        typer.Option(help="RocksDB memory per partition in MiB (4-4096, default 16)"),
    ] = None,
    exit_when_stuck: Annotated[
        str | None,
        typer.Option(help="exit 1 (for a supervisor to restart) when stuck this long, e.g. 5m"),
    ] = None,
) -> None:
    """Validate, repair, deduplicate and dead-letter every raw topic into clean and dlq topics.

    Exactly once, on Kafka transactions (one per batch). Every option falls back to
    ORION_PROCESSOR_<NAME> (e.g. ORION_PROCESSOR_DEDUP_WINDOW). The Faust-era options
    --guarantee and --web-port are gone: exactly-once is the only mode, and the metrics
    endpoint is ORION_METRICS_PORT.
    """
    # The stage package is imported here, not at the top, so that the shared
    # package never depends on a stage at import time.
    from stream_processors.configuration import ProcessorConfig
    from stream_processors.engine import stuck
    from stream_processors.exceptions import EngineFatalError
    from stream_processors.runner import Worker, run

    config = ProcessorConfig(
        app_id=app_id or _env("APP_ID", "orion-processor"),
        instance_id=instance_id or _env("INSTANCE_ID", "") or None,
        data_dir=data_dir or Path(_env("DATA_DIR", ".stack/processor")),
        dedup_window_s=parse_duration(dedup_window or _env("DEDUP_WINDOW", "7d")),
        batch_max_records=_int(batch_size, "BATCH_SIZE", "5000", "records"),
        batch_interval_s=parse_duration(batch_interval or _env("BATCH_INTERVAL", "100ms")),
        session_timeout_s=parse_duration(session_timeout or _env("SESSION_TIMEOUT", "30s")),
        reference_grace_s=parse_duration(reference_grace or _env("REFERENCE_GRACE", "5s")),
        store_memory_mib=_int(store_memory, "STORE_MEMORY", "16", "MiB"),
        exit_when_stuck_s=parse_duration(exit_when_stuck or _env("EXIT_WHEN_STUCK", "5m")),
    )
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
