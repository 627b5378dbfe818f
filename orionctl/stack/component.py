"""The base of every local-stack component: install, initialise, start, probe, stop.

The manager drives each component through the same steps, so a new service
only says *how* to do each step. Every step is idempotent: ``orion stack up``
on a running stack changes nothing, and after a crash it restarts only what
is down, on the data it left.
"""

from __future__ import annotations

import shutil
import signal
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from orionctl.stack.config import StackConfig
from orionctl.stack.process import ManagedProcess


class Component(ABC):
    """One backing service of the stack."""

    #: Also the name of its home, log and pid file (a class constant, or per instance
    #: where one class runs several nodes).
    name: str
    #: Components that must be healthy before this one starts.
    requires: ClassVar[tuple[str, ...]] = ()
    #: Signal for a clean stop (PostgreSQL wants SIGINT, "fast shutdown").
    stop_signal: ClassVar[int] = signal.SIGTERM
    #: Seconds a clean stop may take before SIGKILL.
    stop_timeout_s: ClassVar[float] = 30.0
    #: Environment variable that moves this component's main port.
    port_variable: ClassVar[str]

    def __init__(self, cfg: StackConfig) -> None:
        self.cfg = cfg

    @property
    def home(self) -> Path:
        """Data and configuration of this component (kept across restarts)."""
        return self.cfg.data_dir(self.name)

    @property
    def process(self) -> ManagedProcess:
        # The home path appears in every component's command line: it is the marker
        # that tells our process from an unrelated one that reused the pid.
        return ManagedProcess(
            name=self.name,
            pid_file=self.cfg.pid_file(self.name),
            log_file=self.cfg.log_file(self.name),
            marker=str(self.home),
        )

    @abstractmethod
    def ports(self) -> list[int]:
        """Every TCP port the component listens on."""

    @abstractmethod
    def endpoint(self) -> str:
        """The address clients use, for the status table."""

    @abstractmethod
    def install(self) -> None:
        """Make the binaries available (download into the cache on first use)."""

    def initialise(self) -> None:  # noqa: B027 - optional step
        """Create configuration and first-time data; called before every start."""

    @abstractmethod
    def argv(self) -> list[str]:
        """The command line that runs the component in the foreground."""

    def run_as(self) -> str | None:
        """User to run as (PostgreSQL refuses to run as root); None for the caller."""
        return None

    def environment(self) -> dict[str, str] | None:
        """Environment of the process; None inherits the caller's."""
        return None

    @abstractmethod
    def healthy(self) -> bool:
        """A quick probe (a few seconds at most) that the service answers requests."""

    def after_start(self) -> None:  # noqa: B027 - optional step
        """Create what clients expect (databases, buckets); idempotent."""

    def purge(self) -> None:
        """Delete the component's data (after it stopped)."""
        shutil.rmtree(self.home, ignore_errors=True)

    def start(self) -> int:
        self.initialise()
        return self.process.spawn(
            self.argv(), env=self.environment(), cwd=self.home, user=self.run_as()
        )

    def stop(self) -> bool:
        return self.process.stop(sig=self.stop_signal, timeout_s=self.stop_timeout_s)
