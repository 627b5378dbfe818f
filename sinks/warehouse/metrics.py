"""Prometheus metrics of the warehouse loader (``orion_warehouse_*``).

Defined once per process in prometheus-client's default registry, which the
service endpoint (:func:`orionctl.cli.service.service`) serves on /metrics.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "BATCHES",
    "BATCH_RECORDS",
    "BATCH_SECONDS",
    "E2E_LATENCY",
    "ERRORS",
    "INFERRED",
    "LAG",
    "RECORDS",
    "REJECTED",
    "ROWS",
]

ROWS = Counter(
    "orion_warehouse_rows_loaded_total",
    "Rows inserted or updated in the warehouse, per table",
    ["table"],
)
RECORDS = Counter(
    "orion_warehouse_records_total", "Clean records consumed and committed, per topic", ["topic"]
)
BATCHES = Counter("orion_warehouse_batches_total", "Batches committed")
BATCH_RECORDS = Histogram(
    "orion_warehouse_batch_records",
    "Records per committed batch",
    buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 20000),
)
BATCH_SECONDS = Histogram(
    "orion_warehouse_batch_seconds",
    "Seconds from a batch's first record to its commit",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
E2E_LATENCY = Histogram(
    "orion_warehouse_e2e_latency_seconds",
    "Seconds from the producer handing an event to Kafka (the raw record's timestamp) to the "
    "commit of its warehouse rows, per entity; a replay's records show their age",
    ["entity"],
    buckets=(0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300),
)
ERRORS = Counter(
    "orion_warehouse_errors_total",
    "Errors by kind: decode, constraint, connection, kafka",
    ["kind"],
)
REJECTED = Counter(
    "orion_warehouse_rejected_records_total",
    "Records stored in metadata.rejected_records instead of the warehouse, per topic",
    ["topic"],
)
INFERRED = Counter(
    "orion_warehouse_inferred_members_total",
    "Inferred dimension members created for facts that arrived before their master record",
    ["dimension"],
)
LAG = Gauge(
    "orion_warehouse_consumer_lag",
    "Records in the partition not yet committed to the warehouse",
    ["topic", "partition"],
)
