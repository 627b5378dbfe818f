"""What every long-running command shares: signals, logging, the metrics endpoint."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from orion import logging as orion_logging
from orion.metrics import Heartbeat, ServiceEndpoint
from orion.settings import OrionSettings, default_stack_dir
from orionctl.cli.console import err, out

if TYPE_CHECKING:
    from sinks.base import RunStats


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


S = TypeVar("S")


def run_sink(
    name: str,
    settings: OrionSettings,
    destination: str,
    run: Callable[[threading.Event, Heartbeat], S],
    summary: Callable[[S], str],
) -> None:
    """A sink as a service: endpoint, readiness from its loop's heartbeat, signals, summary.

    ``run(stop, heartbeat)`` is the sink's loop; ``summary`` says in one line
    what it did, printed when it stops.
    """
    with service(name, settings) as endpoint, stop_on_signals() as stop:
        err.print(f"{name}: {destination}, metrics on http://{endpoint.address}/metrics")
        heartbeat = Heartbeat()
        endpoint.set_readiness(heartbeat.ready)
        stats = run(stop, heartbeat)
    out.print(summary(stats))


def run_summary(verb: str) -> Callable[[RunStats], str]:
    """The stop line of a sink on the runner's own counts ("archived", "wrote")."""

    def line(stats: RunStats) -> str:
        return (
            f"{verb} {stats.records} records in {stats.flushes} flushes, "
            f"{stats.commits} commits, {stats.backoffs} back-offs"
        )

    return line
