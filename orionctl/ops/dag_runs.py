"""When each scheduled DAG last succeeded: recorded by its last task, served to Prometheus.

A DAG's final task calls ``orion dags record-success DAG --logical-date D``,
which upserts ``metadata.dag_success`` (migration 0009); a run for an older
logical date never moves the record back. The DAG exporter (``orion dags
last-success --serve``, a stack service with ``--with airflow``) reads the
table on each scrape and serves ``orion_dag_last_success_timestamp_seconds``,
so the alert "not succeeded for 2 days" needs neither Airflow nor its
metadata database to be up, and survives restarts of both.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg2
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from orion.exceptions import OrionError

# Imported here, not in collect(): importing it registers the warehouse's metrics,
# which would deadlock under the registry's lock during a scrape.
from sinks.warehouse.db import connect

log = logging.getLogger("orion.dags")


@dataclass(frozen=True)
class DagSuccess:
    dag_id: str
    logical_date: dt.datetime
    succeeded_at: dt.datetime


def record_success(dsn: str, dag_id: str, logical_date: dt.datetime) -> DagSuccess:
    """Upsert the DAG's last success (now), for ``logical_date``."""
    conn = connect(dsn, application="orion-dags")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO metadata.dag_success AS d (dag_id, logical_date, succeeded_at) "
                "VALUES (%s, %s, now()) ON CONFLICT (dag_id) DO UPDATE "
                "SET logical_date = greatest(d.logical_date, excluded.logical_date), "
                "succeeded_at = excluded.succeeded_at "
                "RETURNING dag_id, logical_date, succeeded_at",
                (dag_id, logical_date),
            )
            row = cur.fetchone()
        conn.commit()
    finally:
        conn.close()
    assert row is not None
    return DagSuccess(row[0], row[1], row[2])


def last_successes(dsn: str) -> list[DagSuccess]:
    conn = connect(dsn, application="orion-dags", timeout_s=5)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT dag_id, logical_date, succeeded_at FROM metadata.dag_success ORDER BY 1"
            )
            rows = cur.fetchall()
    finally:
        conn.close()
    return [DagSuccess(r[0], r[1], r[2]) for r in rows]


class DagSuccessCollector(Collector):
    """``orion_dag_last_success_timestamp_seconds{dag}`` read from the table on each scrape."""

    def __init__(self, dsn: str, cache_s: float = 5.0) -> None:
        self.dsn = dsn
        self.cache_s = cache_s
        self._at = 0.0
        self._rows: list[DagSuccess] = []
        self._ok = False

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The families without reading the table (registration must not need the database)."""
        yield from self._families([])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if time.monotonic() - self._at > self.cache_s:
            try:
                self._rows, self._ok = last_successes(self.dsn), True
            except (OrionError, psycopg2.Error) as e:  # not migrated yet, or down
                log.warning("DAG successes not read", extra={"error": str(e)})
                self._ok = False
            self._at = time.monotonic()
        yield from self._families(self._rows, ok=self._ok)

    @staticmethod
    def _families(rows: list[DagSuccess], ok: bool = False) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "orion_dag_last_success_timestamp_seconds",
            "When the DAG's last successful run finished (Unix time)",
            labels=["dag"],
        )
        for r in rows:
            gauge.add_metric([r.dag_id], r.succeeded_at.timestamp())
        yield gauge
        up = GaugeMetricFamily(
            "orion_dag_exporter_up", "1 when the last read of metadata.dag_success worked"
        )
        up.add_metric([], 1.0 if ok else 0.0)
        yield up
