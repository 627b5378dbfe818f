"""Prometheus metrics of the producers (names follow Prometheus conventions)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS = Counter(
    "orion_producer_events_total",
    "Events handed to Kafka, by topic and defect kind (none for clean events).",
    ["topic", "defect"],
)
DELIVERED = Counter("orion_producer_delivered_total", "Events the broker acknowledged.")
DELIVERY_ERRORS = Counter(
    "orion_producer_delivery_errors_total",
    "Delivery attempts that failed, by topic and whether the event was retried.",
    ["topic", "retried"],
)
DELIVERY_LATENCY = Histogram(
    "orion_producer_delivery_latency_seconds",
    "Time from produce() to the broker's acknowledgement (one delivery in 64 sampled).",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
