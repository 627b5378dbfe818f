"""Prometheus metrics of the dq sink (``orion_dq_*``).

Defined once per process in prometheus-client's default registry, which the
service endpoint serves on /metrics. The outcome counts themselves are in
PostgreSQL (``dq.outcomes``); these say whether the sink keeps up.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

__all__ = ["BATCHES", "DEAD_LETTERS", "ERRORS", "LAG", "RECORDS"]

RECORDS = Counter(
    "orion_dq_records_total", "Records counted and committed, per topic layer", ["layer"]
)
DEAD_LETTERS = Counter("orion_dq_dead_letters_total", "Dead letters stored in dq.dead_letters")
BATCHES = Counter("orion_dq_batches_total", "Batches committed")
ERRORS = Counter("orion_dq_errors_total", "Failed batch writes, per kind", ["kind"])
LAG = Gauge(
    "orion_dq_lag_records",
    "Records not yet counted, per topic and partition",
    ["topic", "partition"],
)
