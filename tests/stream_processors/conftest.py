"""Fixtures of the stream-processor tests: workers as real `orion process` subprocesses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, IsolationLevel, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from orion.catalog import entities
from orion.settings import OrionSettings
from orionctl.ops.offsets import LATEST
from orionctl.stack.config import StackConfig
from orionctl.stack.kafka_access import service_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Worker:
    """One `orion process` subprocess with its own metrics port and data dir.

    ``instance`` is its ``--instance-id`` (a supervisor restarting a worker slot
    passes the same one); None gives it a unique one, as a default deployment."""

    def __init__(
        self, prefix: str, data_dir: Path, log: Path, instance: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.port = free_port()
        env = {**os.environ, "ORION_TOPIC_PREFIX": prefix, "ORION_METRICS_PORT": str(self.port),
               # a killed worker's partitions move after 10 s, not 30: shorter tests
               "ORION_PROCESSOR_SESSION_TIMEOUT": "10s", **(extra_env or {})}  # fmt: skip
        self.log_path = log
        self._log = log.open("ab")
        args = ["--data-dir", str(data_dir)] + (["--instance-id", instance] if instance else [])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orionctl", "process", *args],
            env=env,
            stdout=self._log,
            stderr=self._log,
        )

    def metric(self, name: str) -> float | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as r:
                body = r.read().decode()
        except OSError:
            return None
        for line in body.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def log_tail(self, lines: int = 25) -> str:
        """The end of the workers' log, without the registry's HTTP request lines."""
        text = self.log_path.read_text(errors="replace").splitlines()
        picked = [t for t in text if '"logger": "httpx' not in t]
        return "\n".join(picked[-lines:])

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if not self._log.closed:
            self._log.close()


@pytest.fixture
def workers(
    topic_namespace: str, tmp_path: Path, kafka_admin: AdminClient, stack_config: StackConfig
) -> Iterator[Callable[..., Worker]]:
    """Factory of workers on this namespace; stopped, internal topics removed after.

    Each runs under the processor's own Kafka principal and its ACLs (granted
    for this namespace), as a deployment runs it: a rule the ACLs forbid fails here.
    """
    started: list[Worker] = []
    principal = service_env(stack_config, "processor", topic_namespace)

    def start(instance: str | None = None, env: dict[str, str] | None = None) -> Worker:
        env = {**principal, **(env or {})}
        w = Worker(topic_namespace, tmp_path / "data", tmp_path / "workers.log", instance, env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
    if os.environ.get("ORION_TEST_KEEP_TOPICS") == "1":
        return
    internal = [t for t in kafka_admin.list_topics(timeout=10).topics
                if t.startswith(topic_namespace + "orion-processor")]  # fmt: skip
    if internal:
        for f in kafka_admin.delete_topics(internal).values():
            f.result(timeout=60)


def raw_partitions(prefix: str) -> list[TopicPartition]:
    return [TopicPartition(prefix + e.topic("raw"), p) for e in entities() for p in range(3)]


def settled(settings: OrionSettings, prefix: str, timeout_s: float = 60) -> None:
    """Until no clean or DLQ partition has an open transaction and none grew for a second.

    A partition's last stable offset (where read_committed readers stop) equals its
    high watermark once every transaction on it has committed or aborted; two equal
    looks a second apart also rule out a transaction that had not produced yet.
    """
    admin = AdminClient(settings.kafka_client_config())
    tps = [TopicPartition(prefix + e.topic(layer), p)
           for layer in ("clean", "dlq") for e in entities() for p in range(3)]  # fmt: skip

    def ends(isolation: IsolationLevel) -> dict[tuple[str, int], int]:
        futures = admin.list_offsets({tp: LATEST for tp in tps},
                                     isolation_level=isolation, request_timeout=10)  # fmt: skip
        return {(tp.topic, tp.partition): f.result(timeout=15).offset for tp, f in futures.items()}

    deadline = time.monotonic() + timeout_s
    last: dict[tuple[str, int], int] | None = None
    while True:
        try:
            high = ends(IsolationLevel.READ_UNCOMMITTED)
            stable = ends(IsolationLevel.READ_COMMITTED)
        except KafkaException:  # the broker is restarting (a fault test): ask again
            high, stable = {}, {("", -1): 0}
        if high == stable and high == last:
            return
        open_ = {k: (stable.get(k), h) for k, h in high.items() if stable.get(k) != h}
        assert time.monotonic() < deadline, f"transactions still open after {timeout_s}s: {open_}"
        last = high if high == stable else None
        time.sleep(1)


def processed(settings: OrionSettings, prefix: str) -> int:
    """Raw records the group has committed so far, over every raw partition."""
    consumer = Consumer({**settings.kafka_client_config(),
                         "group.id": prefix + "orion-processor"})  # fmt: skip
    try:
        return sum(max(tp.offset, 0) for tp in consumer.committed(raw_partitions(prefix), 10))
    finally:
        consumer.close()


def wait_processed(settings: OrionSettings, prefix: str, at_least: int, timeout_s: float) -> None:
    """Until the group committed ``at_least`` raw records, asking again on a timeout.

    ``processed`` reads under read_committed, so librdkafka waits for the stable
    offsets while a transaction holds pending offsets of the group; a worker
    SIGKILLed and restarted under a new id leaves one open for the 20 s transaction
    timeout and the 10 s read timed out (CI, 2026-12-02). Asking again keeps that
    wait (a read_uncommitted read would not wait, and then a test stopping a worker
    right after it meets an exactly-once bug, see the session note) without failing.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if processed(settings, prefix) >= at_least:
                return
        except KafkaException as e:
            if e.args[0].code() != KafkaError._TIMED_OUT:
                raise
        assert time.monotonic() < deadline, f"fewer than {at_least} processed in {timeout_s}s"
        time.sleep(0.2)


