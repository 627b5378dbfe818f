"""Handing records to a Kafka producer without dropping any: back-pressure, retries, flush.

Who uses it: the producing loop (:mod:`producers.runner`, one process) and
each producer worker (:mod:`producers.worker`, ``--workers N``). A failed
delivery is produced again (up to ``max_retries`` times) and every failure
is counted, so nothing is dropped silently; a stop flushes what is in flight.
Where the counts go is the caller's: straight into the Prometheus metrics in
the one-process loop, into a report sent to the simulating process in a worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import KafkaError, Message, Producer

from producers import metrics

__all__ = [
    "FLUSH_TIMEOUT_S",
    "LATENCY_SAMPLE",
    "Delivery",
    "DeliveryCounts",
    "drain",
    "produce",
    "resend",
]

FLUSH_TIMEOUT_S = 120.0
LATENCY_SAMPLE = 64  # time one delivery in this many


@dataclass
class DeliveryCounts:
    """What the delivery callbacks counted (the subset of the run's stats they own)."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0


def _observe_latency(seconds: float) -> None:
    metrics.DELIVERY_LATENCY.observe(seconds)


def _count_error(topic: str, again: bool) -> None:
    metrics.DELIVERY_ERRORS.labels(topic, str(again).lower()).inc()


class Delivery:
    """Delivery callback state: counts, and failed events queued for another try.

    ``observe_latency`` and ``count_error`` default to the producer metrics of
    this process; a worker passes functions that collect them for its report.
    """

    def __init__(
        self,
        stats: DeliveryCounts,
        max_retries: int,
        observe_latency: Callable[[float], None] = _observe_latency,
        count_error: Callable[[str, bool], None] = _count_error,
    ) -> None:
        self.stats = stats
        self.max_retries = max_retries
        self.retry: list[tuple[str, bytes, bytes, int]] = []
        self._observe_latency = observe_latency
        self._count_error = count_error
        self._lock = threading.Lock()
        self._published = 0

    def callback(self, attempt: int) -> Callable[[KafkaError | None, Message], None]:
        # Runs once per message on the hot path (inside poll/flush, in this thread):
        # the success branch only counts; metrics are published in bulk by sync_metrics,
        # and one delivery in LATENCY_SAMPLE is timed.
        stats = self.stats
        observe = self._observe_latency

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                stats.delivered += 1
                if not stats.delivered % LATENCY_SAMPLE:
                    latency = msg.latency()
                    if latency is not None:
                        observe(latency)
                return
            topic = msg.topic() or "?"
            again = attempt < self.max_retries and not err.fatal()
            self._count_error(topic, again)
            if again:
                with self._lock:
                    self.retry.append((topic, msg.key() or b"", msg.value() or b"", attempt + 1))
            else:
                self.stats.failed += 1

        return on_delivery

    def take_delivered(self) -> int:
        """Deliveries acknowledged since the last call (for a counter published in bulk)."""
        delta = self.stats.delivered - self._published
        self._published = self.stats.delivered
        return delta

    def sync_metrics(self) -> None:
        metrics.DELIVERED.inc(self.take_delivered())

    def take_retries(self) -> list[tuple[str, bytes, bytes, int]]:
        with self._lock:
            batch, self.retry = self.retry, []
        return batch


def produce(
    producer: Producer,
    topic: str,
    key: bytes,
    value: bytes,
    on_delivery: Callable[[KafkaError | None, Message], None],
) -> None:
    """Hand one record to the producer; a full local queue waits for deliveries, never drops."""
    while True:
        try:
            producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
            return
        except BufferError:
            producer.poll(0.05)  # local queue full: let deliveries drain, never drop


def resend(producer: Producer, delivery: Delivery) -> None:
    """Produce the failed deliveries queued by the callbacks again."""
    for topic, key, value, attempt in delivery.take_retries():
        delivery.stats.retried += 1
        produce(producer, topic, key, value, delivery.callback(attempt))


def drain(producer: Producer, delivery: Delivery) -> None:
    """Flush, producing failed deliveries again until none are left or time is up."""
    deadline = time.monotonic() + FLUSH_TIMEOUT_S
    while True:
        remaining = producer.flush(max(0.1, deadline - time.monotonic()))
        resend(producer, delivery)
        if (remaining == 0 and not len(producer)) or time.monotonic() >= deadline:
            break
    delivery.stats.failed += len(producer)  # still undelivered when time ran out: counted
