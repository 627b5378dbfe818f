"""Background processes owned by the local stack, tracked through pid files.

A pid file alone is not proof: after a reboot or a crash the number may
belong to another program. :meth:`ManagedProcess.pid` therefore also checks
that the process's command line contains a marker (the component's data
directory), so ``orion stack down`` never signals a stranger.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def _proc_state(pid: int) -> str | None:
    """The process's state letter from /proc, or None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            # "pid (comm) S ..." where comm may contain spaces and parentheses.
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _environ(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def is_alive(pid: int) -> bool:
    state = _proc_state(pid)
    return state is not None and state not in {"Z", "X"}


@dataclass(frozen=True)
class ManagedProcess:
    """One long-running program of the stack: its pid file, log file and identity marker."""

    name: str
    pid_file: Path
    log_file: Path
    marker: str
    #: Look for ``marker`` in the process's environment instead of its command line,
    #: for programs that rewrite their title (Airflow's setproctitle).
    marker_in_environ: bool = False

    def pid(self) -> int | None:
        """The pid of our running process, or None (stale pid files are removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        found = _environ(pid) if self.marker_in_environ else _cmdline(pid)
        if is_alive(pid) and self.marker in found:
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
    ) -> int:
        """Start ``argv`` detached in its own session, output appended to the log file."""
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S%z')} start {self.name}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
                user=user,
                group=user,
                extra_groups=[] if user else None,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        # A waiting thread reaps the child when it exits, so a long-lived caller
        # (a test session) never keeps zombies that look alive to `pid()`.
        threading.Thread(target=proc.wait, name=f"reap-{self.name}", daemon=True).start()
        return proc.pid

    def stop(self, *, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> bool:
        """Stop the process: ``sig`` first, SIGKILL after ``timeout_s``. True if one was running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, sig)
        if not wait_until(lambda: not is_alive(pid), timeout_s):
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not is_alive(pid), 10.0)
        self.pid_file.unlink(missing_ok=True)
        return True


def wait_until(predicate: Callable[[], bool], timeout_s: float, interval_s: float = 0.25) -> bool:
    """Poll ``predicate`` until it is true or ``timeout_s`` passes; never hangs."""
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False
