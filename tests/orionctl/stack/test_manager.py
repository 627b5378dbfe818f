"""The stack's promises: idempotent `up`, recovery after a crash, data kept across restarts."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg2
import pytest
from confluent_kafka import Consumer, Producer

from orion.settings import OrionSettings
from orionctl.stack import manager
from orionctl.stack.config import StackConfig
from orionctl.stack.kafka import Kafka
from orionctl.stack.postgres import Postgres
from orionctl.stack.process import is_alive, wait_until
from orionctl.stack.s3 import S3Store

pytestmark = [pytest.mark.integration, pytest.mark.serial]


def _processes_with(marker: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd and is_alive(int(entry)):
            pids.append(int(entry))
    return pids


def test_up_twice_leaves_one_process_per_service(stack: StackConfig) -> None:
    before = {s.name: s.pid for s in manager.status(stack)}
    rows = manager.up(stack)
    assert {r.name: r.pid for r in rows} == before
    assert all(r.healthy for r in rows)
    for comp in manager.components(stack, ()):  # Airflow rewrites its command line
        assert _processes_with(str(comp.home)) == [before[comp.name]], comp.name


def _consume_all(settings: OrionSettings, topic: str, expected: int) -> list[bytes]:
    consumer = Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": uuid.uuid4().hex,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    values: list[bytes] = []
    deadline = time.monotonic() + 60
    try:
        while len(values) < expected and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None:
                value = msg.value()
                assert value is not None
                values.append(value)
    finally:
        consumer.close()
    return values


def test_kafka_killed_with_sigkill_comes_back_with_topics_and_messages(
    stack: StackConfig, settings: OrionSettings, kafka_topic: Callable[..., str]
) -> None:
    topic = kafka_topic(partitions=3)
    sent = [f"message-{i}".encode() for i in range(500)]
    producer = Producer({**settings.kafka_client_config(), "acks": "all"})
    for i, value in enumerate(sent):
        producer.produce(topic, key=str(i).encode(), value=value)
    assert producer.flush(30) == 0

    kafka = Kafka(stack)
    pid = kafka.process.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not is_alive(pid), 10)
    assert not kafka.healthy()

    rows = {r.name: r for r in manager.up(stack)}
    assert rows["kafka"].healthy and rows["kafka"].pid != pid
    assert sorted(_consume_all(settings, topic, len(sent))) == sorted(sent)


def test_postgres_and_s3_keep_their_data_across_stop_and_up(
    stack: StackConfig,
    settings: OrionSettings,
    s3_client: Any,
    s3_bucket: Callable[[], str],
) -> None:
    bucket = s3_bucket()
    body = uuid.uuid4().bytes
    s3_client.put_object(Bucket=bucket, Key="kept", Body=body)
    marker = uuid.uuid4().hex
    with psycopg2.connect(settings.database_dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS public.stack_test (marker text)")
        cur.execute("INSERT INTO public.stack_test VALUES (%s)", (marker,))

    # The registry depends on PostgreSQL; stop it too, as `orion stack down` would.
    for comp in (manager.components(stack)[1], S3Store(stack), Postgres(stack)):
        assert comp.stop(), comp.name
    assert not Postgres(stack).healthy()
    manager.up(stack)

    assert s3_client.get_object(Bucket=bucket, Key="kept")["Body"].read() == body
    with psycopg2.connect(settings.database_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public.stack_test WHERE marker = %s", (marker,))
        assert cur.fetchone() == (1,)
        cur.execute("DELETE FROM public.stack_test WHERE marker = %s", (marker,))
