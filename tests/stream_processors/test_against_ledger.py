"""`orion process` against the producers' ledger, with the faults operators live with.

Each scenario produces a seeded run (default defect mix) into its own
namespace, processes it with real `orion process` subprocesses and holds the
read_committed clean and dlq topics against the ledger: recall and precision
of rejects, exact clean records, duplicates dropped, per-topic counts.
Faults: a worker SIGKILLed five times, a second worker joining and then the
first leaving. The broker restarted mid-run is the chaos drill's
(tests/orionctl/drills/test_chaos.py), with the sinks running too.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from confluent_kafka import Producer

from orion.settings import OrionSettings
from orionctl.ops.ledger_score import read_topics, score
from tests.stream_processors.conftest import Worker, wait_processed, wait_until_done

pytestmark = pytest.mark.integration
EVENTS = 30_000
FAULT_EVENTS = 30_000  # CI time: 25 minutes for everything
Workers = Callable[..., Worker]


def produce(prefix: str, ledger: Path, seed: int, events: int = EVENTS) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orionctl", "produce", "--events", str(events), "--max-rate",
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
    settings: OrionSettings, topic_namespace: str, workers: Workers, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    produce(topic_namespace, ledger, seed=42)
    w = workers()
    took = wait_until_done(settings, topic_namespace, [w])
    print(f"one worker: {EVENTS} events in {took:.1f}s")
    assert_store_memory_bounded(tmp_path / "data", mib=16)
    assert_matches_ledger(settings, topic_namespace, ledger)


def assert_store_memory_bounded(data_dir: Path, mib: int) -> None:
    """Every partition's RocksDB runs with bounded buffers, as RocksDB wrote them."""
    options = sorted(data_dir.rglob("OPTIONS-*"))
    assert {f.parent.name for f in options} == {"p0", "p1", "p2"}, options
    for f in options:
        text = f.read_text()
        assert f"write_buffer_size={mib * 1024 * 1024 // 4}\n" in text, f
        assert "max_write_buffer_number=2\n" in text, f


def test_worker_killed_five_times_with_sigkill(
    settings: OrionSettings, topic_namespace: str, workers: Workers, tmp_path: Path
) -> None:
    """SIGKILL at random points of the run; a supervisor restarts the slot.

    Four restarts keep the instance id (the new process fences its predecessor's open
    transaction at once); one comes back under a new id, so the dead one's transaction
    is aborted only by the broker's transaction timeout.
    """
    ledger = tmp_path / "ledger.jsonl"
    produce(topic_namespace, ledger, seed=7, events=FAULT_EVENTS)
    rng = random.Random(7)  # noqa: S311 - kill timing, not cryptography
    slot = "slot-a"
    w = workers(slot)
    for kill in range(5):
        at = int(FAULT_EVENTS * (kill + rng.random()) / 6)
        wait_processed(settings, topic_namespace, at, timeout_s=180)
        time.sleep(rng.random() * 0.5)  # not just after a commit
        w.kill()
        if kill == 2:
            slot = "slot-b"
        w = workers(slot)
        print(f"kill {kill + 1} after {at} records processed; restarted as {slot}")
    took = wait_until_done(settings, topic_namespace, [w], timeout_s=300)
    print(f"killed five times: finished {took:.1f}s after the last restart")
    assert_matches_ledger(settings, topic_namespace, ledger)


def test_a_second_worker_joins_then_the_first_leaves(
    settings: OrionSettings, topic_namespace: str, workers: Workers, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    produce(topic_namespace, ledger, seed=3, events=FAULT_EVENTS)
    first = workers()
    wait_processed(settings, topic_namespace, FAULT_EVENTS // 4, timeout_s=180)
    second = workers()  # joins mid-stream: a rebalance
    wait_processed(settings, topic_namespace, FAULT_EVENTS * 3 // 5, timeout_s=180)
    first.stop()  # leaves mid-stream (SIGTERM): another rebalance
    assert first.proc.returncode == 0, "the leaving worker did not stop cleanly"
    took = wait_until_done(settings, topic_namespace, [second])
    print(f"join and leave: done {took:.1f}s after the first worker left")
    assert_matches_ledger(settings, topic_namespace, ledger)


def test_bad_settings_stop_at_start_up(topic_namespace: str) -> None:
    cases: tuple[tuple[list[str], dict[str, str], str], ...] = (
        (["--dedup-window", "soon"], {}, "not a duration"),
        (["--app-id", "bad id!"], {}, "app id"),
        (["--instance-id", "a/b"], {}, "instance id"),
        (["--session-timeout", "2s"], {}, "session timeout must be 6-300 seconds"),
        (["--store-memory", "2"], {}, "store memory must be 4-4096 MiB"),
        (["--reference-grace", "2d"], {}, "reference grace must be 0 s to 1 d"),
        (["--batch-size", "0"], {}, "batch size must be 1-100000"),
        (["--batch-interval", "1h"], {}, "batch interval must be 1 ms to 10 s"),
        (["--exit-when-stuck", "10s"], {}, "exit-when-stuck must be 60 s to 1 d"),
        ([], {"ORION_PROCESSOR_BATCH_SIZE": "x"}, "ORION_PROCESSOR_BATCH_SIZE"),
        ([], {"ORION_PROCESSOR_STORE_MEMORY": "lots"}, "ORION_PROCESSOR_STORE_MEMORY"),
        ([], {"ORION_KAFKA_BOOTSTRAP": "127.0.0.1:1"}, "did not answer"),
    )

    def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "orionctl", "process", *args],
            env={**os.environ, "ORION_TOPIC_PREFIX": topic_namespace, **env},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    # Four at a time: each is mostly a process start (imports), and one after
    # another they were half a minute of CI.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: run(case[0], case[1]), cases))
    for (args, _, message), result in zip(cases, results, strict=True):
        assert result.returncode == 1, (args, result.stderr[-500:])
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_a_restarted_worker_remembers_what_it_saw(
    settings: OrionSettings, topic_namespace: str, workers: Workers, tmp_path: Path
) -> None:
    """Dedup state comes back from the changelog: a re-sent topic is dropped, not re-published."""
    produce(topic_namespace, tmp_path / "ledger.jsonl", seed=11, events=3_000)
    first = workers()
    wait_until_done(settings, topic_namespace, [first])
    first.stop()
    raw = topic_namespace + "raw.crm.customers"
    clean = topic_namespace + "clean.crm.customers"
    before = read_topics(settings, [clean])
    assert before, "the first worker published no customers"
    resend = Producer({**settings.kafka_client_config(), "enable.idempotence": True})
    records = read_topics(settings, [raw])
    for _, p, key, value, _ in records:
        resend.produce(raw, value, key, partition=p)
    assert resend.flush(30) == 0
    second = workers()  # a new process: its state starts empty and is restored
    wait_until_done(settings, topic_namespace, [second])
    after = read_topics(settings, [clean])
    assert len(after) == len(before), (
        f"{len(after) - len(before)} of {len(records)} re-sent customers were published again"
    )
