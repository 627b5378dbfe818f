"""A parked fact's barrier: the offsets its referenced raw partitions must be processed past.

The barrier of a fact produced at Kafka time T is everything produced up to
T + reference grace. Per referenced raw partition that is the first offset
whose timestamp is later (Kafka's offsets-for-times), which in a backlog
lies far before the end of it: facts read ahead of their masters do not wait
for the whole backlog. Where nothing that late exists yet (a live or quiet
stream), the barrier is the high-water mark of a status polled *after*
T + grace, so the fact waits the grace out: a master produced two seconds
after its fact still counts, in a quiet stream too.

Lookups are grouped: the facts of one decision pass are cut into at most
``slices`` slices of their time span and each slice is looked up once, at
its end (a later barrier only decides later, never wrongly).
"""

from __future__ import annotations

import logging

from confluent_kafka import Consumer, KafkaException, TopicPartition

from orion.kafka_config import KafkaConfig
from stream_processors import metrics
from stream_processors.references import Status

__all__ = ["BarrierLookup", "barrier_times"]

log = logging.getLogger("orion.processor")
TPKey = tuple[str, int]


def barrier_times(stamps: list[int | None], slices: int) -> list[int | None]:
    """For each timestamp (ms), the end of its slice of the span (None stays None).

    Never before a fact's own time, non-decreasing in it, and at most
    ``slices`` (+1) distinct values however many facts there are.
    """
    known = [t for t in stamps if t is not None]
    if not known:
        return [None] * len(stamps)
    start = min(known)
    width = max(-(-(max(known) - start) // slices), 1)  # rounded up: at most slices + 1
    return [None if t is None else start + ((t - start) // width + 1) * width for t in stamps]


class BarrierLookup:
    """Offsets-for-times on a plain client that never joins the group."""

    def __init__(self, kafka: KafkaConfig, grace_ms: int) -> None:
        self._client = Consumer({**kafka, "group.id": "orion-barriers",
                                 "enable.auto.commit": False})  # fmt: skip
        self.grace_ms = grace_ms

    def close(self) -> None:
        self._client.close()

    def barrier(
        self, tps: list[TPKey], until_ms: int | None, status: Status
    ) -> dict[TPKey, int] | None:
        """Offsets per partition that must be processed; None: not decidable yet (wait)."""
        hwm = {tp: status.raw_hwm[tp] for tp in tps}
        if until_ms is None:
            return hwm
        at_ms = until_ms + self.grace_ms
        try:
            found = self._client.offsets_for_times(
                [TopicPartition(t, p, at_ms) for t, p in tps], timeout=10
            )
        except KafkaException as e:
            metrics.RETRIES.labels("barrier_lookup").inc()
            log.warning("offsets-for-times lookup failed; trying again later",
                        extra={"error": repr(e)})  # fmt: skip
            return None
        out: dict[TPKey, int] = {}
        for tp in found:
            key = (tp.topic, tp.partition)
            if tp.offset >= 0:
                out[key] = min(tp.offset, hwm[key])
            elif status.polled_at_ms > at_ms:
                out[key] = hwm[key]  # nothing that late yet, and the grace is over
            else:
                return None  # the grace is not over: a master may still come
        return out
