"""Prometheus metrics of the stream processors (``orion_processor_*``).

Served by the ``orion process`` command through :func:`orion.cli.service.service`.
Children are cached by callers on hot paths: ``labels()`` costs a dict lookup and a lock.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_IN = Counter("orion_processor_events_in_total", "Raw records consumed", ["topic"])
CLEAN = Counter("orion_processor_clean_total", "Records published to clean topics", ["topic"])
REPAIRED = Counter("orion_processor_repaired_total", "Repairs applied, per rule", ["topic", "rule"])
REJECTED = Counter(
    "orion_processor_rejected_total", "Records dead-lettered, per reason", ["topic", "reason"]
)
DUPLICATES = Counter("orion_processor_duplicates_total", "Duplicates dropped", ["topic", "kind"])
PARKED = Gauge("orion_processor_parked", "Facts waiting for their master data")
LATENCY = Histogram(
    "orion_processor_latency_seconds",
    "Record timestamp to output handed to the producer",
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
