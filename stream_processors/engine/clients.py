"""The engine's Kafka clients and why each setting is what it is.

One transactional producer per worker (KIP-447: the consumer group's
metadata fences zombies, so one producer serves every partition), one
consumer in the group, and a plain reader for changelogs. Transactions need
``message.timeout.ms`` below ``transaction.timeout.ms``: a record that cannot
be delivered fails (and aborts) its transaction before the coordinator
times the transaction out. The transaction timeout is also how long a
worker's transaction left open by a SIGKILL blocks read_committed readers
when no process with the same ``--instance-id`` comes back to fence it.
"""

from __future__ import annotations

from typing import Any

from orion.kafka_config import KafkaConfig
from stream_processors.configuration import ProcessorConfig
from stream_processors.record_size import MAX_RECORD_BYTES

__all__ = ["TRANSACTION_TIMEOUT_MS", "consumer_config", "producer_config", "reader_config"]

TRANSACTION_TIMEOUT_MS = 20_000  # Kafka Streams uses 10 s under exactly-once
MESSAGE_TIMEOUT_MS = 15_000


def consumer_config(kafka: KafkaConfig, group: str, config: ProcessorConfig) -> dict[str, Any]:
    session_ms = int(config.session_timeout_s * 1000)
    conf: dict[str, Any] = {
        **kafka,
        "group.id": group,
        "enable.auto.commit": False,  # offsets go into the transaction
        "enable.auto.offset.store": False,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        # Partition p of every raw topic on one worker: a parked payment and the parked
        # sale it waits for are decided by the same worker (see processor._passed).
        # cooperative-sticky would move single topic-partitions and break that.
        "partition.assignment.strategy": "range",
        "session.timeout.ms": session_ms,
        "heartbeat.interval.ms": max(1000, min(3000, session_ms // 3)),
        "max.poll.interval.ms": 300_000,
        "queued.max.messages.kbytes": 32768,
        "fetch.max.bytes": 16 * 1024 * 1024,
        # Small per-partition fetches interleave the topics in a backlog, so facts
        # are read roughly in step with their masters instead of a megabyte ahead.
        "max.partition.fetch.bytes": 64 * 1024,
    }
    if config.instance_id is not None:
        conf["group.instance.id"] = config.instance_id  # static membership
    return conf


def producer_config(kafka: KafkaConfig, transactional_id: str) -> dict[str, Any]:
    return {
        **kafka,
        "transactional.id": transactional_id,
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "lz4",
        "linger.ms": 5,
        "batch.size": 1024 * 1024,
        "queue.buffering.max.messages": 1_000_000,
        "queue.buffering.max.kbytes": 512 * 1024,
        "transaction.timeout.ms": TRANSACTION_TIMEOUT_MS,
        "message.timeout.ms": MESSAGE_TIMEOUT_MS,
        # The processor checks what it writes against this before producing it
        # (record_size.py): a refused record would abort every retry of its batch.
        "message.max.bytes": MAX_RECORD_BYTES,
    }


def reader_config(kafka: KafkaConfig) -> dict[str, Any]:
    """A consumer outside any group that reads changelogs back (committed data only)."""
    return {
        **kafka,
        "group.id": "orion-changelog-reader",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "queued.max.messages.kbytes": 32768,
    }
