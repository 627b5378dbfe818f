"""Prometheus endpoint, health probes and service discovery for long-running services.

Every long-running ``orion`` service starts one :class:`ServiceEndpoint`. It
serves ``/metrics`` (prometheus-client's default registry), ``/healthz``
(liveness: the process answers) and ``/readyz`` (readiness, as the service
reports it), and while it runs it keeps a file in the local stack's
Prometheus discovery directory so Prometheus scrapes it without a reload.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from orion.exceptions import ConfigurationError

_log = logging.getLogger("orion.metrics")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._reply(200, generate_latest(self.server.registry), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            self._reply(200, b"ok\n", "text/plain")
        elif path == "/readyz":
            ready = self.server.ready()
            self._reply(
                200 if ready else 503, b"ready\n" if ready else b"not ready\n", "text/plain"
            )
        else:
            self._reply(404, b"not found\n", "text/plain")

    def _reply(self, code: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The scraper gave up first (Prometheus' scrape timeout, e.g. while the lag
            # exporter's collection was slow): one log line, not a stack trace per scrape.
            _log.warning("metrics client hung up before the reply", extra={"path": self.path})

    def log_message(self, format: str, *args: object) -> None:
        return None  # scrapes every few seconds would flood the service's log


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, addr: tuple[str, int], registry: CollectorRegistry, ready: Callable[[], bool]
    ) -> None:
        super().__init__(addr, _Handler)
        self.registry = registry
        self.ready = ready


class Heartbeat:
    """Readiness of a consumer loop: it holds partitions and went round its loop recently.

    The loop calls :meth:`beat` every iteration; ``/readyz`` turns false when
    the loop has no partitions or has not come round for ``stall_after_s``
    (a hung S3 call, a stuck database), which is what an orchestrator's
    readiness probe should see.
    """

    def __init__(self, stall_after_s: float = 60.0) -> None:
        self.stall_after_s = stall_after_s
        self._at: float | None = None
        self._assigned = 0

    def beat(self, assigned: int) -> None:
        self._at = time.monotonic()
        self._assigned = assigned

    def ready(self) -> bool:
        return (
            self._at is not None
            and self._assigned > 0
            and time.monotonic() - self._at < self.stall_after_s
        )


class ServiceEndpoint:
    """HTTP endpoint of one service process; a context manager that also registers for scraping."""

    def __init__(
        self,
        service: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sd_dir: Path | None = None,
        ready: Callable[[], bool] = lambda: True,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self.service = service
        try:
            self._server = _Server((host, port), registry, ready)
        except OSError as e:  # port taken, or a host this machine does not have
            raise ConfigurationError(
                f"{service}: cannot serve /metrics on {host}:{port}: {e.strerror or e}",
                fix="pick a free port with ORION_METRICS_PORT (0 picks one) or stop the other "
                "process on it",
            ) from e
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"metrics-{service}", daemon=True
        )
        self._sd_file = (
            sd_dir / f"{service}-{socket.gethostname()}-{os.getpid()}.json" if sd_dir else None
        )

    def set_readiness(self, ready: Callable[[], bool]) -> None:
        """What ``/readyz`` reports from now on (a service knows once it has started)."""
        self._server.ready = ready

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> ServiceEndpoint:
        self._thread.start()
        if self._sd_file is not None:
            self._sd_file.parent.mkdir(parents=True, exist_ok=True)
            self._forget_crashed()
            tmp = self._sd_file.with_suffix(".tmp")
            tmp.write_text(
                json.dumps([{"targets": [self.address], "labels": {"service": self.service}}])
            )
            tmp.replace(self._sd_file)  # Prometheus must never read half a file
        return self

    def _forget_crashed(self) -> None:
        """Remove the scrape targets a crashed copy of this service on this host left behind.

        A SIGKILLed process never deletes its file, so Prometheus would scrape a dead
        address and OrionServiceDown fire until someone removed it by hand; a restarted
        service (what a supervisor does after a crash) takes its place instead.
        """
        if self._sd_file is None:
            return
        for old in self._sd_file.parent.glob(f"{self.service}-{socket.gethostname()}-*.json"):
            pid = old.stem.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                old.unlink(missing_ok=True)

    def stop(self) -> None:
        if self._sd_file is not None:
            self._sd_file.unlink(missing_ok=True)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> ServiceEndpoint:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
