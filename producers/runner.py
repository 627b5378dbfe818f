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

from confluent_kafka import Producer

from orion.catalog import entities, load_schema, load_schema_text, subject
from orion.exceptions import ConfigurationError
from orion.kafka_config import KafkaConfig, bootstrap_of
from orion.registry import Registry
from orion.serde import AvroEncoder
from orion.settings import OrionSettings
from orion.topics import existing_topics
from producers import metrics
from producers.delivery import Delivery, DeliveryCounts, drain, produce, resend
from producers.ledger import LedgerWriter
from producers.simulation import SimEvent, SimulationConfig, simulate


@dataclass(frozen=True)
class ProduceOptions:
    """How much to send and how fast."""

    events: int | None = None  # stop after this many events
    duration_s: float | None = None  # or after this many seconds
    rate: float | None = None  # events per second; None = as fast as possible
    ledger: Path | None = None
    max_retries: int = 3
    workers: int = 1  # producer processes; 1 = simulate, encode and send in this process


@dataclass
class ProduceStats(DeliveryCounts):
    """What a run did (``delivered``, ``retried``, ``failed`` are the delivery callbacks')."""

    sent: int = 0
    bytes: int = 0
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
    """Send simulated events until the budget is spent or ``stop`` is set; flush; return counts.

    With ``options.workers`` > 1 the events are encoded and sent by that many
    worker processes (:mod:`producers.workers`); the events, the ledger and the
    counts are the same.
    """
    stats = ProduceStats()
    producer = Producer(producer_config(settings))
    prefix = settings.topic_prefix
    check_broker(producer, settings.kafka_client_config(), prefix)
    with Registry.of(settings) as registry:
        encoders = build_encoders(registry, prefix)
    if options.workers > 1:
        from producers.workers import run_workers

        del producer  # the workers have their own
        return run_workers(settings, encoders, sim, options, stop, on_progress)
    delivery = Delivery(stats, options.max_retries)
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
            produce(producer, prefix + ev.topic, ev.key.encode(), value, first_try)
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
                resend(producer, delivery)
                delivery.sync_metrics()
                if deadline is not None and time.monotonic() >= deadline:
                    break
                if on_progress is not None:
                    on_progress(stats)
        drain(producer, delivery)
        delivery.sync_metrics()
    finally:
        if ledger is not None:
            ledger.close()
        stats.elapsed_s = time.monotonic() - started
    return stats
