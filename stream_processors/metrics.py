"""Prometheus metrics of the stream processors (``orion_processor_*``).

Served by the ``orion process`` command through :func:`orionctl.cli.service.service`.
Every per-record counter's ``topic`` label is the raw topic the record was read
from (under the topic prefix), so rates of different counters divide by topic
(the dead-letter-rate alert does).
Counts of a transaction go through a :class:`Tally` and reach the metrics only
when it commits, so an aborted and retried batch is not counted twice.
"""

from __future__ import annotations

from collections import Counter as Counts
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

EVENTS_IN = Counter("orion_processor_events_in_total", "Raw records consumed", ["topic"])
CLEAN = Counter("orion_processor_clean_total", "Records published to clean topics", ["topic"])
REPAIRED = Counter("orion_processor_repaired_total", "Repairs applied, per rule", ["topic", "rule"])
REJECTED = Counter(
    "orion_processor_rejected_total", "Records dead-lettered, per reason", ["topic", "reason"]
)
DUPLICATES = Counter(
    "orion_processor_duplicates_total",
    "Duplicates dropped (kind exact, business, or rejected: a re-send of a dead-lettered event)",
    ["topic", "kind"],
)
PARKED = Gauge("orion_processor_parked", "Facts waiting for their master data")
OLDEST_PARKED = Gauge(
    "orion_processor_oldest_parked_seconds", "How long the longest-waiting parked fact has waited"
)
PARKED_SECONDS = Histogram(
    "orion_processor_parked_seconds",
    "How long a fact waited for its master data before it was decided",
    buckets=(0.1, 0.5, 1, 2, 5, 6, 7, 10, 20, 30, 60, 120, 300, 900),
)
LATENCY = Histogram(
    "orion_processor_latency_seconds",
    "Raw record's Kafka timestamp to its output handed to the producer (1 output in 16)",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
LAG = Gauge(
    "orion_processor_consumer_lag",
    "High-water mark minus the group's committed offset",
    ["topic", "partition"],
)
RETRIES = Counter(
    "orion_processor_retries_total", "Transient failures retried (registry, broker)", ["what"]
)
STALLED = Gauge(
    "orion_processor_stalled_seconds",
    "How long the worker has been in one phase other than waiting for records (0: moving)",
)
TRANSACTIONS = Counter(
    "orion_processor_transactions_total", "Kafka transactions, by outcome", ["outcome"]
)
BATCH_RECORDS = Histogram(
    "orion_processor_batch_records",
    "Raw records per committed transaction",
    buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000, 20000),
)
COMMIT_SECONDS = Histogram(
    "orion_processor_commit_seconds",
    "Time to send offsets and commit one transaction",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30),
)
RESTORE_SECONDS = Histogram(
    "orion_processor_restore_seconds",
    "Time to rebuild one partition's state from its changelogs after an assignment",
    buckets=(0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
RESTORED_RECORDS = Counter(
    "orion_processor_restored_records_total", "Changelog records read back to rebuild state"
)
REFERENCE_IDS = Gauge(
    "orion_processor_reference_ids", "Master and referent ids held by the reference index"
)
ASSIGNED = Gauge("orion_processor_assigned_partitions", "Partition numbers this worker owns")


class Tally:
    """Counter increments and histogram observations held until the transaction commits."""

    def __init__(self) -> None:
        self._counts: Counts[tuple[Any, ...]] = Counts()
        self._observed: list[tuple[Histogram, float]] = []

    def count(self, metric: Counter, *labels: str) -> None:
        self._counts[(metric, *labels)] += 1

    def observe(self, metric: Histogram, value: float) -> None:
        self._observed.append((metric, max(value, 0.0)))

    def apply(self) -> None:
        for (metric, *labels), n in self._counts.items():
            metric.labels(*labels).inc(n)
        for hist, value in self._observed:
            hist.observe(value)
        self.drop()

    def drop(self) -> None:
        self._counts.clear()
        self._observed.clear()
