"""metrics.Tally: a transaction's counts and observations reach Prometheus only on apply()."""

from __future__ import annotations

import uuid

from prometheus_client import REGISTRY

from stream_processors import metrics
from stream_processors.metrics import Tally


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_counts_reach_the_counters_only_on_apply() -> None:
    topic = f"test.{uuid.uuid4().hex}"
    tally = Tally()
    tally.count(metrics.EVENTS_IN, topic)
    tally.count(metrics.EVENTS_IN, topic)
    tally.count(metrics.REJECTED, topic, "bad_vin")
    assert sample("orion_processor_events_in_total", topic=topic) is None
    tally.apply()
    assert sample("orion_processor_events_in_total", topic=topic) == 2.0
    assert sample("orion_processor_rejected_total", topic=topic, reason="bad_vin") == 1.0
    tally.apply()  # applied counts are gone from the tally
    assert sample("orion_processor_events_in_total", topic=topic) == 2.0


def test_drop_forgets_counts_and_observations() -> None:
    topic = f"test.{uuid.uuid4().hex}"
    before = sample("orion_processor_latency_seconds_count")
    tally = Tally()
    tally.count(metrics.CLEAN, topic)
    tally.observe(metrics.LATENCY, 1.0)
    tally.drop()
    tally.apply()
    assert sample("orion_processor_clean_total", topic=topic) is None
    assert sample("orion_processor_latency_seconds_count") == before


def test_observations_reach_the_histograms_on_apply() -> None:
    def now() -> tuple[float | None, ...]:
        return (sample("orion_processor_parked_seconds_count"),
                sample("orion_processor_parked_seconds_sum"),
                sample("orion_processor_parked_seconds_bucket", le="0.1"))  # fmt: skip

    before = now()
    tally = Tally()
    tally.observe(metrics.PARKED_SECONDS, 3.0)
    tally.observe(metrics.PARKED_SECONDS, -2.0)  # a clock step back counts as 0
    assert now() == before
    tally.apply()
    count, total, fastest = (v or 0.0 for v in before)
    assert now() == (count + 2, total + 3.0, fastest + 1)
