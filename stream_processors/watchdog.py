"""The stall watchdog: a loop that stops turning is logged, exported and alerted on.

The engine says what it is doing (:meth:`Phase.at`); a daemon thread checks
every few seconds. A phase other than waiting for records that lasts longer
than the limit (a commit that does not return, a restore that hangs, a
registry that does not answer) is logged once with its name and exported as
``orion_processor_stalled_seconds``, which the OrionProcessorStalled alert
watches, so the lag alert has a cause next to it. A stall that outlasts the
exit limit calls ``on_stuck`` (the runner's: log and leave with status 1),
like a liveness probe would, because the call it is stuck in cannot be
interrupted from Python.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from stream_processors import metrics

__all__ = ["IDLE", "Phase", "Watchdog"]

log = logging.getLogger("orion.processor")
IDLE = "waiting for records"


class Phase:
    """What the engine is doing now, and since when (written by one thread only)."""

    def __init__(self) -> None:
        self.name = "starting"
        self.since = time.monotonic()

    def at(self, name: str) -> None:
        if name != self.name:
            self.name = name
            self.since = time.monotonic()


class Watchdog:
    def __init__(
        self,
        phase: Phase,
        limit_s: float,
        exit_after_s: float,
        on_stuck: Callable[[str, float], None],
        interval_s: float = 5.0,
    ) -> None:
        self._phase = phase
        self._limit = limit_s
        self._exit_after = exit_after_s
        self._on_stuck = on_stuck
        self._interval = interval_s
        self._warned_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.check()

    def check(self) -> float:
        """Export (and log once per stall) how long the current phase has lasted."""
        name, since = self._phase.name, self._phase.since
        stuck = time.monotonic() - since
        if name != IDLE and stuck > self._limit:
            if self._warned_at != since:
                log.warning("worker stalled", extra={"phase": name, "for_s": round(stuck)})
                self._warned_at = since
            metrics.STALLED.set(stuck)
            if stuck > self._exit_after:
                self._on_stuck(name, stuck)
            return stuck
        metrics.STALLED.set(0)
        return 0.0
