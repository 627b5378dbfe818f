"""The service endpoint: metrics, health probes and its discovery file."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from orion.exceptions import ConfigurationError
from orion.metrics import ServiceEndpoint


def test_endpoint_serves_metrics_probes_and_registers_for_discovery(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    Counter("orion_test_events_total", "events", registry=registry).inc(3)
    ready = {"value": False}
    with ServiceEndpoint(
        "unit", sd_dir=tmp_path, registry=registry, ready=lambda: ready["value"]
    ) as ep:
        base = f"http://{ep.address}"
        assert "orion_test_events_total 3.0" in httpx.get(base + "/metrics").text
        assert httpx.get(base + "/healthz").status_code == 200
        assert httpx.get(base + "/readyz").status_code == 503
        ready["value"] = True
        assert httpx.get(base + "/readyz").status_code == 200
        (sd_file,) = tmp_path.glob("unit-*.json")
        assert json.loads(sd_file.read_text()) == [
            {"targets": [ep.address], "labels": {"service": "unit"}}
        ]
    assert list(tmp_path.glob("*.json")) == []


def test_a_crashed_copys_target_is_removed_when_the_service_starts_again(tmp_path: Path) -> None:
    """A SIGKILLed service leaves its file; the next start of that service on this host
    removes it, and leaves alone live copies and other services' files."""
    host = socket.gethostname()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        for name in (f"unit-{host}-{dead.pid}", f"unit-{host}-{live.pid}",
                     f"other-{host}-{dead.pid}"):  # fmt: skip
            (tmp_path / f"{name}.json").write_text("[]")
        with ServiceEndpoint("unit", sd_dir=tmp_path, registry=CollectorRegistry()):
            left = sorted(p.name for p in tmp_path.glob("*.json"))
        mine = f"unit-{host}-{os.getpid()}.json"
        want = [f"other-{host}-{dead.pid}.json", f"unit-{host}-{live.pid}.json", mine]
        assert left == sorted(want)
    finally:
        live.kill()
        live.wait()


def test_heartbeat_is_ready_only_with_partitions_and_a_recent_beat() -> None:
    from orion.metrics import Heartbeat

    beat = Heartbeat(stall_after_s=0.2)
    assert not beat.ready()  # never went round its loop
    beat.beat(assigned=0)
    assert not beat.ready()  # no partitions
    beat.beat(assigned=3)
    assert beat.ready()
    import time

    time.sleep(0.3)
    assert not beat.ready()  # stalled


def test_a_taken_port_stops_with_a_message_not_a_traceback() -> None:
    with ServiceEndpoint("first", registry=CollectorRegistry()) as first:
        port = int(first.address.rsplit(":", 1)[1])
        with pytest.raises(ConfigurationError) as err:
            ServiceEndpoint("second", port=port, registry=CollectorRegistry())
    assert f"127.0.0.1:{port}" in err.value.message
    assert "ORION_METRICS_PORT" in str(err.value.fix)


def test_a_scraper_that_hangs_up_during_a_slow_collection_costs_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Prometheus gives up on a slow scrape (the lag exporter's, under load): the endpoint
    says so in one warning, with no stack trace, and serves the next scrape."""
    gate = threading.Event()

    class Slow(Collector):
        def collect(self) -> Iterator[GaugeMetricFamily]:
            gate.wait(5)
            yield GaugeMetricFamily("orion_test_slow", "slow", value=1)

    registry = CollectorRegistry()
    registry.register(Slow())
    with ServiceEndpoint("unit", sd_dir=tmp_path, registry=registry) as ep:
        host, port = ep.address.rsplit(":", 1)
        with socket.create_connection((host, int(port))) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            # Hang up with a reset, as a timed-out client does, before the reply exists.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        time.sleep(0.2)
        gate.set()
        deadline = time.monotonic() + 5
        while not any("hung up" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
            time.sleep(0.05)
        assert "orion_test_slow 1.0" in httpx.get(f"http://{ep.address}/metrics").text
