"""A running sink answers /readyz with 200 once it holds partitions and deregisters on stop."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from orionctl.stack.config import StackConfig
from tests.orion_process import OrionProcess

pytestmark = pytest.mark.integration


def test_sink_is_ready_once_assigned_and_deregisters_on_stop(
    stack: StackConfig,
    kafka_topic: Callable[..., str],
    s3_bucket: Callable[[], str],
    tmp_path: Path,
) -> None:
    topic, bucket = kafka_topic(partitions=2), s3_bucket()
    before = set(stack.prometheus_sd_dir.glob("s3-sink-*.json"))
    sink = OrionProcess(
        ["sink", "s3", "--topics", topic, "--group", f"{topic}.g"],
        tmp_path / "sink.log",
        {"ORION_S3_BUCKET": bucket},
    )
    try:
        deadline = time.monotonic() + 30
        mine: set[Path] = set()
        while not mine and time.monotonic() < deadline:
            mine = set(stack.prometheus_sd_dir.glob("s3-sink-*.json")) - before
            time.sleep(0.2)
        (sd_file,) = mine
        address = json.loads(sd_file.read_text())[0]["targets"][0]
        codes = []
        while time.monotonic() < deadline:
            codes.append(httpx.get(f"http://{address}/readyz", timeout=5).status_code)
            if codes[-1] == 200:
                break
            time.sleep(0.2)
        assert codes[-1] == 200, (codes, sink.output()[-2000:])
        assert httpx.get(f"http://{address}/healthz", timeout=5).status_code == 200
    finally:
        assert sink.terminate() == 0, sink.output()[-2000:]
    assert not sd_file.exists()
