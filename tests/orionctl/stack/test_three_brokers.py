"""A three-node Kafka loses a broker to SIGKILL mid-run, and the ledger still holds exactly.

The test's own cluster (``orion stack up --brokers 3``'s nodes only, under a
directory and ports of its own) stands beside the session's stack, whose
registry, PostgreSQL and S3 the run uses. Producer, processor and bronze sink
run as their own principals; nobody restarts a client by hand, but like any
deployment the services run under supervision: a worker whose transaction
outlived its timeout while partition leadership moved is fenced and exits by
design, and is started again with its instance id (the test prints such exits).
Then the killed broker comes back and rejoins every ISR.

Marked ``cluster``: about 3 minutes (three more JVMs), run by ``make
test-cluster``, not by ``make test`` (CI time).
"""

from __future__ import annotations

import os
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from orion.exceptions import ServiceUnavailableError
from orion.settings import OrionSettings, load_settings
from orionctl.drills.checks import bronze_check, ledger_check
from orionctl.ops import offsets
from orionctl.pipeline_run import PipelineRun
from orionctl.stack import manager
from orionctl.stack.config import StackConfig, load_stack_config
from orionctl.stack.kafka import NODE_PORT_STEP, Kafka

pytestmark = [pytest.mark.integration, pytest.mark.cluster]
EVENTS = 15_000
RATE = 1_500  # ten seconds of producing: the kill lands in the middle
PARTITIONS = 3
KAFKA_VARIABLES = (
    "ORION_KAFKA_BOOTSTRAP",
    "ORION_KAFKA_SECURITY_PROTOCOL",
    "ORION_KAFKA_SASL_USERNAME",
    "ORION_KAFKA_SASL_PASSWORD",
    "ORION_KAFKA_CA_FILE",
)


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _free_base() -> int:
    """Client and controller ports whose +10/+20 are free too (others' stacks sit at +100s)."""
    for base in range(19792, 19992, 50):
        ports = [base + d + NODE_PORT_STEP * n for n in range(3) for d in (0, 1)]
        if all(_free(p) for p in ports):
            return base
    raise AssertionError("no free ports for the three-broker cluster")


@pytest.fixture
def cluster(
    stack: StackConfig, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[StackConfig, OrionSettings]]:
    """Three Kafka nodes of the test's own, and settings that reach them (the rest: the
    session's stack); the nodes are stopped and their data deleted after."""
    base = _free_base()
    monkeypatch.setenv("ORION_STACK_DIR", str(tmp_path_factory.mktemp("brokers3")))
    monkeypatch.setenv("ORION_STACK_KAFKA_PORT", str(base))
    monkeypatch.setenv("ORION_STACK_KAFKA_CONTROLLER_PORT", str(base + 1))
    monkeypatch.delenv("ORION_STACK_KAFKA_BENCH_PORT", raising=False)
    cfg = load_stack_config()
    shared = manager.endpoints(stack)
    try:
        manager.up(cfg, brokers=3, only=("kafka",))
        own = manager.endpoints(cfg)
        for name, value in shared.items():
            monkeypatch.setenv(name, own[name] if name in KAFKA_VARIABLES else value)
        yield cfg, load_settings(cfg.dir)
    finally:
        manager.down(cfg, purge=True)


