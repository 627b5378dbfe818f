"""The silver sink's Prometheus metrics (``orion_silver_sink_*``), in the default registry.

Named like the bronze sink's (:mod:`sinks.s3.metrics`) so dashboards and
alerts read the same; the runner's ``orion_sink_last_commit_timestamp_seconds``
(label ``sink="silver"``) covers commits.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from sinks.base.storage import StorageCounters

ROWS = Counter("orion_silver_sink_rows", "clean records written to silver Parquet", ["topic"])
SKIPPED = Counter(
    "orion_silver_sink_skipped",
    "clean records that hold no row; reason tombstone|undecodable",
    ["topic", "reason"],
)
OBJECTS = Counter("orion_silver_sink_objects", "Parquet objects written to S3", ["topic"])
BYTES = Counter("orion_silver_sink_bytes", "bytes of Parquet objects written to S3", ["topic"])
FLUSH_SECONDS = Histogram(
    "orion_silver_sink_flush_seconds",
    "time to decode, encode and store one partition's batch",
    ["topic"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
CONFLICTS = Counter(
    "orion_silver_sink_conflicts",
    "conditional puts refused because the object existed; outcome identical|mismatch",
    ["topic", "outcome"],
)
S3_ERRORS = Counter("orion_silver_sink_s3_errors", "failed S3 calls", ["operation"])
S3_RETRIES = Counter(
    "orion_silver_sink_s3_retries", "S3 calls tried again after a failure", ["operation"]
)
BACKOFFS = Counter(
    "orion_silver_sink_backoffs",
    "partitions paused because S3 or the registry failed a batch",
    ["topic"],
)
LAG = Gauge(
    "orion_silver_sink_consumer_lag",
    "records in Kafka not yet written to silver",
    ["topic", "partition"],
)
STORAGE = StorageCounters(errors=S3_ERRORS, retries=S3_RETRIES)
