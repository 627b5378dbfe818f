"""Prometheus metrics of the file ingester (orion_ingest_*)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FILES = Counter(
    "orion_ingest_files_total",
    "Landing files decided, by entity and verdict (processed, rejected) and reason.",
    ["entity", "verdict", "reason"],
)
ROWS = Counter(
    "orion_ingest_rows_total",
    "Data rows read from landing files, by entity and outcome (published, error).",
    ["entity", "outcome"],
)
UNKNOWN_COLUMNS = Counter(
    "orion_ingest_unknown_columns_total",
    "Columns of landing files that name no field of their entity (ignored).",
    ["entity"],
)
BYTES = Counter("orion_ingest_bytes_total", "Bytes of landing files read.", ["entity"])
FAILURES = Counter(
    "orion_ingest_failures_total",
    "Files left in the landing zone to try again, by cause (s3, kafka).",
    ["cause"],
)
FILE_SECONDS = Histogram(
    "orion_ingest_file_seconds",
    "Time to read, publish and move one landing file.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
PENDING = Gauge("orion_ingest_pending_files", "Files in the landing zone at the last look.")
LAST_PASS = Gauge(
    "orion_ingest_last_pass_timestamp_seconds",
    "When the ingester last finished a look at the landing zone (Unix time).",
)
