"""What every long-running command shares: signals, logging, the metrics endpoint."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from orion import logging as orion_logging
from orion.metrics import ServiceEndpoint
from orion.settings import OrionSettings, default_stack_dir


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by the first SIGINT or SIGTERM; a second one interrupts at once."""
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextmanager
def service(name: str, settings: OrionSettings) -> Iterator[ServiceEndpoint]:
    """JSON logs, and /metrics, /healthz, /readyz registered with the stack's Prometheus."""
    orion_logging.configure(name, settings.log_level)
    sd_dir = default_stack_dir() / "prometheus" / "targets"
    endpoint = ServiceEndpoint(
        name,
        host=settings.metrics_host,
        port=settings.metrics_port,
        sd_dir=sd_dir if sd_dir.is_dir() else None,
    )
    with endpoint:
        yield endpoint
