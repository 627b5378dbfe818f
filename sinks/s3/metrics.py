"""The sink's Prometheus metrics (``orion_s3_sink_*``), in the process's default registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from sinks.base.storage import StorageCounters

RECORDS = Counter("orion_s3_sink_records", "Kafka records archived to S3", ["topic"])
BYTES = Counter("orion_s3_sink_bytes", "bytes of objects written to S3", ["topic"])
OBJECTS = Counter("orion_s3_sink_objects", "objects written to S3", ["topic"])
FLUSH_SECONDS = Histogram(
    "orion_s3_sink_flush_seconds",
    "time to encode and store one batch",
    ["topic"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
CONFLICTS = Counter(
    "orion_s3_sink_conflicts",
    "conditional puts refused because the object existed; outcome identical|mismatch",
    ["topic", "outcome"],
)
S3_ERRORS = Counter("orion_s3_sink_s3_errors", "failed S3 calls", ["operation"])
S3_RETRIES = Counter(
    "orion_s3_sink_s3_retries", "S3 calls tried again after a failure", ["operation"]
)
BACKOFFS = Counter(
    "orion_s3_sink_backoffs", "partitions paused because S3 refused or failed a batch", ["topic"]
)
LAG = Gauge(
    "orion_s3_sink_consumer_lag", "records in Kafka not yet archived", ["topic", "partition"]
)
STORAGE = StorageCounters(errors=S3_ERRORS, retries=S3_RETRIES)
"""What the bronze sink's storage (and the archive tools', which work on bronze) counts into."""
