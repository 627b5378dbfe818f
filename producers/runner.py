"""The producing loop: simulated events to Kafka, Avro through the registry.

Who calls it: ``orion produce``. Guarantees: the producer is idempotent with
``acks=all``; a failed delivery is produced again (up to ``max_retries``
times) and every failure is counted, so nothing is dropped silently; a stop
(Ctrl-C, SIGTERM, the event or time budget) flushes what is in flight before
it returns. Kafka record timestamps are wall-clock send times; the business
time of an event is in its ``event_time`` field.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from orion.catalog import entities, load_schema, load_schema_text, subject
from orion.exceptions import ConfigurationError
from orion.kafka_config import KafkaConfig, bootstrap_of
from orion.registry import Registry
from orion.serde import AvroEncoder
from orion.settings import OrionSettings
from orion.topics import existing_topics
from producers import metrics
from producers.ledger import LedgerWriter
from producers.simulation import SimEvent, SimulationConfig, simulate

FLUSH_TIMEOUT_S = 120.0
LATENCY_SAMPLE = 64  # time one delivery in this many


@dataclass(frozen=True)
class ProduceOptions:
    """How much to send and how fast."""

    events: int | None = None  # stop after this many events
    duration_s: float | None = None  # or after this many seconds
    rate: float | None = None  # events per second; None = as fast as possible
    ledger: Path | None = None
    max_retries: int = 3


@dataclass
class ProduceStats:
    sent: int = 0
    bytes: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    elapsed_s: float = 0.0
    by_topic: Counter[str] = field(default_factory=Counter)
    by_defect: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s else 0.0


def producer_config(settings: OrionSettings) -> dict[str, Any]:
    return {
        **settings.kafka_client_config(),
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 20,
        "batch.size": 1_000_000,
        "batch.num.messages": 20_000,
        "compression.type": "lz4",
        "queue.buffering.max.messages": 1_000_000,
        "queue.buffering.max.kbytes": 512 * 1024,
        "message.timeout.ms": 120_000,
        "client.id": "orion-producer",
    }


def check_broker(
    producer: Producer, kafka: KafkaConfig, prefix: str = "", timeout_s: float = 10.0
) -> None:
    """Fail within seconds, with the fix, when the broker refuses us or a raw topic is missing."""
    existing = existing_topics(producer, kafka, timeout_s)
    bootstrap = bootstrap_of(kafka)
    missing = sorted({prefix + e.topic("raw") for e in entities()} - existing)
    if missing:
        raise ConfigurationError(
            f"topics missing on {bootstrap}: {', '.join(missing)}",
            fix="create them with `orion topics create`",
        )


def build_encoders(registry: Registry, prefix: str = "") -> dict[str, AvroEncoder]:
    """Register every raw schema (BACKWARD-checked); one encoder per (unprefixed) raw topic."""
    encoders = {}
    for entity in entities():
        path = entity.schema_path("raw")
        subj = subject(prefix + entity.topic("raw"))
        encoders[entity.topic("raw")] = AvroEncoder(
            registry.register(subj, load_schema_text(path)), load_schema(path)
        )
    return encoders


class _Delivery:
    """Delivery callback state: counts, and failed events queued for another try."""

    def __init__(self, stats: ProduceStats, max_retries: int) -> None:
        self.stats = stats
        self.max_retries = max_retries
        self.retry: list[tuple[str, bytes, bytes, int]] = []
        self._lock = threading.Lock()
        self._published = 0

    def callback(self, attempt: int) -> Callable[[KafkaError | None, Message], None]:
        # Runs once per message on the hot path (inside poll/flush, in this thread):
        # the success branch only counts; metrics are published in bulk by sync_metrics,
        # and one delivery in LATENCY_SAMPLE is timed.
        stats = self.stats

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                stats.delivered += 1
                if not stats.delivered % LATENCY_SAMPLE:
                    latency = msg.latency()
                    if latency is not None:
                        metrics.DELIVERY_LATENCY.observe(latency)
                return
            topic = msg.topic() or "?"
            again = attempt < self.max_retries and not err.fatal()
            metrics.DELIVERY_ERRORS.labels(topic, str(again).lower()).inc()
            if again:
                with self._lock:
                    self.retry.append((topic, msg.key() or b"", msg.value() or b"", attempt + 1))
            else:
                self.stats.failed += 1

        return on_delivery

    def sync_metrics(self) -> None:
        metrics.DELIVERED.inc(self.stats.delivered - self._published)
        self._published = self.stats.delivered

    def take_retries(self) -> list[tuple[str, bytes, bytes, int]]:
        with self._lock:
            batch, self.retry = self.retry, []
        return batch


def _produce(
    producer: Producer,
    topic: str,
    key: bytes,
    value: bytes,
    on_delivery: Callable[[KafkaError | None, Message], None],
) -> None:
    while True:
        try:
            producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
            return
        except BufferError:
            producer.poll(0.05)  # local queue full: let deliveries drain, never drop


def _paced(events: Iterator[SimEvent], rate: float | None) -> Iterator[SimEvent]:
    if rate is None:
        yield from events
        return
    interval = 1.0 / rate
    next_at = time.monotonic()
    for ev in events:
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        next_at += interval
        yield ev


def run(
    settings: OrionSettings,
    sim: SimulationConfig,
    options: ProduceOptions,
    stop: threading.Event,
    on_progress: Callable[[ProduceStats], None] | None = None,
) -> ProduceStats:
    """Send simulated events until the budget is spent or ``stop`` is set; flush; return counts."""
    stats = ProduceStats()
    producer = Producer(producer_config(settings))
    prefix = settings.topic_prefix
    check_broker(producer, settings.kafka_client_config(), prefix)
    with Registry.of(settings) as registry:
        encoders = build_encoders(registry, prefix)
    delivery = _Delivery(stats, options.max_retries)
    first_try = delivery.callback(0)
    ledger = LedgerWriter(options.ledger) if options.ledger else None
    started = time.monotonic()
    deadline = started + options.duration_s if options.duration_s else None
    event_counters: dict[tuple[str, str], Any] = {}
    try:
        for ev in _paced(simulate(sim), options.rate):
            if stop.is_set() or (options.events is not None and stats.sent >= options.events):
                break
            value = ev.poison if ev.poison is not None else encoders[ev.topic](ev.value or {})
            _produce(producer, prefix + ev.topic, ev.key.encode(), value, first_try)
            if ledger is not None:
                ledger.write(ev.ledger)
            stats.sent += 1
            stats.bytes += len(value) + len(ev.key)
            stats.by_topic[ev.topic] += 1
            defect = ",".join(ev.ledger.defects) or "none"
            stats.by_defect[defect] += 1
            child = event_counters.get((ev.topic, defect))
            if child is None:
                child = event_counters[(ev.topic, defect)] = metrics.EVENTS.labels(ev.topic, defect)
            child.inc()
            if stats.sent % 1000 == 0:
                producer.poll(0)
                _resend(producer, delivery, stats)
                delivery.sync_metrics()
                if deadline is not None and time.monotonic() >= deadline:
                    break
                if on_progress is not None:
                    on_progress(stats)
        _drain(producer, delivery, stats)
        delivery.sync_metrics()
    finally:
        if ledger is not None:
            ledger.close()
        stats.elapsed_s = time.monotonic() - started
    return stats


def _resend(producer: Producer, delivery: _Delivery, stats: ProduceStats) -> None:
    for topic, key, value, attempt in delivery.take_retries():
        stats.retried += 1
        _produce(producer, topic, key, value, delivery.callback(attempt))


def _drain(producer: Producer, delivery: _Delivery, stats: ProduceStats) -> None:
    """Flush, producing failed deliveries again until none are left or time is up."""
    deadline = time.monotonic() + FLUSH_TIMEOUT_S
    while True:
        remaining = producer.flush(max(0.1, deadline - time.monotonic()))
        _resend(producer, delivery, stats)
        if (remaining == 0 and not len(producer)) or time.monotonic() >= deadline:
            break
    stats.failed += len(producer)  # still undelivered when time ran out: counted, not hidden
