"""Replay: re-publish archived records from bronze and archive objects, byte for byte.

Objects are planned from their names alone (partition and start offset), so
each partition is replayed in offset order across dates and across bronze
and archive copies; an offset already sent (a record both in bronze and in
an archive object, mid-compaction) is skipped. Records keep key, value,
headers and timestamp; they go to the same partition number when the target
has enough partitions, else to the partition the key hashes to. The producer
is idempotent, so retries inside a run never duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException, Producer

from orion.exceptions import ConfigurationError, ServiceUnavailableError
from orion.settings import OrionSettings
from sinks.base.storage import S3Storage
from sinks.s3.format import iter_records
from sinks.s3.partitioner import ObjectName, parse_key

log = logging.getLogger("sinks.replay")
PREFIXES = ("bronze", "archive")


@dataclass
class ReplayStats:
    objects: int = 0
    records: int = 0
    duplicates: int = 0


def plan_replay(
    storage: S3Storage, topic: str, first: dt.date, last: dt.date
) -> dict[int, list[ObjectName]]:
    """Objects of ``topic`` dated ``first``..``last`` per partition, in start-offset order."""
    by_partition: dict[int, list[ObjectName]] = defaultdict(list)
    for prefix in PREFIXES:
        for folder in storage.list_folders(f"{prefix}/{topic}/"):
            try:
                date = dt.date.fromisoformat(folder.rstrip("/").rsplit("dt=", 1)[-1])
            except ValueError:
                continue
            if not first <= date <= last:
                continue
            for key in storage.list_keys(folder):
                name = parse_key(key)
                if name is not None and name.topic == topic:
                    by_partition[name.partition].append(name)
    return {
        p: sorted(names, key=lambda n: (n.start_offset, n.prefix != "archive"))
        for p, names in sorted(by_partition.items())
    }


def _producer(settings: OrionSettings) -> Producer:
    return Producer(
        {
            **settings.kafka_client_config(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 20,
            "compression.type": "lz4",
            "client.id": "orion-replay",
        }
    )


def _partitions(producer: Producer, topic: str) -> int:
    try:
        meta = producer.list_topics(topic, timeout=10)
    except KafkaException as e:
        raise ServiceUnavailableError(
            f"Kafka did not answer: {e}", fix="check ORION_KAFKA_BOOTSTRAP"
        ) from e
    t = meta.topics.get(topic)
    if t is None or t.error is not None or not t.partitions:
        raise ConfigurationError(
            f"target topic {topic!r} does not exist",
            fix="create it first (`orion topics create`, or with the partitions you want)",
        )
    return len(t.partitions)


def replay(
    settings: OrionSettings,
    storage: S3Storage,
    topic: str,
    first: dt.date,
    last: dt.date,
    target: str,
    *,
    on_object: Callable[[int, int], None] | None = None,
) -> ReplayStats:
    """Publish every archived record of ``topic`` dated ``first``..``last`` to ``target``."""
    plan = plan_replay(storage, topic, first, last)
    total = sum(len(v) for v in plan.values())
    stats = ReplayStats()
    failures: list[str] = []

    def delivered(error: Any, _msg: Any) -> None:
        if error is not None:
            failures.append(str(error))

    producer = _producer(settings)
    target_partitions = _partitions(producer, target)
    for partition, names in plan.items():
        sent_up_to = -1
        out_partition = partition if partition < target_partitions else None
        for name in names:
            for r in iter_records(storage.get(name.key)):
                if r.offset <= sent_up_to:
                    stats.duplicates += 1
                    continue
                kwargs: dict[str, Any] = {
                    "key": r.key,
                    "value": r.value,
                    "headers": list(r.headers),
                    "on_delivery": delivered,
                }
                if out_partition is not None:
                    kwargs["partition"] = out_partition
                if r.timestamp >= 0:
                    kwargs["timestamp"] = r.timestamp
                while True:
                    try:
                        producer.produce(target, **kwargs)
                        break
                    except BufferError:
                        producer.poll(0.1)
                producer.poll(0)
                sent_up_to = r.offset
                stats.records += 1
            stats.objects += 1
            if on_object is not None:
                on_object(stats.objects, total)
    remaining = producer.flush(60)
    if remaining or failures:
        raise ServiceUnavailableError(
            f"{remaining + len(failures)} replayed records were not delivered: {failures[:3]}",
            fix="check Kafka and run the replay again into a fresh topic",
        )
    log.info("replay finished", extra={"topic": topic, "target": target, "records": stats.records})
    return stats
