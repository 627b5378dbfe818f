"""The lag alert goes off for real: a sink stopped while a producer runs, seen by the real
Prometheus through the lag exporter and the rules in deploy/prometheus/rules/.

The test waits for the alert to be *pending* (its expression true in the real
Prometheus, over the real exporter's series), not *firing*: the 2-minute
``for:`` hold after that is Prometheus' own and is held to account by the
promtool rule tests (deploy/prometheus/tests/), so waiting it out here would
cost CI two minutes and prove nothing more."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from orion.settings import OrionSettings
from orionctl.stack.config import StackConfig

pytestmark = [pytest.mark.integration, pytest.mark.serial]


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "orionctl", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _firing(settings: OrionSettings, group: str) -> str | None:
    alerts = httpx.get(settings.prometheus_url + "/api/v1/alerts", timeout=10).json()
    for alert in alerts["data"]["alerts"]:
        if (
            alert["labels"].get("alertname") == "OrionConsumerLagGrowing"
            and alert["labels"].get("group") == group
        ):
            return str(alert["state"])
    return None


def test_lag_alert_fires_when_a_sink_is_stopped_while_producers_run(
    stack: StackConfig, settings: OrionSettings, topic_namespace: str, tmp_path: Path
) -> None:
    env = {**os.environ, "ORION_TOPIC_PREFIX": topic_namespace}
    group = topic_namespace + "orion-s3-sink"
    # The sink runs once so its group has offsets, then stops.
    produce = subprocess.run(
        [sys.executable, "-m", "orionctl", "produce", "--events", "2000", "--max-rate"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert produce.returncode == 0, produce.stderr
    sink = _start(["sink", "s3", "--max-age", "1"], env, tmp_path / "sink.log")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        out = subprocess.run(
            [sys.executable, "-m", "orionctl", "lag", "--group", group],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
        if group in out:
            break
        time.sleep(2)
    sink.terminate()
    assert sink.wait(60) == 0

    exporter = _start(["lag", "--serve"], env, tmp_path / "exporter.log")
    producer = _start(["produce", "--rate", "300", "--seed", "3"], env, tmp_path / "producer.log")
    try:
        state = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and state not in ("pending", "firing"):
            assert producer.poll() is None and exporter.poll() is None
            time.sleep(2)
            state = _firing(settings, group)
        assert state in ("pending", "firing"), (tmp_path / "exporter.log").read_text()[-2000:]
    finally:
        for proc in (producer, exporter):
            proc.terminate()
            proc.wait(60)
