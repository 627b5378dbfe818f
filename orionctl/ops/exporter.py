"""A Prometheus collector of every consumer group's lag, read from Kafka on each scrape.

A stopped sink exports nothing, so its own lag metric cannot tell anyone it
fell behind; this collector asks the broker (and the warehouse's offsets
table) instead, like Burrow or kafka-lag-exporter. Results are cached for a
few seconds so several scrapers do not multiply the load.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from orion.exceptions import OrionError
from orion.kafka_config import KafkaConfig
from orionctl.ops import offsets, sink_offsets

log = logging.getLogger("orion.lag")


def all_lag(
    kafka: KafkaConfig, dsn: str | None, prefix: str = ""
) -> list[offsets.PartitionOffsets]:
    """Lag of every Kafka consumer group and of every sink that keeps offsets in a table.

    With a topic ``prefix`` (``ORION_TOPIC_PREFIX``) only that namespace's: its
    groups carry the prefix too, and a table sink's rows are those of its topics;
    another run's stale groups on the same broker are not this one's lag.
    """
    names = [g for g in offsets.groups(kafka) if g.startswith(prefix)]
    rows = [row for g in names for row in offsets.lag(kafka, g)]
    if dsn:
        for sink, stored in sink_offsets.read(dsn).items():
            committed = {tp: o for tp, o in stored.items() if tp[0].startswith(prefix)}
            ends = offsets.list_offsets(kafka, sorted(committed), offsets.LATEST)
            rows += [
                offsets.PartitionOffsets(sink_offsets.GROUP_PREFIX + sink, t, p, o, ends[(t, p)])
                for (t, p), o in sorted(committed.items())
            ]
    return rows


class LagCollector(Collector):
    def __init__(
        self, kafka: KafkaConfig, dsn: str | None, cache_s: float = 5.0, prefix: str = ""
    ) -> None:
        self.kafka = kafka
        self.dsn = dsn
        self.prefix = prefix
        self.cache_s = cache_s
        self._at = 0.0
        self._rows: list[offsets.PartitionOffsets] = []
        self._ok = False

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if time.monotonic() - self._at > self.cache_s:
            try:
                self._rows, self._ok = all_lag(self.kafka, self.dsn, self.prefix), True
            except OrionError as e:
                log.warning("lag not read", extra={"error": str(e)})
                self._ok = False
            self._at = time.monotonic()
        lag = GaugeMetricFamily(
            "orion_consumer_group_lag",
            "Records in the partition after the group's committed offset",
            labels=["group", "topic", "partition"],
        )
        for r in self._rows:
            lag.add_metric([r.group, r.topic, str(r.partition)], r.lag)
        yield lag
        yield GaugeMetricFamily(
            "orion_lag_exporter_up",
            "1 when the last read of lag worked",
            value=1 if self._ok else 0,
        )
