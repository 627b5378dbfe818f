"""Clean topics filled from the simulator's ledger, and the loader as a process.

The stream processors are not needed: the ledger's ``expected`` record of
every ACCEPT/REPAIR event is exactly what they publish to ``clean.*``, so the
tests publish those records themselves, Avro-encoded through the registry,
keyed like the processors key them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psycopg2
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from orion.catalog import entities, load_schema, load_schema_text, subject
from orion.registry import Registry
from orion.serde import AvroEncoder
from orion.settings import OrionSettings
from orion.topics import TopicSpec, create_topics
from sinks.warehouse.configuration import WarehouseSinkConfig
from sinks.warehouse.consumer import WarehouseSink
from tests.orion_process import OrionProcess
from tests.warehouse_sql.support import reaching, to_clean


def create_clean_topics(settings: OrionSettings, prefix: str, partitions: int = 3) -> list[str]:
    specs = [TopicSpec(prefix + e.topic("clean"), partitions, {}) for e in entities()]
    create_topics(settings.kafka_client_config(), specs)
    return [s.name for s in specs]


def publish(
    settings: OrionSettings, prefix: str, events: Iterable[tuple[str, str, dict[str, Any]]]
) -> int:
    """Publish (stem, key, expected) as the processors would; returns the record count."""
    encoders: dict[str, AvroEncoder] = {}
    producer = Producer(
        {**settings.kafka_client_config(), "enable.idempotence": True, "linger.ms": 20}
    )
    failures: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            failures.append(err)

    n = 0
    with Registry(settings.schema_registry_url) as registry:
        for stem, key, expected in events:
            topic = f"{prefix}clean.{stem}"
            enc = encoders.get(stem)
            if enc is None:
                entity = next(e for e in entities() if e.stem == stem)
                path = entity.schema_path("clean")
                enc = AvroEncoder.register(
                    registry, subject(topic), load_schema(path), load_schema_text(path)
                )
                encoders[stem] = enc
            value = enc(to_clean(stem, expected))
            while True:
                try:
                    producer.produce(
                        topic,
                        key=key.encode(),
                        value=value,
                        on_delivery=on_delivery,
                    )
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
            n += 1
    assert producer.flush(60) == 0
    assert not failures, failures[:3]
    return n


def end_offsets(settings: OrionSettings, topics: list[str]) -> dict[tuple[str, int], int]:
    consumer = Consumer({**settings.kafka_client_config(), "group.id": "unused"})
    try:
        out = {}
        for topic in topics:
            meta = consumer.list_topics(topic, timeout=10).topics[topic]
            for p in meta.partitions:
                high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                if high:
                    out[(topic, p)] = high
        return out
    finally:
        consumer.close()


class LoaderProcess(OrionProcess):
    """``orion sink warehouse`` as a subprocess."""

    def __init__(self, log_path: Path, env: dict[str, str], *args: str) -> None:
        super().__init__(["sink", "warehouse", *args], log_path, env)


def loader_thread(
    settings: OrionSettings, dsn: str, config: WarehouseSinkConfig
) -> tuple[threading.Event, threading.Thread, list[BaseException]]:
    """An in-process loader into ``dsn`` on a thread: (stop, thread, errors it raised)."""
    sink = WarehouseSink(reaching(settings, dsn), config)
    stop = threading.Event()
    errors: list[BaseException] = []

    def body() -> None:
        try:
            sink.run(stop)
        except BaseException as e:  # surfaced by the test
            errors.append(e)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return stop, thread, errors


def stored_offsets(dsn: str) -> dict[tuple[str, int], int]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT topic, partition, next_offset FROM metadata.sink_offsets")
        out = {(t, p): o for t, p, o in cur.fetchall()}
    conn.close()
    return out


def wait_loaded(
    dsn: str, ends: dict[tuple[str, int], int], timeout: float, alive: Any = lambda: True
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert alive(), "the loader stopped before loading everything"
        if stored_offsets(dsn) == ends:
            return
        time.sleep(0.25)
    raise AssertionError(f"not loaded in {timeout}s")
