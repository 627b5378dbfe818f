"""``orion process``: run one stream-processor worker (several share the partitions)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from orion.cli.service import service
from orion.exceptions import ConfigurationError
from orion.settings import load_settings


def _env(name: str, default: str) -> str:
    return os.environ.get(f"ORION_PROCESSOR_{name}", default)


def process(
    app_id: Annotated[
        str | None, typer.Option(help="consumer group / app id, under the topic prefix")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where RocksDB state lives")] = None,
    dedup_window: Annotated[
        str | None, typer.Option(help="dedup retention in event time, e.g. 7d, 12h")
    ] = None,
    guarantee: Annotated[
        str | None, typer.Option(help="exactly_once (default) or at_least_once")
    ] = None,
    web_port: Annotated[
        int | None, typer.Option(help="port of Faust's own web server (default: off)")
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
        typer.Option(help="RocksDB memory per table partition in MiB (4-4096, default 16)"),
    ] = None,
) -> None:
    """Validate, repair, deduplicate and dead-letter every raw topic into clean and dlq topics.

    Every option falls back to ORION_PROCESSOR_<NAME> (e.g. ORION_PROCESSOR_DEDUP_WINDOW).
    """
    # The stage package is imported here, not at the top, so that the shared
    # package never depends on a stage at import time.
    from stream_processors.configuration import ProcessorConfig, parse_duration
    from stream_processors.runner import run

    port_text = str(web_port) if web_port is not None else _env("WEB_PORT", "")
    if port_text and not port_text.isdigit():
        raise ConfigurationError(
            f"ORION_PROCESSOR_WEB_PORT must be a port number, got {port_text!r}"
        )
    memory_text = str(store_memory) if store_memory is not None else _env("STORE_MEMORY", "16")
    if not memory_text.isdigit():
        raise ConfigurationError(
            f"ORION_PROCESSOR_STORE_MEMORY must be a number of MiB, got {memory_text!r}"
        )
    config = ProcessorConfig(
        app_id=app_id or _env("APP_ID", "orion-processor"),
        data_dir=data_dir or Path(_env("DATA_DIR", ".stack/processor")),
        dedup_window_s=parse_duration(dedup_window or _env("DEDUP_WINDOW", "7d")),
        guarantee=guarantee or _env("GUARANTEE", "exactly_once"),
        web_port=int(port_text) if port_text else None,
        session_timeout_s=parse_duration(session_timeout or _env("SESSION_TIMEOUT", "30s")),
        reference_grace_s=parse_duration(reference_grace or _env("REFERENCE_GRACE", "5s")),
        store_memory_mib=int(memory_text),
    )
    settings = load_settings()
    with service("processor", settings) as endpoint:
        ready: dict[str, object] = {"processor": None}

        def on_ready(p: object) -> None:
            ready["processor"] = p

        endpoint.set_readiness(lambda: _is_ready(ready["processor"]))
        run(settings, config, on_ready=on_ready)


def _is_ready(processor: object) -> bool:
    tracker = getattr(processor, "tracker", None)
    return bool(getattr(processor, "assigned", False) and tracker is not None and tracker.ready)
