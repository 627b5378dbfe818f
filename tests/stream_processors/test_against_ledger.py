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
from confluent_kafka import Producer

from orion.settings import OrionSettings
from tests.stream_processors.conftest import wait_until_done
from tests.stream_processors.scoring import read_topics, score

pytestmark = pytest.mark.integration
EVENTS = 50_000


def produce(prefix: str, ledger: Path, seed: int, events: int = EVENTS) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orion", "produce", "--events", str(events), "--max-rate",
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
    assert_store_memory_bounded(tmp_path / "data", mib=16)


def assert_store_memory_bounded(data_dir: Path, mib: int) -> None:
    """Every table partition's RocksDB runs with bounded buffers, as RocksDB wrote them."""
    options = sorted(data_dir.rglob("OPTIONS-*"))
    dbs = {f.parent.name for f in options}
    assert {"dedup-0.db", "parked-0.db"} <= dbs, dbs
    for f in options:
        text = f.read_text()
        assert f"write_buffer_size={mib * 1024 * 1024 // 4}\n" in text, f
        assert "max_write_buffer_number=2\n" in text, f


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
        (["--session-timeout", "2s"], {}, "session timeout must be 6-300 seconds"),
        (["--store-memory", "2"], {}, "store memory must be 4-4096 MiB"),
        (["--reference-grace", "2d"], {}, "reference grace must be 0 s to 1 d"),
        ([], {"ORION_PROCESSOR_WEB_PORT": "x"}, "ORION_PROCESSOR_WEB_PORT"),
        ([], {"ORION_PROCESSOR_STORE_MEMORY": "lots"}, "ORION_PROCESSOR_STORE_MEMORY"),
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


def test_a_restarted_worker_remembers_what_it_saw(
    settings: OrionSettings, topic_namespace: str, workers: object, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Dedup state comes back from the changelog: a re-sent topic is dropped, not re-published.

    Guards the table-recovery fix (stream_processors/faust_fixes.py): before it, a new
    worker process started with empty tables and published every re-sent record again.
    """
    # Customers span years of event time: a window that keeps them all isolates recovery
    # from retention (with 7 days, most early customers expire from the table, as designed).
    monkeypatch.setenv("ORION_PROCESSOR_DEDUP_WINDOW", "36500d")
    produce(topic_namespace, tmp_path / "ledger.jsonl", seed=11, events=3_000)
    first = workers()  # type: ignore[operator]
    wait_until_done(settings, topic_namespace, [first])
    first.stop()
    raw = topic_namespace + "raw.crm.customers"
    clean = topic_namespace + "clean.crm.customers"
    before = read_topics(settings, [clean])
    assert before, "the first worker published no customers"
    resend = Producer({"bootstrap.servers": settings.kafka_bootstrap, "enable.idempotence": True})
    records = read_topics(settings, [raw])
    for _, p, key, value, _ in records:
        resend.produce(raw, value, key, partition=p)
    assert resend.flush(30) == 0
    second = workers()  # type: ignore[operator]  # a new process: its tables start empty
    wait_until_done(settings, topic_namespace, [second])
    after = read_topics(settings, [clean])
    assert len(after) == len(before), (
        f"{len(after) - len(before)} of {len(records)} re-sent customers were published again"
    )
