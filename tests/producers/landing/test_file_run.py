"""A seeded file run end to end: exports in the landing zone, ingested while the
processors run, held against the producers' ledger like a stream run.

The ingester is SIGKILLed once in the middle, restarted, and every file is
dropped a second time after the first round; the clean and DLQ topics must
still equal the ledger exactly (so neither added an event), and every file
must end in processed/ or rejected/, none in landing/. A file dropped again
adds nothing as long as it comes within the processors' dedup window
(``--dedup-window``, 7 days after the first drop by default), however old its
events: this run spans months of simulated time under the default window.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orion.settings import OrionSettings
from orionctl.ops.ledger_score import score
from tests.orion_process import OrionProcess
from tests.producers.landing.test_ingester import keys, wait_for
from tests.stream_processors.conftest import Worker, wait_until_done
from tests.stream_processors.conftest import workers as workers  # the fixture, shared

pytestmark = pytest.mark.integration
EVENTS = 20_000


def test_a_file_run_equals_the_ledger_through_a_crash_and_a_second_drop(
    settings: OrionSettings,
    topic_namespace: str,
    s3_bucket: Callable[[], str],
    s3_client: Any,
    workers: Callable[..., Worker],
    tmp_path: Path,
) -> None:
    bucket = s3_bucket()
    ledger = tmp_path / "ledger.jsonl"
    export = subprocess.run(
        [sys.executable, "-m", "orionctl", "produce", "--to-files", f"s3://{bucket}",
         "--events", str(EVENTS), "--seed", "11", "--ledger", str(ledger)],
        env={**os.environ, "ORION_TOPIC_PREFIX": topic_namespace},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert export.returncode == 0, export.stderr[-3000:]
    dropped = keys(s3_client, bucket, "landing/")
    suffixes = {k.rsplit(".", 1)[-1] for k in dropped}
    assert suffixes == {"csv", "json", "jsonl", "xlsx"}, suffixes
    bodies = {k: s3_client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in dropped}

    worker = workers()  # the default 7-day window: the second drop comes minutes later
    env = {"ORION_TOPIC_PREFIX": topic_namespace, "ORION_INGEST_BUCKET": bucket,
           "ORION_INGEST_INTERVAL_S": "0.5"}  # fmt: skip
    log = tmp_path / "ingest.log"
    first = OrionProcess(["ingest", "files", "--watch"], log, env)
    deadline = time.monotonic() + 120
    while len(keys(s3_client, bucket, "landing/")) > len(dropped) // 2:
        assert first.alive(), first.output()
        assert time.monotonic() < deadline, "the ingester decided nothing in 120 s"
        time.sleep(0.05)
    first.kill()  # somewhere in the middle of the run, most likely in a file

    second = OrionProcess(["ingest", "files", "--watch"], log, env)
    try:
        wait_for(lambda: not keys(s3_client, bucket, "landing/"), second, "first round", 300)
        for key, body in bodies.items():  # every file again, byte for byte
            s3_client.put_object(Bucket=bucket, Key=key, Body=body)
        wait_for(lambda: not keys(s3_client, bucket, "landing/"), second, "second round", 300)
    finally:
        assert second.terminate() == 0, second.output()
    wait_until_done(settings, topic_namespace, [worker], timeout_s=300)

    s = score(settings, topic_namespace, ledger)
    assert not s.problems, "\n".join(s.problems)
    assert s.clean_by_topic == s.expected_by_topic
    decided = [k for k in keys(s3_client, bucket) if not k.endswith(".report.json")]
    names = sorted(k.split("/", 2)[2] for k in decided)  # without verdict/ and the day
    assert names == sorted(k.removeprefix("landing/") for k in dropped)  # the second: same keys
