"""warehouse_maintenance: partitions ahead and past retention, VACUUM (ANALYZE), the SCD2 check.

Daily, after the night's loads. For logical date D: every partitioned
table's months from D's to ``months_ahead`` after it are created; months
before ``retention_months`` ago are detached, exported to S3 as Parquet,
checked row for row and only then dropped; the tables the loader churns are
vacuumed and analysed; and the run fails if an SCD2 key has two current rows.
Each step finds what an earlier run for the same D already did.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from orion_dags import default_args, orion, record_success


@dag(
    dag_id="warehouse_maintenance",
    schedule="0 3 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={
        "months_ahead": 2,
        "retention_months": 24,
        "export_to": "s3:///exports/warehouse",
    },
    default_args=default_args(timedelta(hours=1)),
    tags=["orion", "warehouse"],
    doc_md=__doc__,
)
def warehouse_maintenance() -> None:
    @task
    def ensure_partitions(logical_date: datetime | None = None, params: dict | None = None) -> str:
        assert logical_date is not None and params is not None
        return orion(
            "warehouse", "partitions", "ensure",
            "--at", logical_date.date().isoformat(),
            "--months-ahead", str(params["months_ahead"]),
        )  # fmt: skip

    @task
    def retire_partitions(logical_date: datetime | None = None, params: dict | None = None) -> str:
        assert logical_date is not None and params is not None
        return orion(
            "warehouse", "partitions", "retire",
            "--at", logical_date.date().isoformat(),
            "--older-than", str(params["retention_months"]),
            "--export-to", str(params["export_to"]),
        )  # fmt: skip

    @task
    def vacuum() -> str:
        return orion("warehouse", "vacuum")

    @task
    def check_scd2() -> str:
        return orion("warehouse", "check-scd2")

    @task
    def succeeded(logical_date: datetime | None = None) -> str:
        return record_success("warehouse_maintenance", logical_date)

    ensure_partitions() >> retire_partitions() >> vacuum() >> check_scd2() >> succeeded()


warehouse_maintenance()
