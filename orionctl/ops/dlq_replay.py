"""Re-feed dead letters through the processors, after a rule or a source was fixed.

Each matching dead letter's original key and value go back to the raw topic
it came from (its ``orion.source.topic`` header), marked with
``orion.replayed.from``; the processors judge it again. Progress is kept in a
consumer group per DLQ topic and reason, committed only after the producer
flushed, so running the same replay twice sends nothing twice, and a replay
of one reason never skips the dead letters of another.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from orion import deadletter
from orion.exceptions import ConfigurationError, ServiceUnavailableError
from orion.settings import OrionSettings

TIMEOUT_S = 15.0
STALL_S = 60.0


@dataclass
class DlqReplay:
    read: int = 0
    sent: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)  # matching dead letters
    by_target: Counter[str] = field(default_factory=Counter)


def _headers(
    raw: dict[str, str | bytes | None] | list[tuple[str, str | bytes | None]] | None,
) -> dict[str, str]:
    out = {}
    for key, value in raw.items() if isinstance(raw, dict) else raw or []:
        if value is not None:
            out[key] = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return out


def _matching(msg: Any, reason: str | None, result: DlqReplay) -> str | None:
    """The raw topic to re-publish a dead letter to, when it has the wanted reason.

    A dead letter written without its payload (too large to copy) has nothing to
    re-feed: its original is the raw record its source headers name."""
    headers = _headers(msg.headers())
    got = headers.get(deadletter.REASON, "")
    if (reason is not None and got != reason) or deadletter.PAYLOAD_OMITTED in headers:
        return None
    target = headers.get(deadletter.SOURCE_TOPIC, "")
    result.by_reason[got] += 1
    result.by_target[target] += 1
    return target or None


def replay_group(settings: OrionSettings, dlq_topic: str, reason: str | None) -> str:
    return f"{settings.topic_prefix}orion-dlq-replay.{dlq_topic}.{reason or 'all'}"


def replay_dlq(
    settings: OrionSettings,
    dlq_topic: str,
    reason: str | None = None,
    *,
    execute: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> DlqReplay:
    """Read the DLQ from the group's position to its current end; re-publish when ``execute``."""
    consumer = Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": replay_group(settings, dlq_topic, reason),
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
        }
    )
    producer = (
        Producer(
            {
                **settings.kafka_client_config(),
                "enable.idempotence": True,
                "acks": "all",
            }
        )
        if execute
        else None
    )
    result = DlqReplay()
    try:
        try:
            meta = consumer.list_topics(dlq_topic, timeout=TIMEOUT_S).topics.get(dlq_topic)
        except KafkaException as e:
            raise ServiceUnavailableError(
                f"Kafka did not answer: {e}", fix="check `orion stack status`"
            ) from e
        if meta is None or meta.error is not None or not meta.partitions:
            raise ConfigurationError(
                f"no such topic: {dlq_topic}",
                fix="name a dlq.<domain>.<entity> topic (see `orion lag`)",
            )
        parts = [TopicPartition(dlq_topic, p) for p in sorted(meta.partitions)]
        committed = consumer.committed(parts, timeout=TIMEOUT_S)
        ends, starts = {}, []
        for tp in committed:
            low, high = consumer.get_watermark_offsets(tp, timeout=TIMEOUT_S)
            start = tp.offset if tp.offset >= 0 else low
            ends[tp.partition] = high
            if start < high:
                starts.append(TopicPartition(dlq_topic, tp.partition, start))
        total = sum(ends[tp.partition] - tp.offset for tp in starts)
        consumer.assign(starts)
        todo = [TopicPartition(dlq_topic, tp.partition) for tp in starts]
        positions: dict[int, int] = {}
        stalled_at = time.monotonic()
        while todo:
            for msg in consumer.consume(1000, timeout=1.0):
                partition, offset = int(msg.partition() or 0), int(msg.offset() or 0)
                if msg.error() is not None or offset >= ends.get(partition, 0):
                    continue  # a record newer than the end taken at the start: next run's
                result.read += 1
                positions[partition] = offset + 1
                stalled_at = time.monotonic()
                target = _matching(msg, reason, result)
                if producer is not None and target:
                    marker = f"{dlq_topic}:{partition}:{offset}".encode()
                    producer.produce(
                        target,
                        key=msg.key(),
                        value=msg.value(),
                        headers=[(deadletter.REPLAYED_FROM, marker)],
                    )
                    producer.poll(0)
                    result.sent += 1
            # The processors write dead letters in transactions: the end offset taken at
            # the start may be a commit marker no record sits at, so a partition is done
            # when the consumer's position (which steps over markers) reaches it.
            reached = [tp for tp in consumer.position(todo) if tp.offset >= ends[tp.partition]]
            for tp in reached:
                positions[tp.partition] = ends[tp.partition]
                stalled_at = time.monotonic()
            todo = [tp for tp in todo if tp.partition not in {r.partition for r in reached}]
            if on_progress is not None:
                on_progress(result.read, total)
            if todo and time.monotonic() - stalled_at > STALL_S:
                left = {tp.partition: ends[tp.partition] for tp in todo}
                raise ServiceUnavailableError(
                    f"{dlq_topic}: no progress for {STALL_S:.0f}s towards the end offsets"
                    f" {left}; nothing was marked done",
                    fix="a transaction on the topic may be open: check the processors, retry",
                )
        if producer is not None:
            if producer.flush(60) != 0:
                raise ServiceUnavailableError(
                    "some re-published records were not delivered; nothing was marked done",
                    fix="run it again",
                )
            if positions:
                consumer.commit(
                    offsets=[TopicPartition(dlq_topic, p, o) for p, o in positions.items()],
                    asynchronous=False,
                )
    finally:
        consumer.close()
    return result
