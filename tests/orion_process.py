"""An ``orion`` command run as a subprocess by a test, with its output in a file.

Output goes to a file, not a pipe, so a chatty service never blocks on a
full pipe; ``kill`` is SIGKILL (a crash), ``terminate`` SIGTERM (a clean stop).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


class OrionProcess:
    def __init__(self, args: list[str], log_path: str | Path, env: dict[str, str]) -> None:
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed by kill()/terminate()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orionctl", *args],
            stdout=self._log,
            stderr=self._log,
            env={**os.environ, "ORION_LOG_LEVEL": "WARNING", **env},
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._log.close()

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self._log.close()
        return code

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")
