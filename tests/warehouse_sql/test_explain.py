"""The analytics views' main filters are served by indexes (EXPLAIN, sequential scans off).

The test database is small, so the planner would rightly scan whole tables;
with sequential scans disabled it must still find an index for each filter,
which is what matters once the tables are large.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import pytest

from orion.settings import OrionSettings
from tests.warehouse_sql.support import fresh_database, migrated

pytestmark = pytest.mark.integration

CASES = {
    "fact_sales_date": "SELECT * FROM analytics.top_dealers_this_quarter",
    "fact_inventory_latest": "SELECT * FROM analytics.stock_alerts",
    "dim_customer_one_current": "SELECT * FROM analytics.customer_activity",
    "fact_service_events_vin": "SELECT * FROM analytics.telemetry_anomalies_vs_maintenance",
    "fact_telemetry_y2025m04_vin_event_time_idx": (
        "SELECT * FROM warehouse.fact_telemetry WHERE vin = 'X' AND event_time >= '2025-04-02'"
    ),
    "fact_payments_status": "SELECT * FROM warehouse.fact_payments WHERE payment_status = 'FAILED'",
    "dim_date_fiscal": "SELECT * FROM warehouse.dim_date WHERE fiscal_year = 2026",
}


@pytest.fixture(scope="module")
def explain_db(settings: OrionSettings) -> Iterator[str]:
    with fresh_database(settings) as dsn:
        migrated(dsn)
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT warehouse.ensure_telemetry_partitions('2025-04-01', '2025-04-02')")
        conn.close()
        yield dsn


@pytest.mark.parametrize("index", sorted(CASES))
def test_the_main_filter_uses_an_index(explain_db: str, index: str) -> None:
    with psycopg2.connect(explain_db) as conn, conn.cursor() as cur:
        cur.execute("SET enable_seqscan = off")
        cur.execute("EXPLAIN " + CASES[index])
        plan = "\n".join(r[0] for r in cur.fetchall())
    conn.close()
    assert index in plan, plan
