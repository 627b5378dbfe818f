"""Where a partition's processing must start: the group's committed offset, asked of the broker.

Why not Faust's idea of it: faust-streaming 0.15.3 maps a committed offset of
0 to "none", and after a rebalance its view can lag the commit the previous
owner made while giving the partition up. Seen 2026-11-25: the first record
of a partition was skipped after a restart, and a new owner got its first
record of a partition at offset 35 while Faust knew no committed offset for
it. The agent
asks here once per partition after each assignment, from a plain client that
never joins the group, so the answer does not wait on Faust's consumer
thread (which may itself be waiting for the agent).

Faust's streams also drop records fetched around a rebalance (flow
suspended, or an older consumer generation) after its fetch loop has moved
past them, so they are never fetched again. When the agent sees a record past
the next expected one, it reads the missing ones here (:meth:`Positions.read`)
and handles them first. A seek back through Faust's consumer did not work:
the rest of the already-fetched batch moved Faust's read offset past the
seek again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import NamedTuple

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)

__all__ = ["Positions", "Record"]


class Record(NamedTuple):
    offset: int
    timestamp: float | None
    key: bytes | None
    value: bytes | None


class Positions:
    """Committed offsets of one consumer group, read_committed (stable offsets only)."""

    def __init__(self, bootstrap: str, group_id: str) -> None:
        self._client = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group_id,
                "enable.auto.commit": False,
                "isolation.level": "read_committed",  # waits out pending transactional commits
            }
        )
        self._reader = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group_id + "-gapfill",  # never subscribes, never commits
                "enable.auto.commit": False,
                "enable.partition.eof": True,
            }
        )
        self._lock = threading.Lock()

    def _start_of(self, topic: str, partition: int) -> int:
        with self._lock:
            tp = self._client.committed([TopicPartition(topic, partition)], timeout=30)[0]
        return int(tp.offset) if tp.offset >= 0 else self._watermarks(topic, partition)[0]

    def _watermarks(self, topic: str, partition: int) -> tuple[int, int]:
        with self._lock:
            low, high = self._client.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=30, cached=False
            )
        return int(low), int(high)

    async def high_water(self, topic: str, partition: int) -> int:
        """The offset after the last record of a raw partition (no transactions there)."""
        return (await asyncio.to_thread(self._watermarks, topic, partition))[1]

    async def start_of(self, topic: str, partition: int) -> int:
        """The offset the group resumes ``topic``/``partition`` at (log start if none)."""
        return await asyncio.to_thread(self._start_of, topic, partition)

    def _offsets_at(self, tps: list[tuple[str, int]], ts_ms: int) -> dict[tuple[str, int], int]:
        with self._lock:
            found = self._client.offsets_for_times(
                [TopicPartition(t, p, ts_ms) for t, p in tps], timeout=30
            )
        return {(tp.topic, tp.partition): int(tp.offset) for tp in found}

    async def offsets_at(
        self, tps: list[tuple[str, int]], ts_ms: int
    ) -> dict[tuple[str, int], int]:
        """Per partition, the first offset whose record timestamp is >= ``ts_ms``.

        A negative offset means no such record yet. Raises KafkaException when the
        broker does not answer.
        """
        return await asyncio.to_thread(self._offsets_at, tps, ts_ms)

    def _read(self, topic: str, partition: int, start: int, end: int) -> list[Record]:
        out: list[Record] = []
        with self._lock:
            self._reader.assign([TopicPartition(topic, partition, start)])
            try:
                deadline = time.monotonic() + 30
                while True:
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"{topic}[{partition}] {start}..{end - 1} not read in 30 s"
                        )
                    msg = self._reader.poll(1.0)
                    if msg is None:
                        continue
                    err = msg.error()
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            break
                        raise KafkaException(err)
                    offset = msg.offset() or 0
                    if offset >= end:
                        break
                    ts_type, ts_ms = msg.timestamp()
                    ts = ts_ms / 1000 if ts_type != TIMESTAMP_NOT_AVAILABLE else None
                    out.append(Record(offset, ts, msg.key(), msg.value()))
            finally:
                self._reader.unassign()
        return out

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[Record]:
        """Records ``start`` up to (not including) ``end`` of one partition, in order.

        Raises TimeoutError or KafkaException when the broker does not serve them;
        records deleted by retention are simply not in the list.
        """
        return await asyncio.to_thread(self._read, topic, partition, start, end)

    def close(self) -> None:
        self._client.close()
        self._reader.close()
