"""The DAG exporter's families: registered without a database, one sample per DAG."""

from __future__ import annotations

import datetime as dt

from prometheus_client import CollectorRegistry, generate_latest

from orionctl.ops.dag_runs import DagSuccess, DagSuccessCollector


def test_registering_reads_nothing_and_an_unreadable_table_says_up_0() -> None:
    registry = CollectorRegistry()
    collector = DagSuccessCollector("postgresql://nobody:x@127.0.0.1:1/none")
    registry.register(collector)  # describe(): no connection attempt
    text = generate_latest(registry).decode()
    assert "orion_dag_exporter_up 0.0" in text
    assert "orion_dag_last_success_timestamp_seconds{" not in text


def test_each_dag_is_one_sample_of_its_success_time() -> None:
    at = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    rows = [DagSuccess("warehouse_backup", at, at)]
    families = list(DagSuccessCollector._families(rows, ok=True))
    (sample,) = families[0].samples
    assert sample.labels == {"dag": "warehouse_backup"} and sample.value == at.timestamp()
    assert families[1].samples[0].value == 1.0
