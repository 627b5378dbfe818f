"""Metrics every sink exports the same way, so one alert rule covers them all."""

from __future__ import annotations

from prometheus_client import Gauge

LAST_COMMIT = Gauge(
    "orion_sink_last_commit_timestamp_seconds",
    "Unix time the sink last had everything durable: its last offset commit, or a lag check "
    "that found it caught up (nothing buffered or paused, every partition at most one offset, "
    "a transaction marker, from the end).",
    ["sink"],
)
"""Why caught up counts: an idle sink commits nothing, and ``OrionSinkNotCommitting`` fired
(critical) on every quiet stream, e.g. in the chaos drill's drain, 2026-12-02."""
