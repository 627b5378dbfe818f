"""One producer worker process of ``orion produce --workers N``: encode, send, format the ledger.

Who runs it: :class:`producers.workers.WorkerPool` starts :func:`worker_main`
in a spawned process per worker. It receives chunks of the stream's events
(those :func:`producers.split.worker_of` gives it), encodes them as Avro in
the Confluent wire format, hands them to its own idempotent producer at
once (so a record's Kafka timestamp is the moment it was handed over), and
answers each chunk with its ledger lines and what its delivery callbacks
counted since the last answer. ``None`` means stop: it flushes, answers
with its last counts and exits. It ignores SIGINT and SIGTERM: the
simulating process decides when to stop, and a stop must flush, not kill.
If the simulating process goes away, the pipe closes and the worker flushes
and exits the same way.
"""

from __future__ import annotations

import contextlib
import signal
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from confluent_kafka import Producer

from orion.catalog import entities, load_schema
from orion.serde import AvroEncoder
from producers.delivery import Delivery, DeliveryCounts, drain, produce, resend
from producers.split import WireEvent, ledger_lines

__all__ = ["Report", "WorkerSpec", "worker_main"]

IDLE_POLL_S = 0.05
"""How often an idle worker serves its delivery callbacks while waiting for a chunk."""


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs, picklable: the producer's settings and the registry's schema ids."""

    producer_config: dict[str, Any]
    schema_ids: dict[str, int]  # unprefixed raw topic -> registered schema id
    prefix: str
    max_retries: int
    ledger: bool


@dataclass
class Report:
    """A worker's counts since its previous report."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    bytes: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[tuple[str, bool]] = field(default_factory=Counter)


class _Collector:
    """Delivery counts and metric observations, handed over as one :class:`Report` at a time."""

    def __init__(self) -> None:
        self.counts = DeliveryCounts()
        self.latencies: list[float] = []
        self.errors: Counter[tuple[str, bool]] = Counter()
        self._reported = DeliveryCounts()

    def count_error(self, topic: str, again: bool) -> None:
        self.errors[(topic, again)] += 1

    def report(self, sent_bytes: int) -> Report:
        c, r = self.counts, self._reported
        out = Report(
            c.delivered - r.delivered,
            c.retried - r.retried,
            c.failed - r.failed,
            sent_bytes,
            self.latencies,
            self.errors,
        )
        self._reported = DeliveryCounts(c.delivered, c.retried, c.failed)
        self.latencies, self.errors = [], Counter()
        return out


def _encoders(schema_ids: dict[str, int]) -> dict[str, AvroEncoder]:
    return {
        e.topic("raw"): AvroEncoder(schema_ids[e.topic("raw")], load_schema(e.schema_path("raw")))
        for e in entities()
    }


def worker_main(conn: Connection, spec: WorkerSpec) -> None:
    """The worker's life: answer chunks until told to stop or the pipe closes; then flush."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        producer = Producer(spec.producer_config)
        encoders = _encoders(spec.schema_ids)
    except Exception as e:
        conn.send(("failed", f"{type(e).__name__}: {e}"))
        return
    collector = _Collector()
    delivery = Delivery(
        collector.counts,
        spec.max_retries,
        observe_latency=collector.latencies.append,
        count_error=collector.count_error,
    )
    first_try = delivery.callback(0)
    prefix = spec.prefix
    conn.send(("ready", None))
    while True:
        while not conn.poll(IDLE_POLL_S):
            producer.poll(0)
            resend(producer, delivery)
        try:
            msg: tuple[int, list[WireEvent]] | None = conn.recv()
        except EOFError:
            msg = None
        if msg is None:
            break
        chunk_no, events = msg
        sent_bytes = 0
        for topic, key, value, poison, _ in events:
            data = poison if poison is not None else encoders[topic](value or {})
            kb = key.encode()
            produce(producer, prefix + topic, kb, data, first_try)
            sent_bytes += len(data) + len(kb)
        producer.poll(0)
        resend(producer, delivery)
        lines = "\n".join(ledger_lines(events)) if spec.ledger else None
        conn.send(("chunk", (chunk_no, lines, collector.report(sent_bytes))))
    drain(producer, delivery)
    with contextlib.suppress(BrokenPipeError, OSError):  # the parent is gone: no one to tell
        conn.send(("final", collector.report(0)))
