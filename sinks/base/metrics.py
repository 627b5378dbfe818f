"""Metrics every sink exports the same way, so one alert rule covers them all."""

from __future__ import annotations

from prometheus_client import Gauge

LAST_COMMIT = Gauge(
    "orion_sink_last_commit_timestamp_seconds",
    "Unix time of the sink's last successful offset commit (data durable up to there).",
    ["sink"],
)
