"""What a sink buffers: Kafka records exactly as received, grouped per topic-partition."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

TopicPartitionKey = tuple[str, int]


@dataclass(slots=True)
class KafkaRecord:
    """One Kafka record, byte for byte: nothing is decoded, so poison survives unchanged.

    ``timestamp_type`` is librdkafka's (0 none, 1 create time, 2 log-append
    time); ``headers`` keeps order and duplicates, as Kafka does.

    Treat it as read-only; it is not ``frozen`` because a frozen dataclass
    sets every field through ``object.__setattr__``: 1.4 us a record against
    0.4 us, one per consumed record in every object sink (the bronze sink
    went from 57.7-58.0k to 61.1-61.7k records/s, ``bench/s3_sink.py``,
    2026-12-02). Nothing hashes records.
    """

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    size: int = field(default=-1, init=False, compare=False)
    """Approximate bytes held in memory, what the byte limit of a batch counts; computed
    once here (it was a property walking the headers on every call: 9.9% of the silver
    sink's time in a py-spy profile, 2026-12-02, two calls per record)."""

    def __post_init__(self) -> None:
        n = 64 + len(self.key or b"") + len(self.value or b"")
        for k, v in self.headers:
            n += len(k) + len(v or b"") + 16
        self.size = n

    @classmethod
    def from_message(cls, message: Any) -> KafkaRecord:
        """From a confluent-kafka ``Message`` that carries no error."""
        ts_type, ts = message.timestamp()
        return cls(
            topic=message.topic(),
            partition=message.partition(),
            offset=message.offset(),
            timestamp=ts,
            timestamp_type=ts_type,
            key=message.key(),
            value=message.value(),
            headers=tuple(message.headers() or ()),
        )


@dataclass(frozen=True)
class BatchLimits:
    """When a partition's buffer is flushed: whichever limit is reached first.

    ``max_age_s`` is wall-clock time since the batch's first record, so an
    idle partition still flushes.
    """

    max_records: int = 50_000
    max_bytes: int = 16 * 1024 * 1024
    max_age_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_records < 1 or self.max_bytes < 1 or self.max_age_s <= 0:
            raise ValueError(f"batch limits must be positive, got {self}")


@dataclass
class Batch:
    """The buffered records of one topic-partition, contiguous in offset order."""

    topic: str
    partition: int
    records: list[KafkaRecord] = field(default_factory=list)
    size: int = 0
    started: float = field(default_factory=time.monotonic)

    def append(self, record: KafkaRecord) -> None:
        if not self.records:
            self.started = time.monotonic()
        self.records.append(record)
        self.size += record.size

    @property
    def first_offset(self) -> int:
        return self.records[0].offset

    @property
    def last_offset(self) -> int:
        return self.records[-1].offset

    def __len__(self) -> int:
        return len(self.records)
