"""Count dead letters per topic and reason by reading the ``dlq.*`` topics' headers.

Read from the beginning of each partition to its end (partition EOF), with
no consumer group offsets committed, so counting changes nothing. Used by
the demo's summary and by the HTML report's data-quality section.
"""

from __future__ import annotations

from collections import Counter

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from orion import deadletter
from orion.catalog import entities
from orion.kafka_config import KafkaConfig

__all__ = ["count_dead_letters"]

TIMEOUT_S = 10.0


def count_dead_letters(kafka: KafkaConfig, prefix: str) -> Counter[tuple[str, str]]:
    """Records per (dlq topic without ``prefix``, reason) of every entity's dead-letter topic.

    Raises KafkaException when the broker does not answer within the timeout;
    a dead-letter topic that does not exist counts nothing.
    """
    consumer = Consumer(
        {
            **kafka,
            "group.id": prefix + "orion-dead-letter-count",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
            "socket.timeout.ms": int(TIMEOUT_S * 1000),
        }
    )
    counts: Counter[tuple[str, str]] = Counter()
    try:
        existing = consumer.list_topics(timeout=TIMEOUT_S).topics
        parts = []
        for e in entities():
            topic = prefix + e.topic("dlq")
            meta = existing.get(topic)
            for p in meta.partitions if meta is not None else ():
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, p), timeout=TIMEOUT_S
                )
                if high > low:
                    parts.append(TopicPartition(topic, p, low))
        consumer.assign(parts)
        pending = {(tp.topic, tp.partition) for tp in parts}
        idle = 0
        while pending and idle < 10:
            batch = consumer.consume(5000, timeout=1.0)
            idle = 0 if batch else idle + 1
            for msg in batch:
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        pending.discard((str(msg.topic()), int(msg.partition() or 0)))
                        continue
                    raise KafkaException(err)
                raw = dict(msg.headers() or []).get(deadletter.REASON) or b"?"
                reason = raw.decode() if isinstance(raw, bytes) else str(raw)
                counts[(str(msg.topic()).removeprefix(prefix), reason)] += 1
    finally:
        consumer.close()
    return counts