def wait_until_done(
    settings: OrionSettings, prefix: str, live: list[Worker], timeout_s: float = 240
) -> float:
    """Block until the group committed every raw record and no worker has parked facts."""
    consumer = Consumer({**settings.kafka_client_config(),
                         "group.id": prefix + "orion-processor"})  # fmt: skip
    tps = raw_partitions(prefix)
    started = time.monotonic()
    behind: dict[tuple[str, int], tuple[int, int]] = {}
    parked: list[float | None] = []
    try:
        while time.monotonic() - started < timeout_s:
            for w in live:
                assert w.proc.poll() is None, "a worker died:\n" + w.log_tail()
            try:
                high = {(tp.topic, tp.partition): consumer.get_watermark_offsets(tp, timeout=10)[1]
                        for tp in tps}  # fmt: skip
                done = {(tp.topic, tp.partition): tp.offset
                        for tp in consumer.committed(tps, timeout=10)}  # fmt: skip
            except KafkaException:  # the broker is restarting (a fault test): ask again
                time.sleep(1)
                continue
            # -1001: nothing committed yet
            behind = {k: (max(done[k], 0), h) for k, h in high.items() if max(done[k], 0) < h}
            parked = [w.metric("orion_processor_parked") for w in live]
            if not behind and all(p is not None and p == 0 for p in parked):
                # The last decisions (released parked facts) may still sit in an open
                # transaction: a read_committed reader would stop short of them.
                settled(
                    settings, prefix, timeout_s=max(timeout_s - (time.monotonic() - started), 30)
                )
                return time.monotonic() - started
            time.sleep(1)
    finally:
        consumer.close()
    # Say why, so a failure in CI (where the workers' log is gone) can be diagnosed.
    raise AssertionError(
        f"processing did not finish within {timeout_s}s: partitions behind (committed, end)"
        f" {behind}; parked per worker {parked}\n" + "\n".join(w.log_tail() for w in live)
    )