def test_a_broker_killed_mid_run_loses_and_doubles_nothing(
    cluster: tuple[StackConfig, OrionSettings], tmp_path: Path
) -> None:
    cfg, settings = cluster
    kafka = settings.kafka_client_config()
    prefix = f"b3{uuid.uuid4().hex[:8]}."
    database = f"orion_b3_{uuid.uuid4().hex[:8]}"
    run = PipelineRun(
        settings, prefix=prefix, run_dir=tmp_path, database=database, partitions=PARTITIONS
    )
    try:
        run.prepare()  # topics: replication factor 3, min.insync.replicas 2 (the cluster's)
        run.start("processor", ["--instance-id", "b3-1"])
        run.start("sink-s3", ["--instance-id", "b3-s3"])
        _wait_members(kafka, [prefix + "orion-processor", prefix + "orion-s3-sink"], run)
        ledger = tmp_path / "ledger.jsonl"
        producer = run.launch(
            ["produce", "--events", str(EVENTS), "--rate", str(RATE), "--seed", "16",
             "--ledger", str(ledger)],
            principal="producer", log_name="producer",
        )  # fmt: skip
        clean = [(prefix + t, p) for t, p in run_topics("clean")]
        deadline = time.monotonic() + 60
        while sum(offsets.list_offsets(kafka, clean, offsets.LATEST).values()) < EVENTS // 10:
            assert time.monotonic() < deadline, "the processor wrote too little in 60 s"
            time.sleep(0.5)
        assert producer.poll() is None, "the broker must die while the producer still writes"
        victim = Kafka(cfg, node=1)  # first in every client's bootstrap list
        pid = victim.process.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        assert producer.wait(timeout=120) == 0, (tmp_path / "producer.log").read_text()[-2000:]
        raw = [(prefix + t, p) for t, p in run_topics("raw")]
        for group in ("orion-processor", "orion-s3-sink"):
            _wait_consumed(kafka, prefix + group, raw, run)
        print(f"consumed {time.monotonic() - killed_at:.1f}s after the kill")
        checks = [
            ledger_check(settings, prefix, ledger),
            bronze_check(settings, prefix, PARTITIONS),
        ]
        print("exits under supervision:", run.exits or "none")
        assert all(c.ok for c in checks), "\n".join(c.line() for c in checks)
        assert run.dead() == []
        manager.up(cfg, only=("kafka",))  # the broker comes back and catches up
        assert victim.process.pid() not in (None, pid)
        _wait_full_isr(settings, prefix + "raw.erp.sales")
    finally:
        codes = run.stop()
        _drop(settings, database)
    assert all(code == 0 for code in codes.values()), codes


def _wait_members(kafka: dict[str, object], groups: list[str], run: PipelineRun) -> None:
    """Until every group has a member (its service subscribed, its transactions initialised)."""
    deadline = time.monotonic() + 120
    while True:
        assert not run.dead(), f"{run.dead()} exited while starting"
        try:
            if all(offsets.active_members(kafka, g) for g in groups):
                return
        except ServiceUnavailableError:  # NOT_COORDINATOR: __consumer_offsets being created
            pass
        assert time.monotonic() < deadline, f"{groups} had no members after 120 s"
        time.sleep(1)


def _wait_consumed(
    kafka: dict[str, object], group: str, raw: list[tuple[str, int]], run: PipelineRun
) -> None:
    """Until ``group`` committed the end of every raw partition; exited services are
    started again meanwhile."""
    ends = offsets.list_offsets(kafka, raw, offsets.LATEST)
    deadline = time.monotonic() + 180
    while True:
        run.supervise(print)
        try:
            done = offsets.committed_offsets(kafka, group)
        except ServiceUnavailableError:
            done = {}
        behind = {tp: (done.get(tp), end) for tp, end in ends.items() if (done.get(tp) or 0) < end}
        if not behind:
            return
        assert time.monotonic() < deadline, f"{group} behind after 180 s: {behind}"
        time.sleep(1)


def run_topics(layer: str) -> list[tuple[str, int]]:
    from orion.catalog import entities

    return [(e.topic(layer), p) for e in entities() for p in range(PARTITIONS)]


def _wait_full_isr(settings: OrionSettings, topic: str, timeout_s: float = 60) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(settings.kafka_client_config())
    deadline = time.monotonic() + timeout_s
    while True:
        parts = admin.list_topics(topic, timeout=10).topics[topic].partitions
        isrs = {p: sorted(m.isrs) for p, m in parts.items()}
        if all(isr == [1, 2, 3] for isr in isrs.values()):
            return
        assert time.monotonic() < deadline, f"the restarted broker is not back in sync: {isrs}"
        time.sleep(1)


def _drop(settings: OrionSettings, database: str) -> None:
    conn = psycopg2.connect(settings.database_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            name = sql.Identifier(database)
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
    finally:
        conn.close()
