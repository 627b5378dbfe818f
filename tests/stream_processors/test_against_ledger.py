"""`orion process` against the producers' ledger: one worker, a worker killed twice, two workers.

Each scenario produces a seeded 50 000-event run (default defect mix) into
its own namespace, processes it with real subprocesses and holds the
read_committed clean and dlq topics against the ledger: recall and
precision of rejects, exact clean records, duplicates dropped, per-topic
counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orion.settings import OrionSettings
from tests.stream_processors.conftest import wait_until_done
from tests.stream_processors.scoring import score

pytestmark = pytest.mark.integration
EVENTS = 50_000


def produce(prefix: str, ledger: Path, seed: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orion", "produce", "--events", str(EVENTS), "--max-rate",
         "--seed", str(seed), "--ledger", str(ledger)],
        env={**os.environ, "ORION_TOPIC_PREFIX": prefix},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


def assert_matches_ledger(settings: OrionSettings, prefix: str, ledger: Path) -> None:
    s = score(settings, prefix, ledger)
    assert not s.problems, "\n".join(s.problems)
    assert s.clean_by_topic == s.expected_by_topic


def test_one_worker(
    settings: OrionSettings, topic_namespace: str, workers: object, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    produce(topic_namespace, ledger, seed=42)
    w = workers()  # type: ignore[operator]
    took = wait_until_done(settings, topic_namespace, [w])
    print(f"one worker: {EVENTS} events in {took:.1f}s")
    assert_matches_ledger(settings, topic_namespace, ledger)


@pytest.mark.known_broken
@pytest.mark.xfail(
    reason="seen 2026-11: after SIGKILL a restarted worker crashed in Faust table recovery "
    "(ConsistencyError: persisted changelog offset above the read_committed high-water) "
    "and payments/commissions went missing; exactly-once does not hold under SIGKILL yet",
    strict=False,
)
def test_worker_killed_twice_with_sigkill(
    settings: OrionSettings, topic_namespace: str, workers: object, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    produce(topic_namespace, ledger, seed=7)
    w = workers()  # type: ignore[operator]
    for delay in (12, 10):
        time.sleep(delay)  # mid-stream: a 50k run takes longer than this
        w.kill()
        w = workers()  # type: ignore[operator]
    took = wait_until_done(settings, topic_namespace, [w])
    print(f"killed twice: finished {took:.1f}s after the last restart")
    assert_matches_ledger(settings, topic_namespace, ledger)


@pytest.mark.known_broken
@pytest.mark.xfail(
    reason="seen 2026-11: 2 of 50 000 wrong around the rebalance (one payment lost, one "
    "business duplicate kept): state handed over mid-transaction",
    strict=False,
)
def test_two_workers_share_the_partitions(
    settings: OrionSettings, topic_namespace: str, workers: object, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    produce(topic_namespace, ledger, seed=3)
    first = workers()  # type: ignore[operator]
    time.sleep(5)
    second = workers()  # type: ignore[operator]  # joins mid-stream: a rebalance
    took = wait_until_done(settings, topic_namespace, [first, second])
    print(f"two workers: done {took:.1f}s after the second joined")
    assert_matches_ledger(settings, topic_namespace, ledger)


def test_bad_settings_stop_at_start_up(topic_namespace: str) -> None:
    for args, env, message in (
        (["--dedup-window", "soon"], {}, "not a duration"),
        (["--guarantee", "maybe"], {}, "processing guarantee"),
        (["--app-id", "bad id!"], {}, "app id"),
        ([], {"ORION_PROCESSOR_WEB_PORT": "x"}, "ORION_PROCESSOR_WEB_PORT"),
        ([], {"ORION_KAFKA_BOOTSTRAP": "127.0.0.1:1"}, "did not answer"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "orion", "process", *args],
            env={**os.environ, "ORION_TOPIC_PREFIX": topic_namespace, **env},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 1, (args, result.stderr[-500:])
        assert message in result.stderr
        assert "Traceback" not in result.stderr
